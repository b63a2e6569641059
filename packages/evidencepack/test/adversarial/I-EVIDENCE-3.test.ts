// I-EVIDENCE-3 — one evidence, one archive. The reader accepts exactly the bytes the writer
// produces for the pack's (path, bytes) entries: every other header value (mode, uid/gid, mtime,
// uname/gname, linkname, devmajor/devminor, bytes after a NUL terminator, checksum formatting, the
// prefix/name split), entry order, padding and end-of-archive is rejected at PACK_FORMAT. So no
// unsigned byte can ride along in a pack, and the pack digest is a content id: two accepted
// archives are equal exactly when they hold the same entries.
//
// Written from the attacker's side: start from honest packs, edit only what no signature covers.
import { digest } from '@helm/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EvidencePackError, readTar, type TarEntry, verifyEvidencePack, writeTar } from '../../src/index.ts';
import { type HonestPack, honestPacks } from '../fixtures/packs.ts';

const SEED = 0x1e3;
const enc = new TextEncoder();
const packs = honestPacks();
const plain = packs[0] as HonestPack;

/** Header field offsets and widths (docs/spec/evidencepack.md §2). */
const FIELD = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  checksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
  pad: [500, 12],
} as const;

/** Recompute a header's checksum in the writer's format (6 octal digits, NUL, space). */
function fixChecksum(
  archive: Uint8Array,
  at: number,
  format = (sum: number) => `${sum.toString(8).padStart(6, '0')}\0 `,
) {
  const h = archive.subarray(at, at + 512);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.fill(0, 148, 156);
  h.set(enc.encode(format(sum)), 148);
}

/** Set `field` of the header at `at` to `value` (NUL padded to the field width), checksum fixed. */
function setField(
  bytes: Uint8Array,
  at: number,
  field: keyof typeof FIELD,
  value: string | Uint8Array,
): Uint8Array {
  const out = Uint8Array.from(bytes);
  const [offset, width] = FIELD[field];
  const v = typeof value === 'string' ? enc.encode(value) : value;
  out.fill(0, at + offset, at + offset + width);
  out.set(v.subarray(0, width), at + offset);
  fixChecksum(out, at);
  return out;
}

const equal = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** Every header of an archive with its entry. */
function headers(bytes: Uint8Array): { at: number; entry: TarEntry }[] {
  const list: { at: number; entry: TarEntry }[] = [];
  let at = 0;
  for (const entry of readTar(bytes)) {
    list.push({ at, entry });
    at += 512 + Math.ceil(entry.data.length / 512) * 512;
  }
  return list;
}

async function packFormat(bytes: Uint8Array) {
  const r = await verifyEvidencePack(bytes, { trustAnchor: plain.world.anchor });
  expect(r.status).toBe('FAILED');
  expect(r.checks).toHaveLength(1);
  const c = r.checks[0];
  expect(c?.code).toBe('PACK_FORMAT');
  expect(c?.status).toBe('FAILED');
  return c as { message: string; detail?: string };
}

describe('I-EVIDENCE-3: every header-field deviation of an honest pack is rejected at PACK_FORMAT', () => {
  const hs = headers(plain.bytes);
  const first = hs[0] as { at: number; entry: TarEntry };
  const receipt = hs.find((h) => h.entry.path.startsWith('receipts/')) as { at: number; entry: TarEntry };

  it('the honest pack passes (the baseline)', async () => {
    expect((await verifyEvidencePack(plain.bytes, { trustAnchor: plain.world.anchor })).status).toBe('PASS');
  });

  const cases: [string, keyof typeof FIELD, string | Uint8Array, RegExp][] = [
    ['mode 0755', 'mode', '0000755\0', /mode/],
    ['mode without NUL (space terminated)', 'mode', '000644 \0', /mode/],
    ['uid 1000', 'uid', '0001750\0', /uid/],
    ['gid 1000', 'gid', '0001750\0', /gid/],
    ['mtime set', 'mtime', '14712306000\0', /mtime/],
    ['uname root', 'uname', 'root', /uname/],
    ['gname wheel', 'gname', 'wheel', /gname/],
    ['a linkname', 'linkname', 'elsewhere', /linkname/],
    ['devmajor 1', 'devmajor', '0000001\0', /devmajor/],
    ['devminor empty', 'devminor', '', /devminor/],
    ['bytes in the unused header tail', 'pad', 'hidden', /unused|pad/],
    ['GNU magic', 'magic', 'ustar ', /ustar/],
  ];
  for (const [what, field, value, message] of cases) {
    it(`rejects ${what}`, async () => {
      const c = await packFormat(setField(plain.bytes, receipt.at, field, value));
      expect(c.message).toMatch(message);
    });
  }

  it('rejects bytes after the NUL terminator of name and prefix (≈ 300 unsigned bytes per header)', async () => {
    const name = enc.encode(`${receipt.entry.path}\0smuggled`);
    expect((await packFormat(setField(plain.bytes, receipt.at, 'name', name))).message).toMatch(/name/);
    const prefix = enc.encode('\0smuggled');
    expect((await packFormat(setField(plain.bytes, receipt.at, 'prefix', prefix))).message).toMatch(/prefix/);
  });

  it('rejects a short path split into prefix and name (the writer splits only paths over 100 bytes)', async () => {
    const [dir, file] = [receipt.entry.path.slice(0, 8), receipt.entry.path.slice(9)];
    expect(`${dir}/${file}`).toBe(receipt.entry.path);
    const split = setField(setField(plain.bytes, receipt.at, 'name', file), receipt.at, 'prefix', dir);
    expect((await packFormat(split)).message).toMatch(/prefix|split/);
  });

  it('rejects a long path split at another "/" than the writer chooses', () => {
    const long = `a/${'b'.repeat(60)}/${'c'.repeat(60)}/d.json`;
    const ok = writeTar([{ path: long, data: enc.encode('{}') }]);
    expect(readTar(ok).map((e) => e.path)).toEqual([long]);
    // The writer: the shortest name (split at the last "/" that fits). Split earlier instead.
    const at = long.indexOf('/', 2);
    const other = setField(setField(ok, 0, 'name', long.slice(at + 1)), 0, 'prefix', long.slice(0, at));
    expect(() => readTar(other)).toThrow(/split|prefix/);
  });

  it('rejects checksums in any format but the writer’s (6 octal digits, NUL, space)', async () => {
    const formats = [
      (s: number) => `${s.toString(8).padStart(7, '0')}\0`,
      (s: number) => ` ${s.toString(8).padStart(5, '0')}\0 `,
      (s: number) => `${s.toString(8).padStart(6, '0')} \0`,
      (s: number) => `${s.toString(8).padStart(6, '0')}\0\0`,
    ];
    for (const format of formats) {
      const b = Uint8Array.from(plain.bytes);
      fixChecksum(b, receipt.at, format);
      expect((await packFormat(b)).message).toMatch(/checksum/);
    }
  });

  it('rejects a size field in another format (leading space, trailing space)', async () => {
    const size = receipt.entry.data.length.toString(8);
    const c1 = await packFormat(setField(plain.bytes, receipt.at, 'size', ` ${size.padStart(10, '0')}\0`));
    expect(c1.message).toMatch(/size/);
    const c2 = await packFormat(setField(plain.bytes, receipt.at, 'size', `${size.padStart(11, '0')} `));
    expect(c2.message).toMatch(/size/);
  });

  it('rejects entries out of ascending bytewise path order', async () => {
    // The same entries, blocks of the first two swapped.
    const [a, b] = hs as [{ at: number; entry: TarEntry }, { at: number; entry: TarEntry }];
    const lenA = b.at - a.at;
    const second = hs[2] as { at: number };
    const swapped = Uint8Array.from(plain.bytes);
    swapped.set(plain.bytes.subarray(b.at, second.at), 0);
    swapped.set(plain.bytes.subarray(a.at, b.at), second.at - lenA);
    expect((await packFormat(swapped)).message).toMatch(/order/);
    expect(first.entry.path).toBe(a.entry.path);
  });

  it('rejects a duplicated entry', async () => {
    const len = (hs[1] as { at: number }).at;
    const dup = new Uint8Array(plain.bytes.length + len);
    dup.set(plain.bytes.subarray(0, len), 0);
    dup.set(plain.bytes, len);
    const c = await packFormat(dup);
    expect(c.detail).toBe('PACK_DUPLICATE_ENTRY');
  });

  it('end of archive: exactly two zero blocks, nothing after them', async () => {
    const extra = new Uint8Array(plain.bytes.length + 512);
    extra.set(plain.bytes);
    expect((await packFormat(extra)).message).toMatch(/zero blocks/);
    const four = new Uint8Array(plain.bytes.length + 1024);
    four.set(plain.bytes);
    expect((await packFormat(four)).message).toMatch(/zero blocks/);
    const one = plain.bytes.subarray(0, plain.bytes.length - 512);
    expect((await packFormat(one)).message).toMatch(/end-of-archive|zero blocks/);
    const none = plain.bytes.subarray(0, plain.bytes.length - 1024);
    expect((await packFormat(none)).message).toMatch(/end-of-archive/);
    const after = new Uint8Array(plain.bytes.length + 512);
    after.set(plain.bytes);
    after[after.length - 1] = 1;
    await packFormat(after);
  });

  it('rejects non-zero bytes in the padding after an entry’s data', async () => {
    const end = receipt.at + 512 + receipt.entry.data.length;
    expect(end % 512).not.toBe(0);
    const b = Uint8Array.from(plain.bytes);
    b[end] = 0x20;
    expect((await packFormat(b)).message).toMatch(/padding/);
  });
});

describe('I-EVIDENCE-3: the reader accepts exactly the writer’s bytes', () => {
  it('every single-byte change outside entry data is rejected (exhaustive, small archive)', () => {
    const long = `x/${'y'.repeat(70)}/${'z'.repeat(40)}.json`;
    const archive = writeTar([
      { path: 'a.json', data: enc.encode('{"a":1}') },
      { path: long, data: new Uint8Array(600).fill(0x41) },
      { path: 'empty', data: new Uint8Array(0) },
    ]);
    // Data regions: [header + 512, header + 512 + size).
    const data: [number, number][] = [];
    let at = 0;
    for (const e of readTar(archive)) {
      data.push([at + 512, at + 512 + e.data.length]);
      at += 512 + Math.ceil(e.data.length / 512) * 512;
    }
    const inData = (i: number) => data.some(([s, t]) => i >= s && i < t);
    let tried = 0;
    for (let i = 0; i < archive.length; i++) {
      if (inData(i)) continue;
      const orig = archive[i] as number;
      for (const v of [orig ^ 0x01, orig ^ 0x80, orig === 0 ? 0x30 : 0]) {
        if (v === orig) continue;
        const b = Uint8Array.from(archive);
        b[i] = v;
        expect(() => readTar(b), `byte ${i} = ${v}`).toThrow(EvidencePackError);
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(3 * 5 * 512);
  });

  it('every honest pack is the writer’s encoding of its entries, whatever order they are given in', () => {
    for (const p of packs) {
      const entries = readTar(p.bytes);
      expect(equal(writeTar(entries), p.bytes)).toBe(true);
      expect(equal(writeTar([...entries].reverse()), p.bytes)).toBe(true);
    }
  });

  it('the pack digest is a content id: accepted archives are equal iff their entries are (property)', () => {
    const segment = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/);
    const path = fc
      .array(segment, { minLength: 1, maxLength: 6 })
      .map((s) => s.join('/'))
      .filter((p) => p.split('/').every((s) => s !== '.' && s !== '..') && p.length <= 150);
    const entries = fc.uniqueArray(fc.record({ path, data: fc.uint8Array({ maxLength: 1100 }) }), {
      selector: (e) => e.path,
      maxLength: 6,
    });
    fc.assert(
      fc.property(entries, entries, (a, b) => {
        const x = writeTar(a);
        const y = writeTar(b);
        const same = (p: TarEntry[], q: TarEntry[]) =>
          p.length === q.length &&
          p.every((e, i) => e.path === q[i]?.path && digest(e.data) === digest(q[i]?.data as Uint8Array));
        expect(equal(writeTar(readTar(x)), x)).toBe(true);
        expect(equal(writeTar([...a].reverse()), x)).toBe(true);
        expect(digest(x) === digest(y)).toBe(same(readTar(x), readTar(y)));
      }),
      { seed: SEED, numRuns: 150 },
    );
  });
});
