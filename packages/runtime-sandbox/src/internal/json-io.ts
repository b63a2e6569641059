// JSON convenience for tools that speak JSON over stdin/stdout.
import { canonicalBytes } from '@helm/crypto/jcs';
import { SandboxError } from './errors.js';

/**
 * The guest's stdin for a JSON input: its RFC 8785 canonical bytes (so the random seed is stable).
 * A value JCS cannot encode (a non-finite number, a cycle, a function, …) is
 * SANDBOX_INVALID_ARGUMENT: the sandbox's API throws only its own error type.
 */
export function encodeJsonInput(value: unknown): Uint8Array {
  try {
    return canonicalBytes(value);
  } catch (e) {
    throw new SandboxError(
      'SANDBOX_INVALID_ARGUMENT',
      `input is not a JSON value: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/** Parses a run's stdout as one UTF-8 JSON document; anything else is SANDBOX_OUTPUT_INVALID. */
export function decodeJsonOutput(stdout: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(stdout));
  } catch {
    throw new SandboxError('SANDBOX_OUTPUT_INVALID', 'stdout is not a UTF-8 JSON document');
  }
}
