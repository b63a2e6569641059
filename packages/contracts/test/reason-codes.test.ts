import { describe, expect, it } from 'vitest';
import { isReasonCode, REASON_CODE_LIST, REASON_CODES, VERDICTS } from '../src/index.ts';

describe('reason-code registry', () => {
  it('maps every code to a known verdict', () => {
    for (const code of REASON_CODE_LIST) expect(VERDICTS).toContain(REASON_CODES[code].verdict);
  });

  it('recognises only registered codes', () => {
    expect(isReasonCode('POLICY_DENY')).toBe(true);
    expect(isReasonCode('toString')).toBe(false);
    expect(isReasonCode('__proto__')).toBe(false);
    expect(isReasonCode(42)).toBe(false);
  });
});
