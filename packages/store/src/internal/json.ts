// Every JSON value read back from the database is parsed strictly (no duplicate keys, no lone
// surrogates, RFC 8259 only): a data-directory writer who edits a row cannot smuggle in a value
// that a lenient parser would collapse into something else (I-INPUT-1, docs/threat-model.md).
import { parseStrictJson } from '@helm/crypto';
import { StoreError } from '../errors.js';

const LIMITS = { maxBytes: 1024 * 1024 * 1024, nullPrototype: false } as const;

export function readStoredJson<T>(text: string, what: string): T {
  try {
    return parseStrictJson(text, LIMITS) as T;
  } catch (error) {
    throw new StoreError('STORE_INVALID_RECORD', `${what} is not strict JSON: ${(error as Error).message}`);
  }
}
