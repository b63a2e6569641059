// Schema fragments several HELM schemas share, each spelled once.
import { DIGEST_PATTERN } from '../wire.js';

/** A `sha256:<64 lowercase hex>` digest string. */
export const DIGEST = { type: 'string', pattern: DIGEST_PATTERN } as const;

/** An integer ≥ `minimum` that every JSON consumer reads exactly (at most 2^53 − 1). */
export function safeInt<const M extends number>(minimum: M) {
  return { type: 'integer', minimum, maximum: 9007199254740991 } as const;
}

/** A non-negative safe integer (times in ms, counts, sizes). */
export const NAT = safeInt(0);
