// Steps 11–12 of docs/spec/pipeline.md §Algorithm: the driver's answer is JSON, then the pinned
// output schema accepts it. Nothing is released before both pass.
import type { JsonValue } from '@helm/contracts/wire';
import { canonicalDigest } from '@helm/crypto/digests';
import { canonicalize } from '@helm/crypto/jcs';
import { deepFreeze } from '../frozen.js';
import { type Executed, type Stop, stop, withEvidence } from './call.js';
import type { DriverReturned } from './driver.js';

/** 11–12. A fresh, deeply frozen JSON copy of the answer that the output schema accepts. */
export function checkOutput(state: DriverReturned): Executed | Stop {
  let output: JsonValue;
  try {
    // A fresh, deeply frozen copy: neither the driver nor whoever receives it can change what
    // was hashed, receipted and stored for repeats.
    output = deepFreeze(JSON.parse(canonicalize(state.returned)) as JsonValue);
  } catch {
    return stop(state, 'DRIVER_ERROR', 'the driver returned a value that is not JSON');
  }
  const check = state.registered.output.validate(output);
  if (!check.valid) {
    return stop(
      withEvidence(state, 'schema_errors', canonicalDigest(check.errors)),
      'ERR_CONNECTOR_CONTRACT_DRIFT',
      `${check.error_count} output schema violation(s)`,
      check.errors,
    );
  }
  return { ...state, output };
}
