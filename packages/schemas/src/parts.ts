// Schema fragments the schemas of this package share. The patterns are @helm/contracts' wire
// constants (the one spelling, `wire-pattern` rule); only these JSON wrappers are spelled here and
// in @helm/contracts' own schemas/parts.ts (which is internal to the TCB package).
import { DIGEST_PATTERN, KEY_ID_PATTERN } from '@helm/contracts';

/** A `sha256:<64 lowercase hex>` digest string. */
export const DIGEST = { type: 'string', pattern: DIGEST_PATTERN } as const;
/** A digest string or null. */
export const NULLABLE_DIGEST = { anyOf: [DIGEST, { type: 'null' }] } as const;
/** A key id `ed25519:<64 lowercase hex>`. */
export const KEY_ID = { type: 'string', pattern: KEY_ID_PATTERN } as const;

/** An integer ≥ `minimum` that every JSON consumer reads exactly (at most 2^53 − 1). */
export function safeInt<const M extends number>(minimum: M) {
  return { type: 'integer', minimum, maximum: 9007199254740991 } as const;
}

/** A non-negative safe integer (times in ms, counts, sizes). */
export const NAT = safeInt(0);
