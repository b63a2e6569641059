// The driver interface: how a tool body runs. Drivers sit outside the decision path: the executor
// calls one only after the guardian allowed the call, the PEP validated the arguments and the
// signed ALLOW decision (the AuthorizedExecutionIntent) verified, and it passes the driver nothing but the validated arguments
// and a read-only context. Whatever a driver returns is untrusted until the output schema accepts it.
import type { Effect } from '@helm/contracts/effect';
import type { ToolDescriptor } from '@helm/contracts/tool';
import type { JsonValue } from '@helm/contracts/wire';

export interface DriverContext {
  /** The pinned descriptor the call was admitted under. */
  readonly descriptor: ToolDescriptor;
  /** The effect the guardian authorized (its digest is bound by the ALLOW decision). */
  readonly effect: Effect;
  /** decision_id of the verified ALLOW decision that authorizes this execution. */
  readonly decision_id: string;
  /** Aborted when the per-tool timeout fires; long-running drivers should stop on it. */
  readonly signal: AbortSignal;
}

/**
 * A driver failure with a stable reason code (e.g. a sandbox trap or an egress refusal). Any other
 * thrown value is recorded as DRIVER_ERROR.
 */
export class DriverFailure extends Error {
  override readonly name = 'DriverFailure';
  declare readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    // An own, non-writable data property: what the executor reads is what was constructed.
    Object.defineProperty(this, 'code', { value: String(code), enumerable: true, writable: false });
  }
}

export interface Driver {
  /** Must equal the descriptor's `driver.kind`. */
  readonly kind: string;
  /**
   * Called once at registration (and at every re-pin) with the descriptor; throw to refuse a
   * binding the driver cannot honour (e.g. an HTTP endpoint outside the declared destination).
   */
  bind?(descriptor: ToolDescriptor): void;
  /**
   * The descriptor the tool currently advertises (for connectors whose tool list can change, such as
   * remote servers). Checked against the pinned digest before every call.
   */
  describe?(): ToolDescriptor | Promise<ToolDescriptor>;
  /** Run the tool body with the validated arguments. */
  invoke(args: JsonValue, context: DriverContext): unknown;
}
