// The browser entry of @helm/evidencepack (package.json "exports" → "." → "browser"): the same
// modules as index.ts — the same verifier, replay, tar reader and writer, pack builder — over
// @helm/crypto's browser entry, with package.json "imports" `#evidencepack-platform` sending the
// verifier to browser-platform.ts (archive bytes in memory; no node:fs, no worker_threads, no
// Buffer). Not here: the file APIs (`verifyEvidencePackFile`, `writeEvidencePackFile`), which a
// bundler then refuses at build time instead of a page failing at run time. Receipt signatures
// are checked on the page's thread: `workers` is always 0. The console's tests keep this list
// equal to index.ts's minus those, build it for the browser with any Node built-in refused, and
// verify honest and tampered packs with it in Chromium, with Node's verdicts.
import { type VerifyOptions, type VerifyReport, verifyEvidencePack as verifyInMemory } from './verify.js';

export { EvidencePackError, type EvidencePackErrorCode } from './errors.js';
export {
  type BuiltPack,
  bindEntries,
  buildEvidencePack,
  ENTRIES_PATH,
  entriesRoot,
  envelopeBody,
  INDEX_PATH,
  INDEX_TYPE,
  MANIFEST_PATH,
  manifestEntries,
  type PackArtifact,
  type PackInput,
  type PackNode,
  packEntries,
  receiptHashOf,
  sealArchive,
  TRUST_SNAPSHOT_PATH,
} from './export.js';
export { type Divergence, type ReplayOptions, type ReplayResult, replayEvidencePack } from './replay.js';
export { evidencePackIndexSchema } from './schemas.js';
export { isSafePath, MAX_ENTRY_BYTES, readTar, sortPaths, type TarEntry, writeTar } from './tar.js';
export {
  CHECK_CODES,
  type Check,
  type CheckCode,
  type CheckStatus,
  type FreshnessPin,
  type FreshnessSource,
  formatReport,
  freshnessLine,
  parseTrustHeadPin,
  type TrustFreshness,
  type TrustHeadPin,
  type VerifyOptions,
  type VerifyReport,
  verifyEvidencePackSync,
} from './verify.js';

/**
 * Verify an EvidencePack's bytes offline, in the page: `verifyEvidencePack` of the Node entry with
 * `workers: 0` (a browser has no worker_threads; `workers` and `parallelThreshold` are ignored).
 * Never throws: every input gets a verdict.
 */
export function verifyEvidencePack(bytes: Uint8Array, options: VerifyOptions = {}): Promise<VerifyReport> {
  return verifyInMemory(bytes, { ...options, workers: 0 });
}
