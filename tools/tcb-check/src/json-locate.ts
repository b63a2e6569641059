import ts from 'typescript';

/**
 * 1-based line of the property at `path` inside a JSON text (parsed with the TypeScript JSON
 * parser so positions are exact), or of the deepest existing ancestor; 1 if nothing matches.
 */
export function jsonLine(text: string, path: readonly string[], lineOffset = 0): number {
  const sf = ts.parseJsonText('file.json', text);
  let node: ts.Node | undefined = sf.statements[0]?.expression;
  let pos = node ? node.getStart(sf) : 0;
  for (const key of path) {
    if (!node || !ts.isObjectLiteralExpression(node)) break;
    const prop = node.properties.find(
      (p): p is ts.PropertyAssignment =>
        ts.isPropertyAssignment(p) && ts.isStringLiteral(p.name) && p.name.text === key,
    );
    if (!prop) break;
    pos = prop.getStart(sf);
    node = prop.initializer;
  }
  return sf.getLineAndCharacterOfPosition(pos).line + 1 + lineOffset;
}
