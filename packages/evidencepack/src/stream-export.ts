// Streaming export (docs/spec/evidencepack.md §6): the same archive as buildEvidencePack, byte for
// byte, written to a file without ever holding the pack. The many entries (receipts, decisions,
// ProofGraph nodes, requests) are taken from iterables one at a time, serialized once and spooled
// to a scratch file beside the output; only a compact record per entry is kept (its sort key,
// spool offset, size and SHA-256). The few small entries (index, trust snapshot, policies, tools,
// schemas, modules, checkpoints, condensed entries) are built in memory as buildEvidencePack builds
// them. Then the entry list is streamed twice (hashed for the manifest, then written) and every
// entry copied from the spool into the tar in path order.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { SignedEnvelope } from '@helm/contracts';
import { canonicalBytes, type Signer, signEnvelope, toHex } from '@helm/crypto';
import { MerkleFrontier, merkleLeafHash } from '@helm/proofgraph';
import { EvidencePackError } from './errors.js';
import {
  ENTRIES_PATH,
  entryLeafBytes,
  envelopeBody,
  MANIFEST_PATH,
  manifestOf,
  type PackInput,
  type PackNode,
  packEntries,
  pad,
  receiptHashOf,
} from './export.js';
import type { EvidencePackEntriesRef, EvidencePackManifest } from './manifest.js';
import { compareBytes, header, isSafePath, MAX_ENTRY_BYTES } from './tar.js';

/** buildEvidencePack's input with the many-entry kinds as iterables (each iterated once). */
export interface PackStreamInput extends Omit<PackInput, 'receipts' | 'decisions' | 'nodes' | 'requests'> {
  readonly receipts: Iterable<SignedEnvelope>;
  readonly decisions: Iterable<SignedEnvelope>;
  readonly nodes: Iterable<PackNode>;
  readonly requests?: Iterable<{ readonly lamport: number; readonly body: unknown }>;
}

export interface WrittenPack {
  /** The archive file (written whole, then renamed into place). */
  readonly path: string;
  /** `sha256:<hex>` of the archive bytes. */
  readonly digest: string;
  /** Archive length in bytes. */
  readonly bytes: number;
  readonly manifest: EvidencePackManifest;
}

const BLOCK = 512;
const CHUNK = 1024 * 1024;
const RECEIPT_TYPE = 'helm.receipt.v1';
const enc = new TextEncoder();

/**
 * Growable typed storage for one kind's records: sort key, spool offset and size (20 bytes), plus
 * the 32-byte digest in the entry's name for decisions (their SHA-256) and nodes (their envelope
 * digest). Other entries' SHA-256 is computed when the list is generated, from the spool.
 */
class Records {
  n = 0;
  key = new Float64Array(1024);
  offset = new Float64Array(1024);
  size = new Uint32Array(1024);
  /** The digest in the entry's name (decisions: their SHA-256; nodes: the envelope digest). */
  name: Uint8Array | undefined;
  /** How records sort into path order: by key; by SHA-256 (decisions); by key, then name (nodes). */
  readonly sortBy: 'key' | 'sha' | 'key+name';

  constructor(sortBy: 'key' | 'sha' | 'key+name') {
    this.sortBy = sortBy;
    if (sortBy !== 'key') this.name = new Uint8Array(32 * 1024);
  }

  push(key: number, offset: number, size: number, name?: Uint8Array): void {
    if (this.n === this.key.length) {
      const cap = Math.ceil(this.n * 1.5);
      const grow = <T extends Float64Array | Uint32Array | Uint8Array>(a: T, per: number): T => {
        const b = new (a.constructor as new (n: number) => T)(cap * per);
        b.set(a);
        return b;
      };
      this.key = grow(this.key, 1);
      this.offset = grow(this.offset, 1);
      this.size = grow(this.size, 1);
      if (this.name) this.name = grow(this.name, 32);
    }
    this.key[this.n] = key;
    this.offset[this.n] = offset;
    this.size[this.n] = size;
    if (this.name && name) this.name.set(name, 32 * this.n);
    this.n++;
  }

  /** Positions in path order (a stable sort: equal names keep their input order). */
  order(): Uint32Array {
    const idx = new Uint32Array(this.n);
    for (let i = 0; i < this.n; i++) idx[i] = i;
    const view = (a: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const name = this.name ? view(this.name) : Buffer.alloc(0);
    const byDigest = (d: Buffer) => (a: number, b: number) =>
      // buf.compare(target, …, sourceStart, sourceEnd) orders the source (a) against the target (b).
      d.compare(d, 32 * b, 32 * b + 32, 32 * a, 32 * a + 32) || a - b;
    if (this.sortBy === 'sha') return idx.sort(byDigest(name));
    const tie = this.sortBy === 'key+name' ? byDigest(name) : (a: number, b: number) => a - b;
    return idx.sort((a, b) => (this.key[a] as number) - (this.key[b] as number) || tie(a, b));
  }

  /** Whether records a and b have the same entry name. */
  sameName(a: number, b: number): boolean {
    if (this.sortBy !== 'sha' && this.key[a] !== this.key[b]) return false;
    const d = this.name;
    if (!d) return true;
    for (let j = 0; j < 32; j++) if (d[32 * a + j] !== d[32 * b + j]) return false;
    return true;
  }
}

/** A buffered, hashing, append-only writer on a file descriptor. */
class Sink {
  readonly #fd: number;
  readonly #buf = Buffer.allocUnsafe(CHUNK);
  #used = 0;
  length = 0;
  readonly hash = createHash('sha256');
  constructor(fd: number) {
    this.#fd = fd;
  }
  write(data: Uint8Array): void {
    this.hash.update(data);
    this.length += data.length;
    if (data.length >= CHUNK) {
      this.flush();
      writeFully(this.#fd, data);
      return;
    }
    if (this.#used + data.length > CHUNK) this.flush();
    this.#buf.set(data, this.#used);
    this.#used += data.length;
  }
  zeros(n: number): void {
    if (n > 0) this.write(new Uint8Array(n));
  }
  flush(): void {
    if (this.#used > 0) writeFully(this.#fd, this.#buf.subarray(0, this.#used));
    this.#used = 0;
  }
}

function writeFully(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done);
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new Error('the export spool file shrank');
    done += n;
  }
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest();

/** One of the many-entry kinds, spooled: its folder and how a record's path is spelled. */
interface Kind {
  readonly prefix: string;
  readonly records: Records;
  pathOf(i: number): string;
}

/**
 * Write the EvidencePack of `input` to `path` (via `path.partial`, renamed when complete): the same
 * bytes buildEvidencePack(input, signer) returns, with memory bounded by the small entries, one
 * entry at a time and 20–52 bytes of records per entry — never the pack. The scratch spool
 * `path.spool` is removed afterwards. Errors are buildEvidencePack's (EvidencePackError codes).
 */
export function writeEvidencePackFile(input: PackStreamInput, signer: Signer, path: string): WrittenPack {
  const spoolPath = `${path}.spool`;
  const partPath = `${path}.partial`;
  const listPath = `${path}.list`;
  let listFd: number | undefined;
  const spoolFd = openSync(spoolPath, 'w+');
  let outFd: number | undefined;
  try {
    const spool = new Sink(spoolFd);
    const spoolEntry = (bytes: Uint8Array): number => {
      if (bytes.length > MAX_ENTRY_BYTES)
        throw new EvidencePackError('PACK_TOO_LARGE', 'entry too large for an EvidencePack');
      const offset = spool.length;
      spool.write(bytes);
      return offset;
    };

    // Receipts, in any order (filed by Lamport).
    const receipts = new Records('key');
    let head: { lamport: number; hash: string } | null = null;
    let from = Number.POSITIVE_INFINITY;
    for (const e of input.receipts) {
      const b = envelopeBody<{ lamport: number; chain_id: string }>(e);
      if (b.chain_id !== input.chainId || !Number.isSafeInteger(b.lamport))
        throw new EvidencePackError(
          'PACK_INPUT_INVALID',
          `receipt at Lamport ${b.lamport} is not on chain ${input.chainId}`,
        );
      pad(b.lamport);
      const bytes = canonicalBytes(e);
      receipts.push(b.lamport, spoolEntry(bytes), bytes.length);
      if (b.lamport < from) from = b.lamport;
      // The first receipt (in input order) at the highest Lamport names the head, as buildEvidencePack.
      if (head === null || b.lamport > head.lamport) head = { lamport: b.lamport, hash: receiptHashOf(e) };
    }
    const receiptOrder = receipts.order();
    spool.flush();
    /** An entry's bytes from the spool (valid until the next call). */
    let scratch = new Uint8Array(64 * 1024);
    const spooled = (r: Records, i: number): Uint8Array => {
      const size = r.size[i] as number;
      if (scratch.length < size) scratch = new Uint8Array(Math.max(size, 2 * scratch.length));
      const data = scratch.subarray(0, size);
      readFully(spoolFd, data, r.offset[i] as number);
      return data;
    };

    const decisions = new Records('sha');
    for (const d of input.decisions) {
      const bytes = canonicalBytes(d);
      decisions.push(0, spoolEntry(bytes), bytes.length, sha256(bytes));
    }

    // A node whose payload is a receipt in the pack is filed without it (as buildEvidencePack): a
    // payload with those very bytes is a receipt envelope at that receipt's Lamport, so it is looked
    // up by Lamport among the receipts and compared by digest.
    const isPackedReceipt = (payload: unknown): boolean => {
      const p = payload as SignedEnvelope;
      if (p?.type !== RECEIPT_TYPE || typeof p.payload !== 'string') return false;
      let lamport: unknown;
      try {
        lamport = envelopeBody<{ lamport: unknown }>(p).lamport;
      } catch {
        return false;
      }
      if (typeof lamport !== 'number') return false;
      let at = firstWithKey(receipts, receiptOrder, lamport);
      if (at === -1) return false;
      const bytes = canonicalBytes(payload);
      for (; at < receiptOrder.length; at++) {
        const i = receiptOrder[at] as number;
        if (receipts.key[i] !== lamport) return false;
        if (receipts.size[i] === bytes.length && Buffer.compare(bytes, spooled(receipts, i)) === 0)
          return true;
      }
      return false;
    };
    const nodes = new Records('key+name');
    let nodeCount = 0;
    for (const n of input.nodes) {
      if (n.envelope.type === RECEIPT_TYPE) continue;
      nodeCount++;
      const body = envelopeBody<{ lamport: number }>(n.envelope);
      const withheld = n.payload === undefined || isPackedReceipt(n.payload);
      const doc = withheld ? { envelope: n.envelope } : { envelope: n.envelope, payload: n.payload };
      const bytes = canonicalBytes(doc);
      pad(body.lamport);
      nodes.push(body.lamport, spoolEntry(bytes), bytes.length, sha256(canonicalBytes(n.envelope)));
    }

    const requests = new Records('key');
    for (const r of input.requests ?? []) {
      pad(r.lamport);
      const bytes = canonicalBytes(r.body);
      requests.push(r.lamport, spoolEntry(bytes), bytes.length);
    }
    spool.flush();

    // The small entries, exactly as buildEvidencePack files them.
    const { files } = packEntries({ ...input, receipts: [], decisions: [], nodes: [], requests: [] });
    const condensed = (input.condensed ?? []).map((c) => ({
      lamport: Number(c.lamport),
      hash: String(c.entry_hash),
    }));
    let last = head?.lamport ?? 0;
    for (const c of condensed) {
      if (c.lamport < from) from = c.lamport;
      if (c.lamport > last) last = c.lamport;
    }
    if (receipts.n + condensed.length === 0) from = 0;
    if ((input.checkpoints ?? []).length > 0 && from !== 1)
      throw new EvidencePackError(
        'PACK_RANGE_WITH_CHECKPOINTS',
        `checkpoints need a whole-chain export from Lamport 1 (this one starts at ${from})`,
      );
    // The head: the full receipt at the last Lamport, else the condensed entry there.
    if (head !== null && head.lamport !== last) head = null;
    if (head === null) {
      const c = condensed.find((x) => x.lamport === last);
      if (c) head = { lamport: last, hash: c.hash };
    }

    const hex = (a: Uint8Array, i: number) => toHex(a.subarray(32 * i, 32 * i + 32));
    const kinds: Kind[] = [
      {
        prefix: 'decisions/',
        records: decisions,
        pathOf: (i) => `decisions/${hex(decisions.name as Uint8Array, i)}.json`,
      },
      {
        prefix: 'proofgraph/nodes/',
        records: nodes,
        pathOf: (i) =>
          `proofgraph/nodes/${pad(nodes.key[i] as number)}-${hex(nodes.name as Uint8Array, i)}.json`,
      },
      {
        prefix: 'receipts/',
        records: receipts,
        pathOf: (i) => `receipts/${pad(receipts.key[i] as number)}.json`,
      },
      {
        prefix: 'requests/',
        records: requests,
        pathOf: (i) => `requests/${pad(requests.key[i] as number)}.json`,
      },
    ];
    // Decisions sort by their digest (the key is 0 for all, the name digest decides).
    const orders = kinds.map((k) =>
      dedupe(k, k.records === receipts ? receiptOrder : k.records.order(), spooled),
    );
    const decisionCount = (orders[0] as Uint32Array).length;

    // The archive's entries in path order: small entries one by one, each kind as one run.
    type Item = { path: string; data: Uint8Array } | { path: string; kind: number };
    const items: Item[] = [...files]
      .filter(([p]) => p !== MANIFEST_PATH && p !== ENTRIES_PATH)
      .map(([p, data]) => ({ path: p, data }));
    kinds.forEach((k, kind) => {
      if (k.records.n > 0) items.push({ path: k.prefix, kind });
    });
    items.sort((a, b) => compareBytes(a.path, b.path));

    /** Every listed entry, in path order: (path, size, sha256 bytes). */
    const eachEntry = function* (): Generator<{ path: string; size: number; sha: Uint8Array }> {
      for (const item of items) {
        if (item.path === MANIFEST_PATH || item.path === ENTRIES_PATH) continue; // not listed (§4)
        if ('data' in item) {
          yield { path: item.path, size: item.data.length, sha: sha256(item.data) };
          continue;
        }
        const k = kinds[item.kind] as Kind;
        for (const i of orders[item.kind] as Uint32Array)
          yield {
            path: k.pathOf(i),
            size: k.records.size[i] as number,
            // A decision is named by its SHA-256; any other entry is hashed from the spool.
            sha:
              k.records.sortBy === 'sha'
                ? (k.records.name as Uint8Array).subarray(32 * i, 32 * i + 32)
                : sha256(spooled(k.records, i)),
          };
      }
    };
    /** The entry list's JCS text, chunk by chunk (exactly canonicalBytes of the list). */
    const eachListChunk = function* (onLeaf: (leaf: Uint8Array) => void): Generator<Uint8Array> {
      let parts: Uint8Array[] = [enc.encode('[')];
      let size = 1;
      let first = true;
      for (const e of eachEntry()) {
        const leaf = entryLeafBytes({ path: e.path, size: e.size, sha256: `sha256:${toHex(e.sha)}` });
        onLeaf(leaf);
        if (!first) parts.push(enc.encode(','));
        first = false;
        parts.push(leaf);
        size += leaf.length + 1;
        if (size >= CHUNK) {
          yield Buffer.concat(parts);
          parts = [];
          size = 0;
        }
      }
      parts.push(enc.encode(']'));
      yield Buffer.concat(parts);
    };
    // The list, generated once into its own scratch file: its size, SHA-256 and Merkle root for the
    // manifest binding (the entries' SHA-256 computed from the spool, in path order).
    listFd = openSync(listPath, 'w+');
    const list = new Sink(listFd);
    let count = 0;
    const frontier = new MerkleFrontier();
    for (const chunk of eachListChunk((leaf) => {
      frontier.append(merkleLeafHash(leaf));
      count++;
    }))
      list.write(chunk);
    list.flush();
    const listSize = list.length;
    const ref: EvidencePackEntriesRef = {
      count,
      size: listSize,
      sha256: `sha256:${list.hash.digest('hex')}`,
      root: `sha256:${toHex(frontier.root())}`,
    };
    const manifest = manifestOf(
      input,
      {
        from,
        to: last,
        head,
        counts: {
          receipts: receipts.n + condensed.length,
          decisions: decisionCount,
          nodes: nodeCount,
          checkpoints: input.checkpoints?.length ?? 0,
        },
      },
      ref,
    );
    const manifestBytes = canonicalBytes(signEnvelope(manifest as unknown as { type: string }, [signer]));
    if (listSize > MAX_ENTRY_BYTES)
      throw new EvidencePackError('PACK_TOO_LARGE', `entry too large: ${ENTRIES_PATH}`);
    items.push({ path: ENTRIES_PATH, data: new Uint8Array(0) }, { path: MANIFEST_PATH, data: manifestBytes });
    items.sort((a, b) => compareBytes(a.path, b.path));

    // Pass 2: the tar, entry by entry, in path order.
    outFd = openSync(partPath, 'w');
    const out = new Sink(outFd);
    const entry = (p: string, size: number) => {
      if (!isSafePath(p)) throw new EvidencePackError('PACK_PATH_INVALID', `unsafe entry path: ${p}`);
      out.write(header(p, size));
    };
    const padTo = (size: number) => out.zeros((BLOCK - (size % BLOCK)) % BLOCK);
    for (const item of items) {
      if (item.path === ENTRIES_PATH) {
        entry(ENTRIES_PATH, listSize);
        const chunk = new Uint8Array(CHUNK);
        for (let at = 0; at < listSize; at += CHUNK) {
          const view = chunk.subarray(0, Math.min(CHUNK, listSize - at));
          readFully(listFd, view, at);
          out.write(view);
        }
        padTo(listSize);
        continue;
      }
      if ('data' in item) {
        entry(item.path, item.data.length);
        out.write(item.data);
        padTo(item.data.length);
        continue;
      }
      const k = kinds[item.kind] as Kind;
      for (const i of orders[item.kind] as Uint32Array) {
        const size = k.records.size[i] as number;
        const data = spooled(k.records, i);
        entry(k.pathOf(i), size);
        out.write(data);
        padTo(size);
      }
    }
    out.zeros(2 * BLOCK);
    out.flush();
    closeSync(outFd);
    outFd = undefined;
    renameSync(partPath, path);
    return { path, digest: `sha256:${out.hash.digest('hex')}`, bytes: out.length, manifest };
  } catch (error) {
    if (outFd !== undefined) closeSync(outFd);
    rmSync(partPath, { force: true });
    throw error;
  } finally {
    if (listFd !== undefined) closeSync(listFd);
    rmSync(listPath, { force: true });
    closeSync(spoolFd);
    rmSync(spoolPath, { force: true });
  }
}

/**
 * A kind's order without repeated paths: the same path twice is one entry when the bytes are the
 * same (a decision named by two receipts) and PACK_DUPLICATE_ENTRY when they differ (as `put`).
 */
function dedupe(k: Kind, order: Uint32Array, spooled: (r: Records, i: number) => Uint8Array): Uint32Array {
  const r = k.records;
  const keep: number[] = [];
  for (const i of order) {
    const prev = keep.length ? (keep[keep.length - 1] as number) : -1;
    if (prev !== -1 && r.sameName(prev, i)) {
      const same =
        r.size[prev] === r.size[i] && Buffer.compare(Buffer.from(spooled(r, prev)), spooled(r, i)) === 0;
      if (!same)
        throw new EvidencePackError('PACK_DUPLICATE_ENTRY', `two different documents for ${k.pathOf(i)}`);
      continue;
    }
    keep.push(i);
  }
  return keep.length === order.length ? order : Uint32Array.from(keep);
}

/** Position (in `order`) of the first record with this key, by binary search; -1 when none. */
function firstWithKey(r: Records, order: Uint32Array, key: number): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((r.key[order[mid] as number] as number) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo < order.length && r.key[order[lo] as number] === key ? lo : -1;
}
