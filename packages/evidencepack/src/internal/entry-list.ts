// The entry list `manifest/entries.json` of a big pack, read without materializing it: a pack of
// 100,000 receipts lists 400,000 entries (about 52 MB of JCS), and parsing that into objects
// costs several times its size. When the bytes are exactly the canonical form of a list of the
// right shape — `[{"path":"…","sha256":"sha256:<64 hex>","size":<n>},…]`, each path matching the
// entry-path pattern — they are scanned item by item; anything else goes through the general
// path (JSON.parse, JCS, schema), which gives every problem its message. A list this scan accepts
// is one the general path accepts with the same items, so the two agree.

import { MerkleFrontier, merkleLeafHash } from '@helm/proofgraph';
import { EVIDENCEPACK_PATH_PATTERN } from '../manifest.js';

/** An entry list, compactly: paths, sizes and raw SHA-256 digests (32 bytes each). */
export interface CompactEntryList {
  readonly paths: readonly string[];
  readonly sizes: ArrayLike<number>;
  readonly digests: Uint8Array;
  /** RFC 9162 root of the items' JCS (entriesRoot). */
  readonly root: Uint8Array;
}

const PATH = new RegExp(EVIDENCEPACK_PATH_PATTERN);
const enc = new TextEncoder();
const OPEN = enc.encode('{"path":"');
const MID = enc.encode('","sha256":"sha256:');
const SIZE = enc.encode('","size":');
const QUOTE = 0x22;

/** The list when `data` is exactly JCS of a well-shaped entry list; undefined otherwise. */
export function scanCanonicalEntryList(data: Uint8Array): CompactEntryList | undefined {
  let at = 0;
  const expect = (bytes: Uint8Array): boolean => {
    if (at + bytes.length > data.length) return false;
    for (let i = 0; i < bytes.length; i++) if (data[at + i] !== bytes[i]) return false;
    at += bytes.length;
    return true;
  };
  // An item is at least 104 bytes (a one-character path): room for every item, no regrowth.
  const room = Math.ceil(data.length / 104) + 1;
  const paths: string[] = [];
  const sizes = new Float64Array(room);
  const digests = new Uint8Array(32 * room);
  const frontier = new MerkleFrontier();
  if (data[at++] !== 0x5b) return undefined; // [
  if (data[at] === 0x5d) {
    at++;
    return at === data.length ? done() : undefined;
  }
  for (;;) {
    const start = at;
    if (!expect(OPEN)) return undefined;
    const pathStart = at;
    while (at < data.length && data[at] !== QUOTE) {
      const c = data[at] as number;
      // The path alphabet (ASCII, nothing JCS escapes); the pattern is checked below.
      if (c < 0x21 || c > 0x7e || c === 0x5c) return undefined;
      at++;
    }
    const path = String.fromCharCode(...data.subarray(pathStart, at));
    if (path.length > 255 || !PATH.test(path)) return undefined;
    if (!expect(MID)) return undefined;
    for (let i = 0; i < 32; i++) {
      const hi = hexValue(data[at]);
      const lo = hexValue(data[at + 1]);
      if (hi < 0 || lo < 0) return undefined;
      digests[32 * paths.length + i] = hi * 16 + lo;
      at += 2;
    }
    if (!expect(SIZE)) return undefined;
    const sizeStart = at;
    while (at < data.length && (data[at] as number) >= 0x30 && (data[at] as number) <= 0x39) at++;
    const digits = at - sizeStart;
    if (digits === 0 || digits > 16 || (digits > 1 && data[sizeStart] === 0x30)) return undefined;
    const size = Number(String.fromCharCode(...data.subarray(sizeStart, at)));
    if (!Number.isSafeInteger(size)) return undefined;
    if (data[at++] !== 0x7d) return undefined; // }
    if (paths.length >= room) return undefined;
    sizes[paths.length] = size;
    paths.push(path);
    frontier.append(merkleLeafHash(data.subarray(start, at)));
    const next = data[at++];
    if (next === 0x2c) continue; // ,
    if (next === 0x5d && at === data.length) return done(); // ]
    return undefined;
  }
  function done(): CompactEntryList {
    const n = paths.length;
    return {
      paths,
      sizes: sizes.subarray(0, n),
      digests: digests.subarray(0, 32 * n),
      root: frontier.root(),
    };
  }
}

/** Lowercase hex digit value, else -1 (JCS digests are lowercase: DIGEST_PATTERN). */
function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}
