// Type-checking documentation examples (TSDoc `@example` blocks, README blocks): each example is
// its own module, checked against the package sources under the repository's compiler options, so
// an example that drifts from the API it documents fails.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface Example {
  readonly where: string;
  readonly code: string;
}

/** `paths` for every workspace package entry point, from the `exports` maps (sources, not dist). */
function workspacePaths(): Record<string, string[]> {
  const paths: Record<string, string[]> = {};
  for (const dir of readdirSync(join(ROOT, 'packages'))) {
    let manifest: { name?: string; exports?: Record<string, unknown> };
    try {
      manifest = JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      const js = (target as { import?: unknown } | null)?.import;
      if (typeof js !== 'string' || !js.startsWith('./dist/')) continue;
      const source = js.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
      paths[`${manifest.name}${subpath.slice(1)}`] = [join(ROOT, 'packages', dir, source)];
    }
  }
  return paths;
}

export function typeCheck(examples: readonly Example[]): string[] {
  const base = ts.readConfigFile(join(ROOT, 'tsconfig.base.json'), ts.sys.readFile).config;
  const { options } = ts.convertCompilerOptionsFromJson(base.compilerOptions, ROOT);
  const compilerOptions: ts.CompilerOptions = {
    ...options,
    noEmit: true,
    composite: false,
    incremental: false,
    declaration: false,
    declarationMap: false,
    sourceMap: false,
    paths: workspacePaths(),
  };
  const virtual = new Map(examples.map((e, i) => [join(ROOT, `tsdoc-example-${i}.ts`), e]));
  const host = ts.createCompilerHost(compilerOptions);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, onError, create) => {
    const example = virtual.get(name);
    return example
      ? ts.createSourceFile(name, example.code, version, true)
      : getSourceFile(name, version, onError, create);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => virtual.has(name) || fileExists(name);
  const program = ts.createProgram([...virtual.keys()], compilerOptions, host);
  const problems: string[] = [];
  for (const [name, example] of virtual) {
    const sf = program.getSourceFile(name) as ts.SourceFile;
    for (const d of [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]) {
      const line = d.start === undefined ? 0 : sf.getLineAndCharacterOfPosition(d.start).line + 1;
      problems.push(
        `${example.where} (example line ${line}): ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
      );
    }
  }
  return problems;
}
