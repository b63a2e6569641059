// Building an EvidencePack: a pure function from the evidence (signed envelopes and documents) to
// the deterministic tar bytes. Every entry's path and bytes are derived from content only (Lamport
// values, digests), every JSON entry is RFC 8785 JCS, and the tar writer sorts paths, so the same
// evidence always yields the same bytes whatever order it was read from storage in.
import { RECEIPT_TYPE, type SignedEnvelope } from '@helm/contracts';
import { canonicalBytes, digest, fromBase64Url, type Signer, signEnvelope, toHex } from '@helm/crypto';
import { MerkleFrontier, merkleLeafHash } from '@helm/proofgraph';
import { receiptHash } from '@helm/receipts';
import { EvidencePackError } from './errors.js';
import { REPLAY_README, REPLAY_SCRIPT } from './internal/replay-script.js';
import {
  EVIDENCEPACK_ENTRIES_PATH,
  EVIDENCEPACK_FORMAT_VERSION,
  EVIDENCEPACK_MANIFEST_TYPE,
  type EvidencePackEntriesRef,
  type EvidencePackEntry,
  type EvidencePackManifest,
} from './manifest.js';
import { type TarEntry, writeTar } from './tar.js';

export const MANIFEST_PATH = 'manifest.json';
/** The entry list the manifest binds by digest (§4); like manifest.json, not listed in itself. */
export const ENTRIES_PATH = EVIDENCEPACK_ENTRIES_PATH;
export const INDEX_PATH = 'index.json';
export const INDEX_TYPE = 'helm.evidencepack.index.v1';
export const TRUST_SNAPSHOT_PATH = 'trust/snapshot.json';
export const CONSISTENCY_PATH = 'checkpoints/consistency.json';

export interface PackNode {
  readonly envelope: SignedEnvelope;
  /** The node's payload value when retained (validated against its payload_hash). */
  readonly payload?: unknown;
}

export interface PackArtifact {
  readonly name: string;
  readonly version: string;
  /** `p0`, `bundle`, `overlay`, … for policies; free text elsewhere. */
  readonly kind: string;
  readonly document: unknown;
}

export interface PackInput {
  /** e.g. `helm-ts/0.1.0`. */
  readonly producer: string;
  readonly chainId: string;
  readonly sessionId: string | null;
  /** Receipt envelopes of one chain (any order; sorted by Lamport here). */
  readonly receipts: readonly SignedEnvelope[];
  readonly decisions: readonly SignedEnvelope[];
  readonly nodes: readonly PackNode[];
  /** Signed checkpoints of the chain's Merkle log, oldest first (each the successor of the previous). */
  readonly checkpoints?: readonly SignedEnvelope[];
  /** consistency[i]: RFC 9162 consistency proof from checkpoints[i] to checkpoints[i + 1]. */
  readonly consistency?: readonly (readonly string[])[];
  /** Condensed entries (`helm.condensed.v1`) replacing LOW receipts under a checkpoint. */
  readonly condensed?: readonly Record<string, unknown>[];
  /** The trust registry snapshot (`helm.trust.snapshot.v1`). */
  readonly trustSnapshot: { readonly genesis: string } & Record<string, unknown>;
  readonly policies: readonly PackArtifact[];
  /** Tool descriptors in force (`helm.tool.v1`), with their JSON Schemas inline. */
  readonly tools: readonly Record<string, unknown>[];
  /** WASM modules bound by sandbox tools. */
  readonly modules?: readonly { readonly name: string; readonly bytes: Uint8Array }[];
  /**
   * Recorded requests and their clock readings, keyed by the Lamport value of their receipt: each
   * body is `{request, clock_ms, …}` whose `request` hashes (JCS) to the receipt's `request_digest`.
   */
  readonly requests?: readonly { readonly lamport: number; readonly body: unknown }[];
}

export interface BuiltPack {
  readonly bytes: Uint8Array;
  /** `digest(bytes)` of the whole archive. */
  readonly digest: string;
  readonly manifest: EvidencePackManifest;
}

/** Lamport values and tree sizes name entries with exactly 12 digits (§3), so they stay below 10^12. */
export const MAX_LAMPORT_EXCLUSIVE = 1_000_000_000_000;

/**
 * The 12-digit name of a Lamport value or tree size, shared by both exporters so they file entries
 * alike: a value that is not a non-negative integer is PACK_INPUT_INVALID (its name would not sort
 * like its number, and the reader refuses such names anyway), one ≥ 10^12 PACK_LAMPORT_TOO_LARGE.
 */
export const pad = (n: number): string => {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new EvidencePackError(
      'PACK_INPUT_INVALID',
      `Lamport value or tree size ${n} is not a non-negative integer: EvidencePack v1 names entries with exactly 12 digits`,
    );
  if (n >= MAX_LAMPORT_EXCLUSIVE)
    throw new EvidencePackError(
      'PACK_LAMPORT_TOO_LARGE',
      `Lamport value or tree size ${n} is ≥ 10^12: EvidencePack v1 names entries with exactly 12 digits`,
    );
  return String(n).padStart(12, '0');
};
const hexOf = (d: string) => d.slice('sha256:'.length);
const json = (value: unknown) => canonicalBytes(value);
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Decode an envelope's JCS payload (throws PACK_INPUT_INVALID when it is not JSON). */
export function envelopeBody<T = Record<string, unknown>>(envelope: SignedEnvelope): T {
  const bytes = typeof envelope?.payload === 'string' ? fromBase64Url(envelope.payload) : undefined;
  try {
    if (!bytes) throw new Error('payload');
    return JSON.parse(decoder.decode(bytes)) as T;
  } catch {
    throw new EvidencePackError(
      'PACK_INPUT_INVALID',
      `envelope of type ${String(envelope?.type)} has no JSON payload`,
    );
  }
}

function put(files: Map<string, Uint8Array>, path: string, data: Uint8Array): void {
  const existing = files.get(path);
  if (existing && digest(existing) !== digest(data)) {
    throw new EvidencePackError('PACK_DUPLICATE_ENTRY', `two different documents for ${path}`);
  }
  files.set(path, data);
}

/** Build the entries (everything except the manifest) of a pack. */
export function packEntries(input: PackInput): { files: Map<string, Uint8Array> } {
  const signedNodes = withoutReceiptNodes(input.nodes);
  const files = new Map<string, Uint8Array>();
  const receipts = input.receipts
    .map((e) => ({ e, b: envelopeBody<{ lamport: number; chain_id: string }>(e) }))
    .sort((x, y) => x.b.lamport - y.b.lamport);
  for (const { e, b } of receipts) {
    if (b.chain_id !== input.chainId || !Number.isSafeInteger(b.lamport)) {
      throw new EvidencePackError(
        'PACK_INPUT_INVALID',
        `receipt at Lamport ${b.lamport} is not on chain ${input.chainId}`,
      );
    }
    put(files, `receipts/${pad(b.lamport)}.json`, json(e));
  }
  for (const d of input.decisions) {
    put(files, `decisions/${hexOf(digest(json(d)))}.json`, json(d));
  }
  // A node whose payload is a receipt already in the pack is stored without it: the node commits
  // to it through payload_hash = digest(JCS(receipt)), and the receipt is in receipts/ (no copy).
  const inPack = new Set(input.receipts.map((e) => digest(json(e))));
  for (const n of signedNodes) {
    const body = envelopeBody<{ lamport: number }>(n.envelope);
    const withheld = n.payload === undefined || inPack.has(digest(json(n.payload)));
    const doc = withheld ? { envelope: n.envelope } : { envelope: n.envelope, payload: n.payload };
    put(files, `proofgraph/nodes/${pad(body.lamport)}-${hexOf(digest(json(n.envelope)))}.json`, json(doc));
  }
  for (const c of input.checkpoints ?? []) {
    const body = envelopeBody<{ tree_size: number }>(c);
    put(files, `checkpoints/${pad(body.tree_size)}-${hexOf(digest(json(c)))}.json`, json(c));
  }
  if ((input.checkpoints ?? []).length > 1) put(files, CONSISTENCY_PATH, json(input.consistency ?? []));
  for (const e of input.condensed ?? []) {
    if (e.log_id !== input.chainId || !Number.isSafeInteger(e.lamport)) {
      throw new EvidencePackError('PACK_INPUT_INVALID', 'condensed entry is not of this chain');
    }
    put(files, `condensed/${pad(Number(e.lamport))}.json`, json(e));
  }
  put(files, TRUST_SNAPSHOT_PATH, json(input.trustSnapshot));
  const index = {
    type: INDEX_TYPE,
    policies: [] as unknown[],
    tools: [] as unknown[],
    schemas: [] as unknown[],
    modules: [] as unknown[],
  };
  const schemas = new Map<string, unknown>();
  for (const p of input.policies) {
    const bytes = json(p.document);
    const path = `policies/${hexOf(digest(bytes))}.json`;
    put(files, path, bytes);
    index.policies.push({ kind: p.kind, name: p.name, version: p.version, digest: digest(bytes), path });
  }
  for (const t of input.tools) {
    const bytes = json(t);
    const d = digest(bytes);
    const path = `tools/${hexOf(d)}.json`;
    put(files, path, bytes);
    const ref = (schema: unknown) => {
      const sd = digest(json(schema ?? null));
      schemas.set(sd, schema ?? null);
      return sd;
    };
    index.tools.push({
      name: t.name,
      descriptor_digest: d,
      path,
      input_schema: ref(t.input_schema),
      output_schema: ref(t.output_schema),
      driver: t.driver ?? null,
    });
  }
  for (const [sd, schema] of schemas) {
    const path = `schemas/${hexOf(sd)}.json`;
    put(files, path, json(schema));
    index.schemas.push({ digest: sd, path });
  }
  for (const m of input.modules ?? []) {
    const d = digest(m.bytes);
    const path = `modules/${hexOf(d)}.wasm`;
    put(files, path, m.bytes);
    index.modules.push({ name: m.name, digest: d, path });
  }
  for (const r of input.requests ?? []) put(files, `requests/${pad(r.lamport)}.json`, json(r.body));
  const byKey = (k: string) => (a: unknown, b: unknown) => {
    const x = String((a as Record<string, unknown>)[k]);
    const y = String((b as Record<string, unknown>)[k]);
    return x < y ? -1 : x > y ? 1 : 0;
  };
  index.policies.sort(byKey('path'));
  index.tools.sort(byKey('path'));
  index.schemas.sort(byKey('path'));
  index.modules.sort(byKey('path'));
  put(files, INDEX_PATH, json(index));
  put(files, 'replay/readme.md', new TextEncoder().encode(REPLAY_README));
  put(files, 'replay/replay.mjs', new TextEncoder().encode(REPLAY_SCRIPT));
  return { files };
}

/**
 * Sorted entry list for a set of files (`manifest.json` and `manifest/entries.json`, the two
 * entries not listed, are left out).
 */
export function manifestEntries(files: ReadonlyMap<string, Uint8Array>): EvidencePackEntry[] {
  const entries = [...files]
    .filter(([path]) => path !== MANIFEST_PATH && path !== ENTRIES_PATH)
    .map(([path, data]) => ({ path, size: data.length, sha256: digest(data) }));
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * RFC 9162 Merkle tree hash of an entry list: leaf i = JCS({path, size, sha256}) of entry i (in
 * list order); the empty list has the empty-tree root.
 */
export function entriesRoot(entries: readonly EvidencePackEntry[]): string {
  // Folded leaf by leaf (the same RFC 9162 root, without an array of every leaf hash).
  const frontier = new MerkleFrontier();
  for (const e of entries) frontier.append(merkleLeafHash(entryLeafBytes(e)));
  return `sha256:${toHex(frontier.root())}`;
}

/** Characters JCS writes as themselves inside a string (no escape, one UTF-8 byte). */
const PLAIN_JSON_TEXT = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * JCS({path, size, sha256}) of one entry. The keys sort as path < sha256 < size; entry paths and
 * digests are printable ASCII needing no escape, so the text is written directly (the general
 * canonicalizer otherwise); the bytes are the same either way.
 */
export function entryLeafBytes(e: EvidencePackEntry): Uint8Array {
  if (
    typeof e.path === 'string' &&
    typeof e.sha256 === 'string' &&
    Number.isSafeInteger(e.size) &&
    e.size >= 0 &&
    PLAIN_JSON_TEXT.test(e.path) &&
    PLAIN_JSON_TEXT.test(e.sha256)
  )
    return leafEncoder.encode(`{"path":"${e.path}","sha256":"${e.sha256}","size":${e.size}}`);
  return canonicalBytes({ path: e.path, size: e.size, sha256: e.sha256 });
}
const leafEncoder = new TextEncoder();

/**
 * The entry list file (`manifest/entries.json`, JCS) and its signed binding for the manifest's
 * `entries` field (§4).
 */
export function bindEntries(entries: readonly EvidencePackEntry[]): {
  readonly ref: EvidencePackEntriesRef;
  readonly data: Uint8Array;
} {
  const data = canonicalBytes(entries);
  return {
    ref: { count: entries.length, size: data.length, sha256: digest(data), root: entriesRoot(entries) },
    data,
  };
}

/**
 * The archive of `files` (any `manifest.json` / `manifest/entries.json` among them are replaced)
 * with a manifest `body` whose `entries` binding is recomputed, signed by `signers`.
 */
export function sealArchive(
  files: ReadonlyMap<string, Uint8Array>,
  body: Record<string, unknown>,
  signers: readonly Signer[],
): Uint8Array {
  const { ref, data } = bindEntries(manifestEntries(files));
  const envelope = signEnvelope({ ...body, entries: ref } as unknown as { type: string }, signers);
  const tarEntries: TarEntry[] = [...files]
    .filter(([path]) => path !== MANIFEST_PATH && path !== ENTRIES_PATH)
    .map(([path, data]) => ({ path, data }));
  tarEntries.push({ path: ENTRIES_PATH, data }, { path: MANIFEST_PATH, data: json(envelope) });
  return writeTar(tarEntries);
}

/**
 * Build and sign an EvidencePack. `signer` must hold the `executor` role at the head of the
 * included trust snapshot (verifiers check exactly that).
 */
/**
 * The nodes that go to proofgraph/nodes/: a receipt node (a `helm.receipt.v1` envelope, docs/spec/
 * node.md §Receipt nodes) is the receipt itself, already in receipts/ or condensed/, so it is not
 * filed twice.
 */
function withoutReceiptNodes(nodes: readonly PackNode[]): readonly PackNode[] {
  return nodes.filter((n) => n.envelope.type !== RECEIPT_TYPE);
}

/** What the export found in the evidence, for the manifest (§4). */
export interface ManifestFacts {
  readonly from: number;
  readonly to: number;
  readonly head: { readonly lamport: number; readonly hash: string } | null;
  readonly counts: EvidencePackManifest['counts'];
}

/** The manifest body (§4) of a pack whose entry list is bound by `entries`. */
export function manifestOf(
  input: Pick<PackInput, 'producer' | 'chainId' | 'sessionId' | 'trustSnapshot'>,
  facts: ManifestFacts,
  entries: EvidencePackEntriesRef,
): EvidencePackManifest {
  return {
    type: EVIDENCEPACK_MANIFEST_TYPE,
    format_version: EVIDENCEPACK_FORMAT_VERSION,
    producer: input.producer,
    scope: {
      chain_id: input.chainId,
      session_id: input.sessionId,
      from_lamport: facts.from,
      to_lamport: facts.to,
    },
    head: facts.head,
    trust_anchor: input.trustSnapshot.genesis,
    counts: facts.counts,
    entries,
  };
}

export function buildEvidencePack(input: PackInput, signer: Signer): BuiltPack {
  const { files } = packEntries(input);
  const full = input.receipts.map((e) => ({ lamport: envelopeBody<{ lamport: number }>(e).lamport, e }));
  const condensed = (input.condensed ?? []).map((c) => ({
    lamport: Number(c.lamport),
    hash: String(c.entry_hash),
  }));
  const lamports = [...full.map((x) => x.lamport), ...condensed.map((x) => x.lamport)];
  // A condensed history verifies from Lamport 1 against its checkpoints (§3, condensed-entry.md):
  // a range export with checkpoints could never verify, so it is refused here.
  // Loops, not Math.min(...lamports): a spread of 10^5+ arguments overflows the stack.
  let from = lamports.length ? Number.POSITIVE_INFINITY : 0;
  let last = 0;
  for (const l of lamports) {
    if (l < from) from = l;
    if (l > last) last = l;
  }
  if ((input.checkpoints ?? []).length > 0 && from !== 1)
    throw new EvidencePackError(
      'PACK_RANGE_WITH_CHECKPOINTS',
      `checkpoints need a whole-chain export from Lamport 1 (this one starts at ${from})`,
    );
  const bound = bindEntries(manifestEntries(files));
  const headEnvelope = full.find((x) => x.lamport === last)?.e;
  const headCondensed = condensed.find((x) => x.lamport === last);
  const manifest = manifestOf(
    input,
    {
      from,
      to: last,
      head: headEnvelope
        ? { lamport: last, hash: receiptHashOf(headEnvelope) }
        : headCondensed
          ? { lamport: last, hash: headCondensed.hash }
          : null,
      counts: {
        receipts: input.receipts.length + condensed.length,
        decisions: new Set(input.decisions.map((d) => digest(json(d)))).size,
        nodes: withoutReceiptNodes(input.nodes).length,
        checkpoints: input.checkpoints?.length ?? 0,
      },
    },
    bound.ref,
  );
  const envelope = signEnvelope(manifest as unknown as { type: string }, [signer]);
  const tarEntries: TarEntry[] = [...files].map(([path, data]) => ({ path, data }));
  tarEntries.push({ path: ENTRIES_PATH, data: bound.data }, { path: MANIFEST_PATH, data: json(envelope) });
  const bytes = writeTar(tarEntries);
  return { bytes, digest: digest(bytes), manifest };
}

/** The receipt hash rule of @helm/receipts (digest of the receipt's signature). */
export function receiptHashOf(envelope: SignedEnvelope): string {
  const h = receiptHash(envelope);
  if (!h) throw new EvidencePackError('PACK_INPUT_INVALID', 'receipt envelope has no single signature');
  return h;
}
