// docs/spec/reason-codes.md and the registry must match exactly: same codes, verdicts, meanings.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DRIVER_FAILURE_CODES,
  isDriverFailureCode,
  isReasonCode,
  isVerdict,
  REASON_CODE_LIST,
  REASON_CODES,
  type ReasonCode,
  verdictOf,
} from '../src/index.ts';

const DOC = new URL('../../../docs/spec/reason-codes.md', import.meta.url);
const ROW = /^\| `([A-Z][A-Z0-9_]*)` \| (ALLOW|DENY|ESCALATE) \| (.+) \|$/;

function docRows(): { code: string; verdict: string; meaning: string }[] {
  return readFileSync(DOC, 'utf8')
    .split('\n')
    .map((line) => ROW.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ code: m[1] as string, verdict: m[2] as string, meaning: m[3] as string }));
}

describe('docs/spec/reason-codes.md', () => {
  const rows = docRows();

  it('lists every code exactly once', () => {
    const codes = rows.map((r) => r.code);
    expect(new Set(codes).size).toBe(codes.length);
    const missing = REASON_CODE_LIST.filter((c) => !codes.includes(c));
    const stale = codes.filter((c) => !(REASON_CODE_LIST as readonly string[]).includes(c));
    // a new code needs a row `| \`CODE\` | VERDICT | meaning |` in docs/spec/reason-codes.md
    expect(missing, 'codes missing from docs/spec/reason-codes.md').toEqual([]);
    expect(stale, 'rows in docs/spec/reason-codes.md that are not in the registry').toEqual([]);
  });

  it('gives each code the registry verdict (the meanings: apps/cli/test/reason-code-meanings.test.ts)', () => {
    for (const row of rows) {
      expect(isReasonCode(row.code), row.code).toBe(true);
      expect(row.verdict, row.code).toBe(REASON_CODES[row.code as ReasonCode].verdict);
    }
  });

  it('has exactly two ALLOW codes (the decision code and the replay receipt code) and an ESCALATE code', () => {
    expect(REASON_CODE_LIST.filter((c) => verdictOf(c) === 'ALLOW')).toEqual(['ALLOW', 'IDEMPOTENT_REPLAY']);
    expect(REASON_CODE_LIST.some((c) => verdictOf(c) === 'ESCALATE')).toBe(true);
    expect(verdictOf('INTERNAL_ERROR')).toBe('DENY');
  });
});

describe('isVerdict', () => {
  it('accepts exactly the three verdicts', () => {
    for (const v of ['ALLOW', 'DENY', 'ESCALATE']) expect(isVerdict(v)).toBe(true);
    expect(isVerdict('allow')).toBe(false);
    expect(isVerdict(undefined)).toBe(false);
  });
});

describe('DRIVER_FAILURE_CODES', () => {
  const DRIVER_SECTION = readFileSync(DOC, 'utf8').split('## Driver failures')[1] ?? '';

  it('are DENY codes of the registry and listed in the doc section', () => {
    for (const code of DRIVER_FAILURE_CODES) {
      expect(verdictOf(code), code).toBe('DENY');
      expect(DRIVER_SECTION, code).toContain(`\`${code}\``);
    }
    const listed = [...DRIVER_SECTION.split('Any other code')[0]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map(
      (m) => m[1],
    );
    expect(listed.filter((c) => c !== 'DRIVER_FAILURE_CODES').sort()).toEqual(
      [...DRIVER_FAILURE_CODES].sort(),
    );
  });

  it('exclude every gate, policy, approval, trust and catch-all code', () => {
    for (const code of REASON_CODE_LIST) {
      const driverish = /^(DRIVER_|SANDBOX_|ERR_COMPUTE_)/.test(code);
      expect(isDriverFailureCode(code), code).toBe(driverish);
    }
    for (const v of [null, undefined, 1, {}, 'toString', '__proto__', 'driver_error']) {
      expect(isDriverFailureCode(v)).toBe(false);
    }
  });
});
