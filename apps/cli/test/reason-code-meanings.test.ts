// The meaning of every reason code that `helmts run` prints is the `meaning` column of
// docs/spec/reason-codes.md, word for word, for exactly the registry's codes in its order.
import { readFileSync } from 'node:fs';
import { REASON_CODE_LIST, type ReasonCode, verdictOf } from '@helm/contracts';
import { describe, expect, it } from 'vitest';
import { REASON_CODE_MEANINGS, reasonCodeInfo } from '../src/reason-code-meanings.ts';

const DOC = new URL('../../../docs/spec/reason-codes.md', import.meta.url);
const ROW = /^\| `([A-Z][A-Z0-9_]*)` \| (ALLOW|DENY|ESCALATE) \| (.+) \|$/;

describe('reason-code meanings', () => {
  it('list exactly the registry codes, in its order, one line each', () => {
    expect(Object.keys(REASON_CODE_MEANINGS)).toEqual(REASON_CODE_LIST);
    for (const code of REASON_CODE_LIST) {
      const meaning: string = REASON_CODE_MEANINGS[code];
      expect(meaning).not.toMatch(/\n/);
      expect(meaning.length).toBeGreaterThan(10);
    }
  });

  it('are the meaning column of docs/spec/reason-codes.md, with the registry verdict', () => {
    const rows = readFileSync(DOC, 'utf8')
      .split('\n')
      .map((line) => ROW.exec(line))
      .filter((m): m is RegExpExecArray => m !== null);
    expect(rows.map((m) => m[1])).toEqual(REASON_CODE_LIST);
    for (const [, code, verdict, meaning] of rows) {
      const info = reasonCodeInfo(code as ReasonCode);
      expect(info, code).toEqual({ verdict, meaning });
      expect(info.verdict).toBe(verdictOf(code as ReasonCode));
    }
  });
});
