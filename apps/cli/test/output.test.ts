// What the CLI prints about errors, run results and re-execution divergences (in-process units of
// what the separate-process tests exercise end to end): hints only where the user can act, the
// internal-error hint only for internal errors; field-level diffs.
import { RuntimeError } from '@helm/runtime';
import { describe, expect, it } from 'vitest';
import { stageOf } from '../src/commands/run-output.ts';
import { formatDifference, jsonDiff } from '../src/diff.ts';
import { errorResult } from '../src/errors.ts';

const BUG = /looks like a bug/;

describe('errorResult: hints only for what the user can act on', () => {
  const hintOf = (r: ReturnType<typeof errorResult>) => (r.json as { error: { hint?: string } }).error.hint;

  it('a RuntimeError keeps its code and hint; only INTERNAL gets the bug hint', () => {
    const user = errorResult(new RuntimeError('DATA_DIR_MISSING', 'no data dir', 'run init'));
    expect(user.exitCode).toBe(2);
    expect(user.json).toEqual({
      ok: false,
      error: { code: 'DATA_DIR_MISSING', message: 'no data dir', hint: 'run init' },
    });
    expect(user.human).toEqual(['error: no data dir', 'hint: run init']);
    expect(hintOf(errorResult(new RuntimeError('TOOL_ALREADY_REGISTERED', 'x')))).toBeUndefined();
    expect(hintOf(errorResult(new RuntimeError('INTERNAL', 'impossible')))).toMatch(BUG);
  });

  it('a file-system error names the path, never "bug"', () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/x/pack.tar'"), {
      code: 'ENOENT',
      syscall: 'open',
      path: '/x/pack.tar',
    });
    const r = errorResult(enoent);
    expect(r.json).toMatchObject({ error: { code: 'FILE_NOT_FOUND', hint: 'check /x/pack.tar exists' } });
    const eacces = Object.assign(new Error('EACCES: permission denied'), {
      code: 'EACCES',
      syscall: 'open',
      path: '/srv/helm/helm.db',
    });
    const denied = errorResult(eacces);
    expect(denied.json).toMatchObject({ error: { code: 'IO_ERROR' } });
    expect(hintOf(denied)).toMatch(/permissions/);
    expect(hintOf(denied)).not.toMatch(BUG);
  });

  it("a HELM package's typed refusal keeps its code and says where it came from, without the bug hint", () => {
    class GuardianError extends Error {
      readonly code = 'POLICY_BUNDLE_INVALID';
      override readonly name = 'GuardianError';
    }
    const r = errorResult(new GuardianError('bundle signature by an unknown key'));
    expect(r.json).toEqual({
      ok: false,
      error: { code: 'POLICY_BUNDLE_INVALID', message: 'bundle signature by an unknown key (GuardianError)' },
    });
  });

  it('anything else is INTERNAL with the bug hint; HELM_DEBUG=1 adds the stack only then', () => {
    const r = errorResult(new TypeError('x is undefined'));
    expect(r.json).toMatchObject({ error: { code: 'INTERNAL', message: '(INTERNAL) x is undefined' } });
    expect(hintOf(r)).toMatch(BUG);
    const before = process.env.HELM_DEBUG;
    process.env.HELM_DEBUG = '1';
    try {
      expect(errorResult(new TypeError('boom')).human.join('\n')).toMatch(/TypeError: boom\n\s+at /);
      expect(errorResult(new RuntimeError('USAGE', 'bad flag')).human.join('\n')).not.toMatch(/\n\s+at /);
    } finally {
      if (before === undefined) delete process.env.HELM_DEBUG;
      else process.env.HELM_DEBUG = before;
    }
    expect(errorResult('a string').json).toMatchObject({
      error: { code: 'INTERNAL', message: '(INTERNAL) a string' },
    });
  });
});

describe('jsonDiff: field-level differences by JSON Pointer', () => {
  it('reports differing leaves, absent members and array elements, in key order', () => {
    const recorded = { status: 'SUCCEEDED', evidence: { ids: ['a', 'b'], 'x/y': 1 }, gone: true, same: 1 };
    const replayed = { status: 'DENIED', evidence: { ids: ['a', 'c', 'd'], 'x/y': 2 }, same: 1, added: null };
    expect(jsonDiff(recorded, replayed)).toEqual([
      { path: '/added', recorded: undefined, replayed: null },
      { path: '/evidence/ids/1', recorded: 'b', replayed: 'c' },
      { path: '/evidence/ids/2', recorded: undefined, replayed: 'd' },
      { path: '/evidence/x~1y', recorded: 1, replayed: 2 },
      { path: '/gone', recorded: true, replayed: undefined },
      { path: '/status', recorded: 'SUCCEEDED', replayed: 'DENIED' },
    ]);
    expect(jsonDiff({ a: 1 }, { a: 1 })).toEqual([]);
    expect(jsonDiff({ a: { b: 1 } }, null)).toEqual([
      { path: '', recorded: { a: { b: 1 } }, replayed: null },
    ]);
    expect(jsonDiff({ a: [1] }, { a: { 0: 1 } })).toEqual([
      { path: '/a', recorded: [1], replayed: { 0: 1 } },
    ]);
  });

  it('stops at the limit and formats values compactly', () => {
    const many = Object.fromEntries(
      Array.from({ length: 80 }, (_, i) => [`k${String(i).padStart(2, '0')}`, i]),
    );
    expect(jsonDiff(many, {}, 5)).toHaveLength(5);
    expect(formatDifference({ path: '/s', recorded: 'a', replayed: undefined })).toBe(
      '/s: recorded "a" → replayed (absent)',
    );
    expect(formatDifference({ path: '', recorded: 'x'.repeat(300), replayed: 1 })).toMatch(
      /^\(whole value\): recorded "x{116}\.\.\. → replayed 1$/,
    );
  });
});

describe('stageOf: the stage that decided a call', () => {
  const result = (fields: Record<string, unknown>) =>
    ({ decision: null, replayed: false, rule: null, ...fields }) as never;
  const decision = (body: Record<string, unknown>) => ({
    type: 'helm.decision.v1',
    payload: Buffer.from(JSON.stringify(body)).toString('base64url'),
    signatures: [],
  });

  it('guardian verdicts by decided_by; executor steps by code; driver failures; success', () => {
    expect(
      stageOf(
        result({
          status: 'DENIED',
          reason_code: 'GATE_EGRESS_DENIED',
          decision: decision({ verdict: 'DENY', decided_by: 'egress' }),
        }),
      ),
    ).toBe('guardian.egress');
    expect(
      stageOf(
        result({
          status: 'ESCALATED',
          reason_code: 'APPROVAL_REQUIRED',
          decision: decision({ verdict: 'ESCALATE', decided_by: 'approval' }),
        }),
      ),
    ).toBe('guardian.approval');
    const allow = decision({ verdict: 'ALLOW', decided_by: 'approval' });
    expect(stageOf(result({ status: 'SUCCEEDED', reason_code: 'ALLOW', decision: allow }))).toBe('released');
    expect(stageOf(result({ status: 'DENIED', reason_code: 'SCHEMA_VIOLATION', decision: allow }))).toBe(
      'pep.input_schema',
    );
    expect(stageOf(result({ status: 'FAILED', reason_code: 'DRIVER_TIMEOUT', decision: allow }))).toBe(
      'driver',
    );
    expect(
      stageOf(result({ status: 'FAILED', reason_code: 'ERR_CONNECTOR_CONTRACT_DRIFT', decision: allow })),
    ).toBe('output_schema');
    expect(stageOf(result({ status: 'DENIED', reason_code: 'SOMETHING_NEW' }))).toBe('executor');
  });
});
