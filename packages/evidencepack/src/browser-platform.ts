// The browser targets of package.json "imports" `#evidencepack-platform`: the archive in memory,
// scanned by the same strict tar scanner as in Node (tar.ts), and no file source or worker pool.
// Its module graph has no Node built-in and no `Buffer` (apps/console/test/browser-build.test.ts
// builds it for the browser and fails on either). The browser entry (browser.ts) exports no file
// API and verifies with `workers: 0`, so the two stand-ins below are unreachable through it; they
// throw rather than do anything, should a caller of the internals reach them.

import { digest } from '@helm/crypto';
import type { ReceiptVerifyPool as NodeReceiptVerifyPool } from '@helm/parallel-verify';
import type { EntrySource } from './internal/entry-source.js';
import { EntryTable } from './internal/entry-table.js';
import { rangeOf } from './internal/list-bytes.js';
import { bytesTarReader, scanTar } from './tar.js';

export type { EnvelopeVerdict } from '@helm/parallel-verify';
export type { EntrySource } from './internal/entry-source.js';

/** The archive in memory (the same behaviour as the Node target's bytesSource). */
export function bytesSource(bytes: Uint8Array): EntrySource {
  const entries = new EntryTable();
  let scan: EntrySource['scan'];
  try {
    scanTar(bytesTarReader(bytes), (e) => entries.push(e.path, e.offset, e.size));
    entries.trim();
    scan = { entries };
  } catch (error) {
    scan = { error };
  }
  return {
    packDigest: digest(bytes),
    scan,
    read: (e) => bytes.subarray(e.offset, e.offset + e.size),
    stream: (e, consume) => {
      const data = bytes.subarray(e.offset, e.offset + e.size);
      consume(data);
      return digest(data);
    },
    readRange: (e, start, length) => rangeOf(bytes, e, start, length),
    close: () => {},
  };
}

/** No files in a browser: verify the bytes (a File's arrayBuffer()) instead. */
export function fileSource(_path: string): EntrySource {
  throw new Error('@helm/evidencepack (browser): no file access; verify the archive bytes instead');
}

/** No worker threads in a browser: the browser entry verifies on this thread (`workers: 0`). */
export const ReceiptVerifyPool = class {
  constructor() {
    throw new Error('@helm/evidencepack (browser): no worker pool; verify with workers: 0');
  }
} as unknown as typeof NodeReceiptVerifyPool;
