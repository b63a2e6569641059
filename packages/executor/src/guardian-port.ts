// The real @helm/guardian as the executor's GuardianPort. The guardian implements the port itself
// (`Guardian#asExecutorPort`): it evaluates an executor call with the egress destination taken from
// the call (derived by the executor from the pinned descriptor — a caller-supplied
// `context.destination` is discarded), commits/refunds reservations on its own budget ledger and
// consumes approval grants through its ceremonies. This function only names that wiring.
import type { Guardian } from '@helm/guardian';
import type { GuardianPort } from './governance.js';

export function guardianPort(guardian: Guardian): GuardianPort {
  return guardian.asExecutorPort();
}
