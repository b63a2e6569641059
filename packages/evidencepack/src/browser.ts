// The browser entry of @helm/evidencepack (package.json "exports" → "." → "browser"): the same
// modules as index.ts — the same verifier, replay, tar reader and writer, pack builder — over
// @helm/crypto's browser entry, with package.json "imports" `#evidencepack-platform` sending the
// verifier to browser-platform.ts (archive bytes in memory; no node:fs, no worker_threads, no
// Buffer). Not here: the file APIs (`verifyEvidencePackFile`, `writeEvidencePackFile`), which a
// bundler then refuses at build time instead of a page failing at run time. Receipt signatures
// are checked on the page's thread: `workers` is always 0. Both entries export
// internal/common-exports.ts; the console's tests check that the lists differ by exactly those,
// build this entry for the browser with any Node built-in refused, and verify honest and tampered
// packs with it in Chromium, with Node's verdicts.
import { type VerifyOptions, type VerifyReport, verifyEvidencePack as verifyInMemory } from './verify.js';

export * from './internal/common-exports.js';

/**
 * Verify an EvidencePack's bytes offline, in the page: `verifyEvidencePack` of the Node entry with
 * `workers: 0` (a browser has no worker_threads; `workers` and `parallelThreshold` are ignored).
 * Never throws: every input gets a verdict.
 */
export function verifyEvidencePack(bytes: Uint8Array, options: VerifyOptions = {}): Promise<VerifyReport> {
  return verifyInMemory(bytes, { ...options, workers: 0 });
}
