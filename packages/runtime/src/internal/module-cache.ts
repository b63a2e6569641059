// Instrumented-module cache (docs/cli.md §Data directory): a sandbox tool's module is instrumented
// (gas metering, bulk-op charges, NaN canonicalization) once, at registration or the first open
// after the instrumenter changed, not at every `helmts run`. What runs from the cache is exactly what
// the instrumenter produced, because the cache is verified, not trusted:
//
// - the instrumented bytes are stored content-addressed (`modules/<id>.wasm`, id = their SHA-256);
// - a pin `helm.cli.instrumented_module.v1` {source_digest, id, max_memory_bytes, canonicalize_nan,
//   instrumenter} is stored as an envelope signed with the data directory's executor key
//   (`modules/<source>.instrumented.json`), so a data-directory writer who cannot read that key
//   cannot point a tool at unmetered code;
// - `instrumenter` fingerprints the sandbox's instrumentation code (SHA-256 over its compiled
//   modules), so a new HELM version re-instruments instead of running stale output;
// - the sandbox re-checks the bytes against the pin (`registerInstrumented`: digest, metering
//   exports, imports, memory cap) before anything runs.
//
// Any mismatch — missing, unsigned, foreign-signed or stale pin, edited bytes — is a cache miss: the
// module is instrumented again and the cache rewritten. A miss is never an error.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SignedEnvelope } from '@helm/contracts';
import { digest, openVerifiedEnvelope, parseStrictJson, type Signer, signEnvelope } from '@helm/crypto';
import type { ModuleHandle, Sandbox } from '@helm/runtime-sandbox';
import type { DataDir } from './datadir.js';

export const INSTRUMENTED_PIN_TYPE = 'helm.cli.instrumented_module.v1';

interface InstrumentedPin {
  readonly type: typeof INSTRUMENTED_PIN_TYPE;
  readonly source_digest: string;
  readonly id: string;
  readonly max_memory_bytes: number;
  readonly canonicalize_nan: boolean;
  readonly instrumenter: string;
}

let fingerprint: string | undefined;

/** SHA-256 over the sandbox's compiled internal modules (name and bytes), sorted by name. */
export function instrumenterFingerprint(): string {
  if (fingerprint !== undefined) return fingerprint;
  const entry = fileURLToPath(import.meta.resolve('@helm/runtime-sandbox'));
  const dir = join(dirname(entry), 'internal');
  const parts: string[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.js'))
    .sort()) {
    parts.push(`${name}:${digest(new Uint8Array(readFileSync(join(dir, name))))}`);
  }
  fingerprint = digest(new TextEncoder().encode(parts.join('\n')));
  return fingerprint;
}

export interface ModuleCacheStats {
  hits: number;
  misses: number;
}

function pinBody(handle: ModuleHandle): InstrumentedPin {
  return {
    type: INSTRUMENTED_PIN_TYPE,
    source_digest: handle.source_digest,
    id: handle.id,
    max_memory_bytes: handle.max_memory_bytes,
    canonicalize_nan: handle.canonicalize_nan,
    instrumenter: instrumenterFingerprint(),
  };
}

function readPin(data: DataDir, sourceHex: string, signer: Signer): InstrumentedPin | undefined {
  const text = data.instrumentedPin(sourceHex);
  if (text === undefined) return undefined;
  try {
    const envelope = parseStrictJson(text) as unknown as SignedEnvelope;
    const pin = openVerifiedEnvelope<InstrumentedPin & { readonly [k: string]: unknown }>(
      envelope,
      INSTRUMENTED_PIN_TYPE,
      (keyid) => (keyid === signer.keyId ? signer.publicKey : undefined),
    ).body;
    const wellFormed =
      pin.source_digest === `sha256:${sourceHex}` &&
      typeof pin.id === 'string' &&
      /^sha256:[0-9a-f]{64}$/.test(pin.id) &&
      Number.isSafeInteger(pin.max_memory_bytes) &&
      typeof pin.canonicalize_nan === 'boolean' &&
      pin.instrumenter === instrumenterFingerprint();
    return wellFormed ? pin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Register a core module through the verified cache: a hit re-registers the pinned instrumented
 * bytes; a miss instruments `source` and (re)writes the cache.
 */
export async function registerCached(
  sandbox: Sandbox,
  data: DataDir,
  source: Uint8Array,
  signer: Signer,
  stats: ModuleCacheStats,
): Promise<ModuleHandle> {
  const sourceHex = digest(source).slice('sha256:'.length);
  const pin = readPin(data, sourceHex, signer);
  if (pin !== undefined) {
    const bytes = data.module(pin.id.slice('sha256:'.length));
    if (bytes !== undefined) {
      try {
        const handle = await sandbox.registerInstrumented(bytes, {
          id: pin.id,
          source_digest: pin.source_digest,
          kind: 'wasi-preview1',
          max_memory_bytes: pin.max_memory_bytes,
          canonicalize_nan: pin.canonicalize_nan,
        });
        stats.hits += 1;
        return handle;
      } catch {
        // edited bytes or a pin the sandbox refuses: instrument again below
      }
    }
  }
  stats.misses += 1;
  const handle = await sandbox.register(source);
  try {
    data.writeModule(handle.id.slice('sha256:'.length), sandbox.instrumentedBytes(handle));
    data.writeInstrumentedPin(sourceHex, JSON.stringify(signEnvelope(pinBody(handle), [signer])));
  } catch {
    // A cache that cannot be written only means the next open instruments again.
  }
  return handle;
}
