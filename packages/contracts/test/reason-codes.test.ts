import { describe, expect, it } from 'vitest';
import { isReasonCode, REASON_CODE_LIST, REASON_CODES, VERDICTS } from '../src/index.ts';

describe('reason-code registry', () => {
  it('maps every code to a known verdict and a one-line meaning', () => {
    for (const code of REASON_CODE_LIST) {
      const info = REASON_CODES[code];
      expect(VERDICTS).toContain(info.verdict);
      expect(info.meaning).not.toMatch(/\n/);
      expect(info.meaning.length).toBeGreaterThan(10);
    }
  });

  it('recognises only registered codes', () => {
    expect(isReasonCode('POLICY_DENY')).toBe(true);
    expect(isReasonCode('toString')).toBe(false);
    expect(isReasonCode('__proto__')).toBe(false);
    expect(isReasonCode(42)).toBe(false);
  });
});
