// JSON convenience for tools that speak JSON over stdin/stdout.
import { canonicalBytes } from '@helm/crypto/jcs';
import { SandboxError } from './errors.js';

/** The guest's stdin for a JSON input: its RFC 8785 canonical bytes (so the random seed is stable). */
export function encodeJsonInput(value: unknown): Uint8Array {
  return canonicalBytes(value);
}

/** Parses a run's stdout as one UTF-8 JSON document; anything else is SANDBOX_OUTPUT_INVALID. */
export function decodeJsonOutput(stdout: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(stdout));
  } catch {
    throw new SandboxError('SANDBOX_OUTPUT_INVALID', 'stdout is not a UTF-8 JSON document');
  }
}
