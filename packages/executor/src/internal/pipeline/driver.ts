// Step 10 of docs/spec/pipeline.md §Algorithm: the driver runs with only the validated args, under
// the per-tool timeout. From the moment it is invoked the effect may have happened: the state it
// returns, and every Stop after it, carries the mark `driver: 'invoked'` (FAILED and charged).
import { isDriverFailureCode, type ReasonCode } from '@helm/contracts/reason-codes';
import type { JsonValue } from '@helm/contracts/wire';
import { type DriverContext, DriverFailure } from '../../driver.js';
import type { RegisteredTool } from '../../registry.js';
import { describeThrown } from '../describe-error.js';
import { type Journaled, type PipelineContext, type Stop, stop } from './call.js';

const TIMED_OUT = Symbol('timed-out');

/** Journaled and past step 10: the driver was invoked and answered in time with `returned`. */
export interface DriverReturned extends Journaled {
  readonly driver: 'invoked';
  /** What the driver returned: untrusted until step 11–12 accept it. */
  readonly returned: unknown;
}

/** What a driver's throw is recorded as: its own code only when it is a driver-failure code. */
function driverFailureCode(error: unknown): ReasonCode {
  try {
    if (!(error instanceof DriverFailure)) return 'DRIVER_ERROR';
    // Read once: a getter or Proxy answering differently on a second read cannot choose the code.
    const code: unknown = error.code;
    return isDriverFailureCode(code) ? code : 'DRIVER_ERROR';
  } catch {
    // A Proxy whose traps throw, a throwing `code` getter: the driver still ran.
    return 'DRIVER_ERROR';
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

async function runDriver(
  ctx: PipelineContext,
  tool: RegisteredTool,
  args: JsonValue,
  context: Omit<DriverContext, 'signal'>,
): Promise<unknown> {
  // The abort controller is made only when a driver reads `signal` (or the timeout fires), and a
  // driver that answers synchronously needs no timer: nothing could interrupt it anyway.
  let controller: AbortController | undefined;
  const withSignal: DriverContext = {
    ...context,
    get signal(): AbortSignal {
      controller ??= new AbortController();
      return controller.signal;
    },
  };
  const pending: unknown = tool.driver.invoke(args, withSignal);
  if (!isThenable(pending)) return pending;
  let handle: unknown;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    handle = ctx.timer.setTimeout(() => {
      controller ??= new AbortController();
      controller.abort();
      resolve(TIMED_OUT);
    }, tool.descriptor.driver.timeout_ms);
  });
  try {
    return await Promise.race([pending, timeout]);
  } finally {
    ctx.timer.clearTimeout(handle);
  }
}

/** 10. Invoke the driver; a throw is DRIVER_ERROR or its driver-failure code, a timeout DRIVER_TIMEOUT. */
export async function invokeDriver(ctx: PipelineContext, state: Journaled): Promise<DriverReturned | Stop> {
  const started = { ...state, driver: 'invoked' as const };
  const { registered, prepared } = started;
  const context = {
    descriptor: registered.descriptor,
    effect: started.effect,
    decision_id: started.verified.decision_id,
  };
  let returned: unknown;
  try {
    returned = await runDriver(ctx, registered, prepared.value, context);
  } catch (error) {
    return stop(started, driverFailureCode(error), `the driver failed: ${describeThrown(error)}`);
  }
  if (returned === TIMED_OUT) {
    const timeoutMs = registered.descriptor.driver.timeout_ms;
    return stop(started, 'DRIVER_TIMEOUT', `the driver exceeded ${timeoutMs} ms`);
  }
  return { ...started, returned };
}
