import { describe, expect, it } from 'vitest';
import { TcbCheckError } from '../src/errors.ts';
import { extractPolicyBlock, parsePolicy } from '../src/policy.ts';

const doc = (json: string): string =>
  `# Policy\n\ntext\n\n\`\`\`json tcb-policy\n${json}\n\`\`\`\n\nmore text\n`;
const entry = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  internal: [],
  external: {},
  builtins: {},
  injectionPoints: [],
  ...over,
});
const policy = (packages: Record<string, unknown>, extra: Record<string, unknown> = {}): string =>
  doc(JSON.stringify({ coverageThreshold: 90, packages, ...extra }, null, 2));

function policyError(markdown: string): string {
  try {
    parsePolicy(markdown);
  } catch (error) {
    expect(error).toBeInstanceOf(TcbCheckError);
    expect((error as TcbCheckError).code).toBe('policy');
    return (error as Error).message;
  }
  throw new Error('expected a policy error');
}

describe('parsePolicy', () => {
  it('reads the block and where it starts', () => {
    const p = parsePolicy(policy({ crypto: entry({ internal: ['contracts'] }), contracts: entry() }));
    expect(p.coverageThreshold).toBe(90);
    expect(p.packages.crypto?.internal).toEqual(['contracts']);
    expect(p.source.lineOffset).toBe(5);
  });

  it('skips other fenced blocks, including ~~~ fences', () => {
    const md = `~~~json tcb-policy-example\n{}\n~~~\n\n\`\`\`\ncode\n\`\`\`\n${policy({ a: entry() })}`;
    expect(Object.keys(parsePolicy(md).packages)).toEqual(['a']);
  });

  it.each([
    ['no block', '# nothing here', 'found 0'],
    ['two blocks', policy({}) + policy({}), 'found 2'],
    ['unclosed block', '```json tcb-policy\n{}\n', 'not closed'],
    ['bad JSON', doc('{ nope'), 'not valid JSON'],
    ['not an object', doc('[]'), 'must be a JSON object'],
    ['unknown top-level key', policy({}, { extra: 1 }), 'unknown key "extra"'],
    ['threshold out of range', policy({}, { coverageThreshold: 120 }), 'coverageThreshold'],
    [
      'packages not an object',
      doc('{"coverageThreshold": 90, "packages": []}'),
      'packages: must be an object',
    ],
    ['bad package key', policy({ Bad: entry() }), 'invalid package key'],
    ['entry not an object', policy({ a: 1 }), 'must be an object'],
    [
      'missing key',
      policy({ a: { internal: [], external: {}, builtins: {} } }),
      'missing key "injectionPoints"',
    ],
    ['bad internal', policy({ a: entry({ internal: 'b' }) }), 'internal: must be an array'],
    ['bad external', policy({ a: entry({ external: [] }) }), 'external: must be an object'],
    ['external entry', policy({ a: entry({ external: { x: '1.0.0' } }) }), 'external.x: must be an object'],
    [
      'range version',
      policy({ a: entry({ external: { x: { version: '^1.0.0', why: 'y' } } }) }),
      'exact version',
    ],
    ['no why', policy({ a: entry({ external: { x: { version: '1.0.0', why: ' ' } } }) }), 'justification'],
    ['bad builtins', policy({ a: entry({ builtins: [] }) }), 'builtins: must be an object'],
    ['node: prefix', policy({ a: entry({ builtins: { 'node:fs': 'x' } }) }), 'is not a Node built-in'],
    ['not a builtin', policy({ a: entry({ builtins: { leftpad: 'x' } }) }), 'is not a Node built-in'],
    ['builtin without why', policy({ a: entry({ builtins: { fs: '' } }) }), 'justification'],
    ['bad injection point', policy({ a: entry({ injectionPoints: ['clock.ts'] }) }), 'injectionPoints'],
  ])('rejects %s', (_name, markdown, message) => {
    expect(policyError(markdown)).toContain(message);
  });

  it('accepts prerelease versions', () => {
    const p = parsePolicy(policy({ a: entry({ external: { x: { version: '1.0.0-rc.1', why: 'y' } } }) }));
    expect(p.packages.a?.external.x?.version).toBe('1.0.0-rc.1');
  });

  it('extractPolicyBlock returns the text between the fences', () => {
    expect(extractPolicyBlock(doc('{"a": 1}'))).toEqual({ text: '{"a": 1}', lineOffset: 5 });
  });
});
