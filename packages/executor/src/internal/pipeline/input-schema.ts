// Step 6 of docs/spec/pipeline.md §Algorithm, the PEP's second half: the pinned input schema.
import { canonicalDigest } from '@helm/crypto/digests';
import { type Evaluated, type Stop, stop, withEvidence } from './call.js';

/** 6. The canonical args satisfy the pinned input schema; else SCHEMA_VIOLATION with the details. */
export function checkInputSchema(state: Evaluated): Evaluated | Stop {
  const check = state.registered.input.validate(state.prepared.value);
  if (check.valid) return state;
  return stop(
    withEvidence(state, 'schema_errors', canonicalDigest(check.errors)),
    'SCHEMA_VIOLATION',
    `${check.error_count} schema violation(s)`,
    check.errors,
  );
}
