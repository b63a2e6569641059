// verifyEnvelope checked against openVerifiedEnvelope on every call a test makes: the same answer,
// once as a result and once as a throw. Returns the result and, like the opener, throws its failure
// as a CryptoError, so a test written against either form checks both.
import { expect } from 'vitest';
import { CryptoError, type EnvelopeCheck, openVerifiedEnvelope, verifyEnvelope } from '../src/index.ts';

export function verifyBoth<T extends { readonly type: string }>(
  ...args: Parameters<typeof verifyEnvelope>
): Extract<EnvelopeCheck<T>, { ok: true }> {
  const check = verifyEnvelope<T>(...args);
  let thrown: CryptoError | undefined;
  let opened: unknown;
  try {
    opened = openVerifiedEnvelope<T>(...args);
  } catch (error) {
    if (!(error instanceof CryptoError)) throw error;
    thrown = error;
  }
  if (check.ok) {
    expect(thrown).toBeUndefined();
    const { ok: _ok, ...rest } = check;
    expect(opened).toStrictEqual(rest);
    return check;
  }
  expect(thrown?.code).toBe(check.code);
  expect(thrown?.message).toBe(check.message);
  throw new CryptoError(check.code, check.message);
}
