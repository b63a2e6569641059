// The sandbox driver: runs a WASI preview1 module registered with @helm/runtime-sandbox. The tool's
// validated args are the guest's stdin (their JCS bytes) and its stdout must be one JSON document.
// The descriptor binds the module by `driver.ref` = the module's source digest (sha256 of the
// registered .wasm bytes); the per-tool timeout becomes the sandbox deadline. Sandbox failure codes
// map one to one onto receipt reason codes (ERR_COMPUTE_*, SANDBOX_*); anything unknown is
// DRIVER_ERROR.
import { isReasonCode, REASON_CODES } from '@helm/contracts/reason-codes';
import type { ToolDescriptor } from '@helm/contracts/tool';
import { decodeJsonOutput, encodeJsonInput, type ModuleHandle, type Sandbox } from '@helm/runtime-sandbox';
import { type Driver, DriverFailure } from './driver.js';

export interface SandboxDriverOptions {
  readonly sandbox: Sandbox;
  /** The registered module (from `sandbox.register`). */
  readonly module: ModuleHandle;
  /** Gas budget per call. */
  readonly gas: number;
  /** stdout + stderr cap per call, bytes. */
  readonly maxOutputBytes: number;
  /** Guest realtime clock start (Unix ms, default 0) — part of the call, so replayable. */
  readonly virtualTimeMs?: number;
}

/** The receipt reason code for a sandbox failure code. */
export function sandboxReasonCode(code: string | undefined): string {
  if (code !== undefined && isReasonCode(code) && REASON_CODES[code].verdict === 'DENY') return code;
  if (code?.startsWith('SANDBOX_TRAP')) return 'SANDBOX_TRAP';
  return 'DRIVER_ERROR';
}

export function sandboxDriver(options: SandboxDriverOptions): Driver {
  const { sandbox, module, gas, maxOutputBytes } = options;
  return {
    kind: 'sandbox',
    bind(descriptor: ToolDescriptor): void {
      if (descriptor.driver.ref !== module.source_digest) {
        throw new Error(
          `driver.ref ${descriptor.driver.ref} is not the module's source digest ${module.source_digest}`,
        );
      }
    },
    async invoke(args, context) {
      const result = await sandbox.run(module, encodeJsonInput(args), {
        gas,
        timeout_ms: context.descriptor.driver.timeout_ms,
        max_output_bytes: maxOutputBytes,
        ...(options.virtualTimeMs === undefined ? {} : { virtual_time_ms: options.virtualTimeMs }),
      });
      if (!result.ok) {
        throw new DriverFailure(
          sandboxReasonCode(result.code),
          `sandbox run failed: ${result.code ?? 'unknown'}`,
        );
      }
      try {
        return decodeJsonOutput(result.stdout);
      } catch {
        throw new DriverFailure('SANDBOX_OUTPUT_INVALID', 'the guest did not print one JSON document');
      }
    },
  };
}
