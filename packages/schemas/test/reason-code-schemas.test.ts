// The reason-code and verdict schemas accept exactly the registry's codes and the three verdicts
// (moved with the schemas from @helm/contracts' reason-codes-doc test, #23).
import { REASON_CODE_LIST } from '@helm/contracts';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { ReasonCodeSchema, VerdictSchema } from '../src/index.ts';

describe('reason code and verdict schemas', () => {
  const ajv = new Ajv2020({ strict: true });
  const validCode = ajv.compile(ReasonCodeSchema);
  const validVerdict = ajv.compile(VerdictSchema);

  it('accept exactly the registered codes and the three verdicts', () => {
    for (const code of REASON_CODE_LIST) expect(validCode(code)).toBe(true);
    expect(validCode('NOT_A_CODE')).toBe(false);
    expect(validCode('toString')).toBe(false);
    for (const v of ['ALLOW', 'DENY', 'ESCALATE']) expect(validVerdict(v)).toBe(true);
    expect(validVerdict('allow')).toBe(false);
  });
});
