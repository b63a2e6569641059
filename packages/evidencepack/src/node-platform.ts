// The Node targets of package.json "imports" `#evidencepack-platform` (the `default` condition):
// entries read from bytes or from a file, and receipt signatures checked on a worker pool. The
// `browser` condition maps the same name to browser-platform.ts, which has neither node:fs nor
// worker_threads in its module graph (the browser entry, browser.ts, verifies bytes in memory).

export { type EnvelopeVerdict, ReceiptVerifyPool } from '@helm/parallel-verify';
export { bytesSource, type EntrySource, fileSource } from './internal/entry-source.js';
