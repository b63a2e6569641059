// A deterministic POSIX ustar writer and a strict reader (normative: docs/spec/evidencepack.md §2).
// Every header is fully determined by (path, size, kind): mtime 0, uid/gid 0, empty uname/gname,
// mode 0644 for files and 0755 for directories, no pax/GNU extended headers, entries sorted by path
// (bytewise UTF-8), directories implied (not written). The archive ends with two zero blocks.
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

function compareBytes(a: string, b: string): number {
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

function splitPath(path: string): { name: string; prefix: string } {
  const bytes = encoder.encode(path);
  if (bytes.length <= 100) return { name: path, prefix: '' };
  // Split at a '/' so that name ≤ 100 and prefix ≤ 155 bytes.
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== '/') continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (encoder.encode(name).length <= 100 && encoder.encode(prefix).length <= 155) return { name, prefix };
  }
  throw new EvidencePackError('PACK_PATH_INVALID', `path cannot be stored in a ustar header: ${path}`);
}

function header(path: string, size: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const put = (offset: number, text: string) => h.set(encoder.encode(text), offset);
  const { name, prefix } = splitPath(path);
  put(0, name);
  put(100, `${octal(0o644, 8)}\0`);
  put(108, `${octal(0, 8)}\0`);
  put(116, `${octal(0, 8)}\0`);
  put(124, `${octal(size, 12)}\0`);
  put(136, `${octal(0, 12)}\0`);
  h.fill(0x20, 148, 156); // checksum placeholder: eight spaces
  put(156, '0');
  put(257, 'ustar\0');
  put(263, '00');
  put(329, `${octal(0, 8)}\0`);
  put(337, `${octal(0, 8)}\0`);
  put(345, prefix);
  let sum = 0;
  for (const b of h) sum += b;
  put(148, `${octal(sum, 7)}\0 `);
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

function field(h: Uint8Array, offset: number, length: number): string {
  const slice = h.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return decoder.decode(end === -1 ? slice : slice.subarray(0, end));
}

function parseOctal(h: Uint8Array, offset: number, length: number, what: string): number {
  const text = field(h, offset, length).trim();
  if (!/^[0-7]+$/.test(text)) throw new EvidencePackError('PACK_TAR_MALFORMED', `bad ${what} field`);
  return Number.parseInt(text, 8);
}

/**
 * Read a ustar archive strictly: only regular files (typeflag '0'), valid checksums, safe unique
 * paths, zero padding, and a proper end-of-archive. Anything else is PACK_TAR_MALFORMED (or a more
 * specific code): an evidence pack is never "mostly" readable.
 */
export function readTar(bytes: Uint8Array): TarEntry[] {
  if (bytes.length % BLOCK !== 0 || bytes.length < 2 * BLOCK) {
    throw new EvidencePackError('PACK_TAR_MALFORMED', 'archive length is not a whole number of blocks');
  }
  const entries: TarEntry[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (;;) {
    if (offset + BLOCK > bytes.length)
      throw new EvidencePackError('PACK_TAR_MALFORMED', 'missing end-of-archive');
    const h = bytes.subarray(offset, offset + BLOCK);
    if (h.every((b) => b === 0)) {
      const rest = bytes.subarray(offset);
      if (rest.length < 2 * BLOCK || !rest.every((b) => b === 0)) {
        throw new EvidencePackError('PACK_TAR_MALFORMED', 'data after end-of-archive');
      }
      return entries;
    }
    const stored = parseOctal(h, 148, 8, 'checksum');
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] as number);
    if (sum !== stored)
      throw new EvidencePackError('PACK_TAR_MALFORMED', `header checksum mismatch at ${offset}`);
    if (field(h, 257, 6) !== 'ustar' || field(h, 263, 2) !== '00') {
      throw new EvidencePackError('PACK_TAR_MALFORMED', 'not a POSIX ustar header');
    }
    const type = String.fromCharCode(h[156] as number);
    const prefix = field(h, 345, 155);
    const path = prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100);
    if (type !== '0') {
      throw new EvidencePackError('PACK_TAR_MALFORMED', `entry ${path} is not a regular file (type ${type})`);
    }
    if (!isSafePath(path)) throw new EvidencePackError('PACK_PATH_INVALID', `unsafe entry path: ${path}`);
    if (seen.has(path)) throw new EvidencePackError('PACK_DUPLICATE_ENTRY', `duplicate entry: ${path}`);
    seen.add(path);
    const size = parseOctal(h, 124, 12, 'size');
    if (size > MAX_ENTRY_BYTES) throw new EvidencePackError('PACK_TOO_LARGE', `entry too large: ${path}`);
    const start = offset + BLOCK;
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (start + padded > bytes.length)
      throw new EvidencePackError('PACK_TAR_MALFORMED', `entry ${path} truncated`);
    if (!bytes.subarray(start + size, start + padded).every((b) => b === 0)) {
      throw new EvidencePackError('PACK_TAR_MALFORMED', `entry ${path} has non-zero padding`);
    }
    entries.push({ path, data: bytes.slice(start, start + size) });
    offset = start + padded;
  }
}
