// Where the verifier gets entries from: the archive bytes in memory, or a file read entry by entry.
// Both are scanned by the same strict tar scanner (tar.ts) and give the verifier the same entry
// list and the same bytes, so one check pipeline serves both (verify.ts). A file source never holds
// more than one read window and the entry being read: the verifier's memory does not grow with the
// archive (docs/spec/evidencepack.md §5.2).
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { digest } from '@helm/crypto';
import { bytesTarReader, scanTar, type TarEntryRef, type TarReader } from '../tar.js';
import { EntryTable } from './entry-table.js';
import { rangeOf } from './list-bytes.js';

export interface EntrySource {
  /** SHA-256 of the whole archive (`sha256:<hex>`), also when it does not scan. */
  readonly packDigest: string;
  /** The entries in archive order (compactly: entry-table.ts), or the scanner's error. */
  readonly scan: { readonly entries: EntryTable } | { readonly error: unknown };
  /**
   * The entry's bytes (valid until the next read). A file source reads them again each time: the
   * caller hashes what it reads before it parses it, so a file changed under the verifier is caught
   * as a hash mismatch, never parsed.
   */
  read(entry: TarEntryRef): Uint8Array;
  /**
   * The entry's bytes in order, in chunks of at most 4 MiB (each valid during the call), and their
   * SHA-256 (`sha256:<hex>`): a big entry (the entry list) is hashed and scanned without holding it.
   */
  stream(entry: TarEntryRef, consume: (chunk: Uint8Array) => void): string;
  /**
   * `length` bytes of the entry from `start` (within it), in an array no later read overwrites:
   * the entry list's blocks read again (list-bytes.ts), which hash them before they are used.
   */
  readRange(entry: TarEntryRef, start: number, length: number): Uint8Array;
  close(): void;
}

function scanWith(reader: TarReader): EntrySource['scan'] {
  const entries = new EntryTable();
  try {
    scanTar(reader, (e) => entries.push(e.path, e.offset, e.size));
    entries.trim();
    return { entries };
  } catch (error) {
    return { error };
  }
}

/** The archive in memory. */
export function bytesSource(bytes: Uint8Array): EntrySource {
  const packDigest = digest(bytes);
  return {
    packDigest,
    scan: scanWith(bytesTarReader(bytes)),
    read: (e) => bytes.subarray(e.offset, e.offset + e.size),
    stream: (e, consume) => streamBytes(bytes.subarray(e.offset, e.offset + e.size), consume),
    readRange: (e, start, length) => rangeOf(bytes, e, start, length),
    close: () => {},
  };
}

/** `stream` over bytes in memory (one chunk). */
export function streamBytes(data: Uint8Array, consume: (chunk: Uint8Array) => void): string {
  consume(data);
  return digest(data);
}

const WINDOW = 4 * 1024 * 1024;

/**
 * An archive file, scanned in one sequential pass (which also hashes it) through a 4 MiB window;
 * entries are then read on demand with positioned reads through a window of the same size.
 */
export function fileSource(path: string): EntrySource {
  const fd = openSync(path, 'r');
  try {
    const length = fstatSync(fd).size;
    const hash = createHash('sha256');
    // The scan window advances monotonically and is hashed as it advances, so the scan reads every
    // byte once; after a scan error the rest of the file is hashed for the pack digest.
    let window = new Uint8Array(Math.min(WINDOW, Math.max(length, 1)));
    let start = 0;
    let end = 0;
    const loadNext = () => {
      const n = Math.min(WINDOW, length - end);
      if (n <= 0) throw new Error('read past the end of the archive');
      readFully(fd, window, n, end);
      hash.update(window.subarray(0, n));
      start = end;
      end += n;
    };
    const reader: TarReader = {
      length,
      bytes(offset, len) {
        if (offset < start) throw new Error('the scanner went backwards');
        while (end <= offset && end < length) loadNext();
        if (offset + len <= end) return window.subarray(offset - start, offset - start + len);
        // Straddles the window's end (a header or padding across a window boundary).
        const out = new Uint8Array(len);
        let have = 0;
        while (have < len) {
          const from = offset + have;
          if (from >= end) loadNext();
          const take = Math.min(end, offset + len) - from;
          out.set(window.subarray(from - start, from - start + take), have);
          have += take;
        }
        return out;
      },
      zeroFrom(offset) {
        let zero = true;
        let at = offset;
        while (at < length) {
          const n = Math.min(WINDOW, length - at);
          const view = this.bytes(at, n);
          for (let i = 0; i < n && zero; i++) if (view[i] !== 0) zero = false;
          at += n;
        }
        return zero;
      },
    };
    const scan = scanWith(reader);
    while (end < length) loadNext();
    const packDigest = `sha256:${hash.digest('hex')}`;
    window = new Uint8Array(0);
    // Entry reads: two forward windows over the archive (entries of one kind are contiguous, and
    // the verifier reads two kinds in step: each receipt, then its recorded request). An entry
    // outside both refills the one used less recently; with one window, reading two regions in
    // turn refilled it (4 MiB) at every entry.
    const windows = [
      { buf: new Uint8Array(0), start: 0, end: 0 },
      { buf: new Uint8Array(0), start: 0, end: 0 },
    ];
    let recent = 0;
    return {
      packDigest,
      scan,
      read(e) {
        if (e.size > WINDOW) {
          const out = new Uint8Array(e.size);
          readFully(fd, out, e.size, e.offset);
          return out;
        }
        const fits = (k: number) => {
          const w = windows[k] as { start: number; end: number };
          return e.offset >= w.start && e.offset + e.size <= w.end;
        };
        let k = fits(recent) ? recent : fits(1 - recent) ? 1 - recent : -1;
        if (k === -1) {
          k = 1 - recent;
          const w = windows[k] as { buf: Uint8Array; start: number; end: number };
          const n = Math.min(WINDOW, length - e.offset);
          if (w.buf.length < WINDOW) w.buf = new Uint8Array(WINDOW);
          readFully(fd, w.buf, n, e.offset);
          w.start = e.offset;
          w.end = e.offset + n;
        }
        recent = k;
        const w = windows[k] as { buf: Uint8Array; start: number };
        return w.buf.subarray(e.offset - w.start, e.offset - w.start + e.size);
      },
      stream(e, consume) {
        const h = createHash('sha256');
        const buf = new Uint8Array(Math.min(WINDOW, Math.max(e.size, 1)));
        for (let done = 0; done < e.size; ) {
          const n = Math.min(buf.length, e.size - done);
          readFully(fd, buf, n, e.offset + done);
          const chunk = buf.subarray(0, n);
          h.update(chunk);
          consume(chunk);
          done += n;
        }
        return `sha256:${h.digest('hex')}`;
      },
      readRange(e, start, len) {
        if (start < 0 || len < 0 || start + len > e.size) throw new Error('read outside the entry');
        const out = new Uint8Array(len);
        readFully(fd, out, len, e.offset + start);
        return out;
      },
      close: () => closeSync(fd),
    };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

function readFully(fd: number, into: Uint8Array, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, into, done, length - done, position + done);
    if (n === 0) throw new Error('the archive file shrank while it was read');
    done += n;
  }
}
