// A deterministic POSIX ustar writer and a strict reader (normative: docs/spec/evidencepack.md §2).
// Every header is fully determined by (path, size): mode 0644, mtime 0, uid/gid 0, empty
// uname/gname, no pax/GNU extended headers, entries sorted by path (bytewise UTF-8), directories
// implied (not written). The archive ends with two zero blocks. The reader accepts exactly what the
// writer writes (one evidence, one archive: the archive digest is a content id).
import { bytesEqual } from '@helm/crypto';
import { EvidencePackError } from './errors.js';

const BLOCK = 512;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export interface TarEntry {
  readonly path: string;
  readonly data: Uint8Array;
}

/** Largest entry we write or accept (ustar's 11 octal digits allow 8 GiB; we cap lower). */
export const MAX_ENTRY_BYTES = 1024 * 1024 * 1024;
const PATH_PATTERN = /^(?:[a-z0-9][a-z0-9._@+-]*\/)*[a-z0-9][a-z0-9._@+-]*$/;

/** Paths are lowercase relative POSIX paths of safe segments (no `..`, no leading `/`). */
export function isSafePath(path: string): boolean {
  return (
    PATH_PATTERN.test(path) &&
    path.split('/').every((s) => s !== '.' && s !== '..') &&
    encoder.encode(path).length <= 255
  );
}

/** Bytewise UTF-8 order of two paths (the canonical entry order). */
export function compareBytes(a: string, b: string): number {
  // Below U+D800, UTF-16 code-unit order is UTF-8 byte order (and a proper prefix sorts first in
  // both): compare code units until the first difference, re-encoding only past a surrogate or
  // U+E000..U+FFFF (entry paths are ASCII, so in practice never).
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x >= 0xd800 || y >= 0xd800) return compareEncoded(a, b);
    if (x !== y) return x - y;
  }
  return a.length - b.length;
}

function compareEncoded(a: string, b: string): number {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return x.length - y.length;
}

/** Sort paths bytewise by their UTF-8 encoding (the canonical entry order). */
export function sortPaths<T extends { readonly path: string }>(entries: readonly T[]): T[] {
  return [...entries].sort((a, b) => compareBytes(a.path, b.path));
}

function octal(value: number, width: number): string {
  // width includes the terminating NUL.
  return value.toString(8).padStart(width - 1, '0');
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

function splitPath(path: string): { name: string; prefix: string } {
  if (path.length <= 100 && isAscii(path)) return { name: path, prefix: '' };
  if (encoder.encode(path).length <= 100) return { name: path, prefix: '' };
  // Split at a '/' so that name ≤ 100 and prefix ≤ 155 bytes.
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== '/') continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (encoder.encode(name).length <= 100 && encoder.encode(prefix).length <= 155) return { name, prefix };
  }
  throw new EvidencePackError('PACK_PATH_INVALID', `path cannot be stored in a ustar header: ${path}`);
}

/**
 * The header bytes every entry shares: mode 0644, uid/gid 0, mtime 0, type '0', magic "ustar\0",
 * version "00", devmajor/devminor 0; name, size, prefix and checksum still zero. `TEMPLATE_SUM` is
 * its byte sum with the checksum field counted as eight spaces.
 */
const TEMPLATE = (() => {
  const h = new Uint8Array(BLOCK);
  const put = (offset: number, text: string) => h.set(encoder.encode(text), offset);
  put(100, `${octal(0o644, 8)}\0`);
  put(108, `${octal(0, 8)}\0`);
  put(116, `${octal(0, 8)}\0`);
  put(136, `${octal(0, 12)}\0`);
  put(156, '0');
  put(257, 'ustar\0');
  put(263, '00');
  put(329, `${octal(0, 8)}\0`);
  put(337, `${octal(0, 8)}\0`);
  return h;
})();
const TEMPLATE_SUM = TEMPLATE.reduce((sum, b) => sum + b, 0) + 8 * 0x20;

/** Write `text` (UTF-8) at `offset`; returns the byte sum written. */
function putText(h: Uint8Array, offset: number, text: string): number {
  let sum = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) {
      const bytes = encoder.encode(text);
      h.set(bytes, offset);
      return bytes.reduce((s, b) => s + b, 0);
    }
    h[offset + i] = c;
    sum += c;
  }
  return sum;
}

/** The writer's header block for (path, size) (no data). */
export function header(path: string, size: number): Uint8Array {
  const h = TEMPLATE.slice();
  const { name, prefix } = splitPath(path);
  let sum = TEMPLATE_SUM;
  sum += putText(h, 0, name);
  sum += putText(h, 124, `${octal(size, 12)}\0`);
  sum += putText(h, 345, prefix);
  putText(h, 148, `${octal(sum, 7)}\0 `);
  return h;
}

/** Write a deterministic ustar archive of regular files, sorted by path. */
export function writeTar(entries: readonly TarEntry[]): Uint8Array {
  const sorted = sortPaths(entries);
  let total = 2 * BLOCK;
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i] as TarEntry;
    if (!isSafePath(e.path)) throw new EvidencePackError('PACK_PATH_INVALID', `unsafe entry path: ${e.path}`);
    if (i > 0 && (sorted[i - 1] as TarEntry).path === e.path) {
      throw new EvidencePackError('PACK_DUPLICATE_ENTRY', `duplicate entry: ${e.path}`);
    }
    if (e.data.length > MAX_ENTRY_BYTES)
      throw new EvidencePackError('PACK_TOO_LARGE', `entry too large: ${e.path}`);
    total += BLOCK + Math.ceil(e.data.length / BLOCK) * BLOCK;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const e of sorted) {
    out.set(header(e.path, e.data.length), offset);
    offset += BLOCK;
    out.set(e.data, offset);
    offset += Math.ceil(e.data.length / BLOCK) * BLOCK;
  }
  return out; // the two trailing zero blocks are already zero
}

/**
 * Header fields (offset, width) in the order they are compared (docs/spec/evidencepack.md §2); the
 * checksum, which depends on every other field, last.
 */
const FIELDS: readonly (readonly [string, number, number])[] = [
  ['name', 0, 100],
  ['mode', 100, 8],
  ['uid', 108, 8],
  ['gid', 116, 8],
  ['size', 124, 12],
  ['mtime', 136, 12],
  ['typeflag', 156, 1],
  ['linkname', 157, 100],
  ['magic', 257, 6],
  ['version', 263, 2],
  ['uname', 265, 32],
  ['gname', 297, 32],
  ['devmajor', 329, 8],
  ['devminor', 337, 8],
  ['prefix', 345, 155],
  ['unused header tail', 500, 12],
  ['checksum', 148, 8],
];

const malformed = (message: string) => new EvidencePackError('PACK_TAR_MALFORMED', message);
const noncanonical = (message: string) => new EvidencePackError('PACK_NONCANONICAL', message);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return bytesEqual(a, b);
}

function isZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

function ascii(bytes: Uint8Array): string {
  return JSON.stringify(String.fromCharCode(...bytes));
}

/** A NUL-terminated (or full-width) text field, as UTF-8. */
function text(h: Uint8Array, offset: number, length: number, what: string): string {
  const slice = h.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  try {
    return decoder.decode(end === -1 ? slice : slice.subarray(0, end));
  } catch {
    throw new EvidencePackError('PACK_PATH_INVALID', `${what} field is not UTF-8`);
  }
}

/**
 * Check one header against the writer's header for the same (path, size): the first field that
 * differs is named. Returns the entry's path and size.
 */
/**
 * The common case, cheaply: an ASCII path and a canonical size whose writer's header is exactly
 * `h`. Undefined for anything else, which the full check below then names (same verdicts: the full
 * check accepts a header exactly when it is the writer's header for its path and size).
 */
function canonicalHeader(h: Uint8Array): { path: string; size: number } | undefined {
  const text = (from: number, width: number): string | undefined => {
    let end = from;
    while (end < from + width && h[end] !== 0) {
      if ((h[end] as number) > 0x7f) return undefined;
      end++;
    }
    return String.fromCharCode.apply(null, h.subarray(from, end) as unknown as number[]);
  };
  const name = text(0, 100);
  const prefix = text(345, 155);
  if (name === undefined || prefix === undefined) return undefined;
  if (h[135] !== 0) return undefined;
  let size = 0;
  for (let i = 124; i < 135; i++) {
    const d = (h[i] as number) - 0x30;
    if (d < 0 || d > 7) return undefined;
    size = size * 8 + d;
  }
  const path = prefix ? `${prefix}/${name}` : name;
  if (size > MAX_ENTRY_BYTES || !isSafePath(path)) return undefined;
  let expected: Uint8Array;
  try {
    expected = header(path, size);
  } catch {
    return undefined;
  }
  return sameBytes(h, expected) ? { path, size } : undefined;
}

function checkHeader(h: Uint8Array, offset: number): { path: string; size: number } {
  const canonical = canonicalHeader(h);
  if (canonical) return canonical;
  // Integrity first: the checksum the header claims must be the sum of its bytes.
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] as number);
  const claimed = String.fromCharCode(...h.subarray(148, 156))
    .replace(/[\0 ]+/g, ' ')
    .trim();
  if (!/^[0-7]{1,8}$/.test(claimed) || Number.parseInt(claimed, 8) !== sum)
    throw malformed(`header checksum mismatch at offset ${offset}`);
  if (String.fromCharCode(...h.subarray(257, 265)) !== 'ustar\u000000')
    throw malformed(
      `header at offset ${offset} is not a POSIX ustar header (magic "ustar\\0", version "00")`,
    );
  const type = String.fromCharCode(h[156] as number);
  const name = text(h, 0, 100, 'name');
  const prefix = text(h, 345, 155, 'prefix');
  const path = prefix ? `${prefix}/${name}` : name;
  if (type !== '0')
    throw malformed(`entry ${JSON.stringify(path)} is not a regular file (type ${JSON.stringify(type)})`);
  if (!isSafePath(path))
    throw new EvidencePackError('PACK_PATH_INVALID', `unsafe entry path: ${JSON.stringify(path)}`);
  const sizeField = String.fromCharCode(...h.subarray(124, 136));
  if (!/^[0-7]{11}\0$/.test(sizeField))
    throw noncanonical(
      `entry ${path}: size field ${ascii(h.subarray(124, 136))} is not 11 octal digits and NUL`,
    );
  const size = Number.parseInt(sizeField.slice(0, 11), 8);
  if (size > MAX_ENTRY_BYTES) throw new EvidencePackError('PACK_TOO_LARGE', `entry too large: ${path}`);
  // Every byte as the writer writes it for (path, size).
  const expected = header(path, size);
  if (sameBytes(h, expected)) return { path, size };
  for (const [field, at, width] of FIELDS) {
    const got = h.subarray(at, at + width);
    const want = expected.subarray(at, at + width);
    if (got.every((b, i) => b === want[i])) continue;
    if (field === 'name' || field === 'prefix') {
      const split = splitPath(path);
      if (split.name !== name || split.prefix !== prefix) {
        throw noncanonical(
          `entry ${path}: stored as prefix ${JSON.stringify(prefix)} and name ${JSON.stringify(name)}; the writer stores ${
            split.prefix
              ? `prefix ${JSON.stringify(split.prefix)} and name ${JSON.stringify(split.name)}`
              : 'it whole in name'
          } (prefix/name split)`,
        );
      }
      throw noncanonical(`entry ${path}: bytes after the NUL terminator of the ${field} field`);
    }
    throw noncanonical(
      `entry ${path}: header field ${field} is ${ascii(got)}, the writer writes ${ascii(want)}`,
    );
  }
  return { path, size };
}

/**
 * Random access to an archive's bytes for the strict scanner: `bytes(offset, length)` returns a view
 * valid until the next call; `zeroFrom(offset)` tells whether every byte from `offset` on is zero.
 */
export interface TarReader {
  readonly length: number;
  bytes(offset: number, length: number): Uint8Array;
  zeroFrom(offset: number): boolean;
}

/** An entry located by the scanner: its data is `size` bytes at `offset` of the archive. */
export interface TarEntryRef {
  readonly path: string;
  readonly offset: number;
  readonly size: number;
}

/**
 * The strict reader's rules, entry by entry, without holding entry data: every header is the
 * writer's header for its (path, size), paths strictly ascend, padding is zero and the archive ends
 * with exactly two zero blocks. An archive that passes is byte for byte what `writeTar` writes for
 * its entries (the writer's layout is exactly this sequence), so `readTar`'s final re-serialization
 * can never differ after a successful scan. Calls `onEntry` for each entry, in archive order.
 */
export function scanTar(reader: TarReader, onEntry: (entry: TarEntryRef) => void): void {
  const length = reader.length;
  if (length % BLOCK !== 0) throw malformed(`archive length ${length} is not a multiple of ${BLOCK}`);
  if (length < 2 * BLOCK) throw malformed('archive is shorter than its end-of-archive (two zero blocks)');
  let previous: string | undefined;
  let offset = 0;
  for (;;) {
    if (offset + BLOCK > length) throw malformed('missing end-of-archive (two zero blocks)');
    const h = reader.bytes(offset, BLOCK);
    if (isZero(h)) {
      const rest = (length - offset) / BLOCK;
      if (rest < 2 || !isZero(reader.bytes(offset + BLOCK, BLOCK)))
        throw malformed(`missing end-of-archive: a single zero block at offset ${offset}`);
      if (rest > 2) {
        throw reader.zeroFrom(offset)
          ? noncanonical(`the archive ends with ${rest} zero blocks; exactly two are written`)
          : malformed('data after end-of-archive');
      }
      break;
    }
    const { path, size } = checkHeader(h, offset);
    if (previous !== undefined) {
      const order = compareBytes(previous, path);
      if (order === 0) throw new EvidencePackError('PACK_DUPLICATE_ENTRY', `duplicate entry: ${path}`);
      if (order > 0)
        throw noncanonical(`entries are not in ascending bytewise path order: ${path} after ${previous}`);
    }
    previous = path;
    const start = offset + BLOCK;
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (start + padded > length) throw malformed(`entry ${path} truncated`);
    if (padded > size && !isZero(reader.bytes(start + size, padded - size)))
      throw malformed(`entry ${path} has non-zero padding`);
    onEntry({ path, offset: start, size });
    offset = start + padded;
  }
}

/** A TarReader over bytes in memory. */
export function bytesTarReader(bytes: Uint8Array): TarReader {
  return {
    length: bytes.length,
    bytes: (offset, length) => bytes.subarray(offset, offset + length),
    zeroFrom: (offset) => isZero(bytes.subarray(offset)),
  };
}

/**
 * Read an EvidencePack archive strictly: the reader accepts exactly the bytes `writeTar` produces
 * for the entries it finds (docs/spec/evidencepack.md §2), so the same evidence has one archive.
 * Structural damage is PACK_TAR_MALFORMED, a readable archive in another encoding (header fields,
 * order, prefix/name split, trailing blocks) PACK_NONCANONICAL; unsafe paths, duplicates and oversize
 * entries have their own codes. An evidence pack is never "mostly" readable.
 */
export function readTar(bytes: Uint8Array): TarEntry[] {
  const entries: TarEntry[] = [];
  scanTar(bytesTarReader(bytes), ({ path, offset, size }) =>
    entries.push({ path, data: bytes.slice(offset, offset + size) }),
  );
  // The writer's rules are the reader's: re-serialize and require the very same bytes.
  if (!sameBytes(writeTar(entries), bytes))
    throw noncanonical('the archive is not the canonical encoding of its entries');
  return entries;
}
