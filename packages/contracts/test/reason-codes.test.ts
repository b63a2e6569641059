import { describe, expect, it } from 'vitest';
import {
  isReasonCode,
  REASON_CODE_LIST,
  REASON_CODE_MEANINGS,
  REASON_CODES,
  VERDICTS,
} from '../src/index.ts';

describe('reason-code registry', () => {
  it('maps every code to a known verdict and a one-line meaning', () => {
    for (const code of REASON_CODE_LIST) {
      expect(VERDICTS).toContain(REASON_CODES[code].verdict);
      const meaning: string = REASON_CODE_MEANINGS[code];
      expect(meaning).not.toMatch(/\n/);
      expect(meaning.length).toBeGreaterThan(10);
    }
    // the meanings table lists exactly the registry's codes, in the registry's order
    expect(Object.keys(REASON_CODE_MEANINGS)).toEqual(REASON_CODE_LIST);
  });

  it('recognises only registered codes', () => {
    expect(isReasonCode('POLICY_DENY')).toBe(true);
    expect(isReasonCode('toString')).toBe(false);
    expect(isReasonCode('__proto__')).toBe(false);
    expect(isReasonCode(42)).toBe(false);
  });
});
