// Offline EvidencePack verification (normative algorithm: docs/spec/evidencepack.md §5). Needs the
// pack bytes and, to reach PASS, the trust anchor the verifier pins; never the network or a HELM
// data directory. Every check reports a stable code and a status: PASS, FAILED (the evidence
// contradicts itself or was tampered with), UNVERIFIABLE (trust material missing, or a newer
// format than this verifier knows) or SKIPPED (nothing of that kind in the pack).
import {
  CONDENSED_ENTRY_TYPE,
  DECISION_TYPE,
  RECEIPT_TYPE,
  type SignedEnvelope,
  TRUST_SNAPSHOT_TYPE,
} from '@helm/contracts';
import {
  bytesEqual,
  canonicalBytes,
  canonicalize,
  digest,
  fromHex,
  openVerifiedEnvelope,
  parseStrictJson,
  toHex,
} from '@helm/crypto';
import type { NodeVerdict } from '@helm/parallel-verify';
import {
  checkGraphItem,
  type GraphItem,
  type GraphVerifyResult,
  type ItemFailure,
  type LinkedNode,
  logLeafHash,
  MerkleFrontier,
  nodeSignerRole,
  verifyCondensedHistory,
} from '@helm/proofgraph';
import {
  linkReceipts,
  RECEIPT_SIGNER_ROLE,
  type ReceiptFailure,
  type ReceiptSummary,
  receiptHash,
  verifyReceipt,
} from '@helm/receipts';
import { defaultRoleMapping, importTrustSnapshot, type TrustRegistry } from '@helm/trust';
// Node: file source and worker pool; browser: in-memory bytes only (package.json "imports").
import { bytesSource, type EnvelopeVerdict, fileSource, ReceiptVerifyPool } from '#evidencepack-platform';
import {
  CONSISTENCY_PATH,
  ENTRIES_PATH,
  entriesRoot,
  INDEX_PATH,
  INDEX_TYPE,
  MANIFEST_PATH,
  envelopeBody as plainEnvelopeBody,
  TRUST_SNAPSHOT_PATH,
} from './export.js';
import {
  GOVERNANCE_ACTION_ROLES,
  GOVERNANCE_ADMIN_ACTIONS,
  GOVERNANCE_ADMIN_TOOL_PREFIX,
  GOVERNANCE_EVENT_TYPE,
  type GovernanceAction,
} from './governance.js';
import { adminBodyHolds } from './internal/admin-bodies.js';
import { DecisionIndex } from './internal/decision-index.js';
import { compactEntryList, EntryIndex, EntryJoin } from './internal/entry-index.js';
import { EntryListScanner } from './internal/entry-list.js';
// Type only (erased): declarations name the Node module, not the conditional `#` import.
import type { EntrySource } from './internal/entry-source.js';
import type { EntryTable, PackEntryRef } from './internal/entry-table.js';
import { LinkStore, linkInSlices, validateGraphInSlices } from './internal/graph-slices.js';
import { ListBytes } from './internal/list-bytes.js';
import { NumberList, type ReceiptInfo, ReceiptInfos, ReceiptSummaries } from './internal/receipt-infos.js';
import {
  bodyOf,
  entriesProblem,
  entryShape,
  manifestEnvelopeProblem,
  manifestProblem as manifestSchemaProblem,
  trustSnapshotProblem,
} from './internal/shapes.js';
import {
  EVIDENCEPACK_FORMAT_VERSION,
  EVIDENCEPACK_MANIFEST_TYPE,
  type EvidencePackEntry,
  type EvidencePackManifest,
} from './manifest.js';

export type CheckStatus = 'PASS' | 'FAILED' | 'UNVERIFIABLE' | 'SKIPPED';

/** Stable check codes, in the order they run. */
export const CHECK_CODES = [
  'PACK_FORMAT',
  'MANIFEST_FORMAT',
  'ENTRY_HASHES',
  'COMPLETENESS',
  'ENTRY_NAMES',
  'TRUST_SNAPSHOT',
  'TRUST_ANCHOR',
  'MANIFEST_SIGNATURE',
  'RECEIPT_CHAIN',
  'RECEIPT_SCOPE',
  'DECISIONS',
  'PROOFGRAPH',
  'PROOFGRAPH_RECEIPTS',
  'CHECKPOINTS',
  'ARTIFACTS',
  'REQUESTS',
] as const;
export type CheckCode = (typeof CHECK_CODES)[number];

export interface Check {
  readonly code: CheckCode;
  readonly status: CheckStatus;
  readonly message: string;
  /** The underlying verifier's code (e.g. receipts' LINK_BROKEN), when any. */
  readonly detail?: string;
  /** The offending entry, when one is to blame. */
  readonly path?: string;
}

export interface VerifyReport {
  readonly status: 'PASS' | 'FAILED' | 'UNVERIFIABLE';
  /** SHA-256 of the archive: a content id (one evidence has exactly one accepted archive, §2). */
  readonly pack_digest: string;
  readonly manifest: EvidencePackManifest | null;
  /**
   * True when the manifest is of a newer format than this verifier knows (§5.1): only the
   * version-independent checks ran; the status is never PASS and the pack is NOT verified.
   */
  readonly format_unsupported: boolean;
  readonly checks: readonly Check[];
  /**
   * The trust freshness this verification established (docs/spec/evidencepack.md §5.3): always
   * present, so a PASS without a pin says so (`pinned: false`, `source: 'none'`).
   */
  readonly freshness: TrustFreshness;
}

/** Where a freshness pin came from: a verifier's flag, the data directory verified against, or none. */
export type FreshnessSource = 'flag' | 'data-dir' | 'none';

/**
 * The kind of freshness pin given (§5.3): `trust-head` (the snapshot continues a registry head the
 * verifier holds: staleness and forks are refused), `min-seq` (a minimum seq only: staleness is
 * refused, a fork is NOT — any key once valid in the registry can extend an older copy of it by
 * self-rotation to any seq), or `none`.
 */
export type FreshnessPin = 'trust-head' | 'min-seq' | 'none';

/** A registry head the verifier holds: the event digest `head` at sequence number `seq`. */
export interface TrustHeadPin {
  readonly seq: number;
  readonly head: string;
}

/**
 * The text form of a pin, `<seq>:sha256:<64 lowercase hex>` (what `helmts trust head` prints and
 * `--trust-head` / the server's `trust_head` take), parsed; undefined when malformed — callers
 * report that as a usage error, never as a verdict.
 */
export function parseTrustHeadPin(text: string): TrustHeadPin | undefined {
  const m = /^([1-9][0-9]{0,14}):(sha256:[0-9a-f]{64})$/.exec(text);
  return m && Number.isSafeInteger(Number(m[1])) ? { seq: Number(m[1]), head: m[2] as string } : undefined;
}

/**
 * What the verifier knows about how current the pack's trust registry is. `seq`/`head` are the
 * included snapshot's head (null without a verified snapshot). Unpinned, any valid older copy of
 * the registry replays as well, so a key rotated out later may still verify (§5.3).
 */
export interface TrustFreshness {
  /**
   * True when a freshness pin (`minTrustSeq` or `trustHead`) was held against a verified trust
   * snapshot; false without a pin, and when the pack has no snapshot that verifies (nothing to pin).
   */
  readonly pinned: boolean;
  /** The kind of pin given; `min-seq` alone does not rule out a forked registry (§5.3). */
  readonly pin: FreshnessPin;
  readonly source: FreshnessSource;
  readonly seq: number | null;
  readonly head: string | null;
  /** The minimum registry seq the snapshot had to reach (the larger of `minTrustSeq` and `trustHead.seq`). */
  readonly min_seq: number | null;
  /** The pinned head the snapshot had to continue. */
  readonly pinned_head: TrustHeadPin | null;
}

export interface VerifyOptions {
  /** The trust anchor (genesis digest) the verifier expects; without it TRUST_ANCHOR is UNVERIFIABLE. */
  readonly trustAnchor?: string;
  /** Verify receipt signatures on a worker pool when the pack holds at least this many (default 2000). */
  readonly parallelThreshold?: number;
  /** Worker count for the pool (default: available parallelism); 0 disables the pool. */
  readonly workers?: number;
  /**
   * The chain head the verifier expects (a receipt hash, `sha256:…`, e.g. from an earlier pack, a
   * monitor or a witness): a pack whose manifest head differs is FAILED (RECEIPT_SCOPE, detail
   * `EXPECTED_HEAD_MISMATCH`). Without it, completeness at the tail is relative to the sealer (§4).
   */
  readonly expectHead?: string;
  /** The Lamport value of the expected head (same check; 0 expects an empty pack). */
  readonly expectLamport?: number;
  /**
   * Freshness pin: the included trust snapshot must reach at least this registry seq, else
   * TRUST_SNAPSHOT is FAILED with detail `TRUST_SNAPSHOT_STALE` (§5.3).
   */
  readonly minTrustSeq?: number;
  /**
   * Freshness pin: a registry head the verifier holds (e.g. its own registry's current head). The
   * snapshot must reach `seq` (`TRUST_SNAPSHOT_STALE`) and its event digest at `seq` must be
   * `head` (`TRUST_SNAPSHOT_FORKED`): the pack's registry is then a continuation of the pinned one.
   */
  readonly trustHead?: TrustHeadPin;
  /** Reported as `freshness.source` when a pin is given (default `flag`). */
  readonly pinSource?: Exclude<FreshnessSource, 'none'>;
  /** Progress of the long phases: `done` of `total` units. */
  readonly onProgress?: (phase: string, done: number, total: number) => void;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

type ReceiptCheckBody = Extract<ReturnType<typeof verifyReceipt>, { ok: true }>['body'];

function parseJson(data: Uint8Array): unknown {
  return JSON.parse(decoder.decode(data));
}

/**
 * The entry parsed, when its bytes are exactly canonicalBytes(value); else throws (the same
 * errors, the same verdict as comparing canonicalBytes(value) with the bytes). Compared as text:
 * canonicalBytes is the UTF-8 encoding of canonicalize, and the text decoded strictly from the
 * bytes re-encodes to exactly them — except for a leading byte order mark, which the decoder drops
 * (such an entry is not canonical).
 */
function parseCanonicalJson(data: Uint8Array): unknown {
  const text = decoder.decode(data);
  const value = JSON.parse(text) as unknown;
  const bom = data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf;
  if (bom || canonicalize(value) !== text) throw new Error('not canonical JCS');
  return value;
}

const NODE_DOCUMENT_PREFIX = new TextEncoder().encode('{"envelope":');

/**
 * A signed node document `{"envelope": E}` whose bytes are canonical holds JCS(E) verbatim between
 * its 12-byte prefix and its closing brace, so its node hash digest(JCS(E)) is the SHA-256 of that
 * slice: recorded for E instead of serializing E again (name check, graph pass). Documents that
 * also carry a payload are left to envelopeDigest.
 */
function noteNodeDigest(path: string, data: Uint8Array, value: unknown): void {
  if (!path.startsWith('proofgraph/nodes/') || !isObject(value)) return;
  const envelope = value.envelope;
  if (!isObject(envelope) || Object.keys(value).length !== 1) return;
  for (let i = 0; i < NODE_DOCUMENT_PREFIX.length; i++) if (data[i] !== NODE_DOCUMENT_PREFIX[i]) return;
  if (data[data.length - 1] !== 0x7d) return;
  envelopeDigests.set(envelope, digest(data.subarray(NODE_DOCUMENT_PREFIX.length, data.length - 1)));
}

/** Node kinds are signed by the executor's key (ProofGraph role `node:<KIND>` → registry `executor`). */
function mapRole(role: string) {
  return role.startsWith('node:') ? 'executor' : defaultRoleMapping(role);
}

const pad = (n: number) => String(n).padStart(12, '0');
const hexOf = (d: string) => d.slice('sha256:'.length);

function overall(checks: readonly Check[]): VerifyReport['status'] {
  if (checks.some((c) => c.status === 'FAILED')) return 'FAILED';
  if (checks.some((c) => c.status === 'UNVERIFIABLE')) return 'UNVERIFIABLE';
  return 'PASS';
}

/** Every field against the manifest schema (§4: exactly the listed fields, e.g. no trust base or stride in the scope). */
function manifestProblem(m: unknown): string | undefined {
  return manifestSchemaProblem(m);
}

/**
 * The entry list `manifest/entries.json` against the manifest's signed binding (§4, §5 step 2):
 * exactly `size` bytes with SHA-256 `sha256` (checked before it is parsed), canonical JCS of a list
 * of `{path, size, sha256}` sorted bytewise by path and unique, not naming `manifest.json` or
 * itself, `count` long, with RFC 9162 root `root`. Throws the problem.
 */
function entryList(
  manifest: EvidencePackManifest,
  entries: EntryTable,
  listRef: PackEntryRef | undefined,
  source: EntrySource,
): EntryJoin {
  const ref = manifest.entries;
  if (listRef === undefined) throw new Error(`${ENTRIES_PATH} is missing`);
  const mismatch = () => new Error(`${ENTRIES_PATH} does not match the size and SHA-256 the manifest signs`);
  if (listRef.size !== ref.size) throw mismatch();
  const reserved = [MANIFEST_PATH, ENTRIES_PATH];
  // A canonical list of the right shape is scanned and joined with the archive as it is read, in
  // chunks, never held whole (big packs; §5.2); its items count only once the bytes hash to the
  // signed SHA-256 (a mismatch is reported first, as if nothing had been parsed). Anything else is
  // read whole and parsed, and its first problem reported in this order: canonical, shape.
  // The listed digests are read again from the list's bytes (ListBytes) rather than kept.
  const bytes = listBytes(source, listRef);
  let join = new EntryJoin(entries, reserved, { bytes, size: listRef.size });
  const scanner = new EntryListScanner((path, size, sha256, hexOffset) =>
    join.add(path, size, sha256, hexOffset),
  );
  const streamed = source.stream(listRef, (chunk) => {
    scanner.push(chunk);
    bytes.push(chunk);
  });
  if (streamed !== ref.sha256) throw mismatch();
  bytes.finish();
  let scanned = scanner.finish();
  if (scanned === undefined) {
    const data = source.read(listRef);
    if (data.length !== ref.size || digest(data) !== ref.sha256) throw mismatch();
    const value = parseJson(data);
    if (!bytesEqual(canonicalBytes(value), data)) throw new Error(`${ENTRIES_PATH} is not canonical JCS`);
    const shape = entriesProblem(value);
    if (shape) throw new Error(`${ENTRIES_PATH} ${shape}`);
    const items = value as EvidencePackEntry[];
    const root = fromHex(hexOf(entriesRoot(items))) as Uint8Array;
    const list = compactEntryList(items, root);
    join = new EntryJoin(entries, reserved);
    for (let l = 0; l < list.paths.length; l++)
      join.add(list.paths[l] as string, list.sizes[l] as number, list.digests.subarray(32 * l, 32 * l + 32));
    scanned = { count: list.paths.length, root };
  }
  if (join.problem !== undefined) throw new Error(join.problem);
  if (scanned.count !== ref.count)
    throw new Error(`the entry list has ${scanned.count} entries, not ${ref.count}`);
  if (`sha256:${toHex(scanned.root)}` !== ref.root)
    throw new Error('the entry list does not hash to the signed root');
  return join;
}

/**
 * The list's bytes, read again. Built here, not in entryList: a closure there would share
 * entryList's V8 context, and with it the scanner and its last buffer (the whole list when it is
 * read in one chunk), for as long as the join lives.
 */
function listBytes(source: EntrySource, listRef: PackEntryRef): ListBytes {
  return new ListBytes(listRef.size, (start, length) => source.readRange(listRef, start, length));
}

const MANIFEST_TYPE_PATTERN = /^helm\.evidencepack\.manifest\.v([1-9][0-9]{0,8})$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * §4: the manifest is sealed by a key holding `executor` at the head of the included trust
 * snapshot. The rule is the same for every manifest version (the type is inside the signed PAE).
 */
function manifestSignatureCheck(envelope: SignedEnvelope, type: string, registry: TrustRegistry): Check {
  try {
    const v = openVerifiedEnvelope(envelope, type, registry.lookupFor('executor', registry.seq));
    return {
      code: 'MANIFEST_SIGNATURE',
      status: 'PASS',
      message: `manifest signed by ${v.keyIds.join(', ')}`,
    };
  } catch (error) {
    return {
      code: 'MANIFEST_SIGNATURE',
      status: 'FAILED',
      message: `manifest signature: ${(error as Error).message}`,
      detail: (error as { code?: string }).code ?? 'SIGNATURE_INVALID',
    };
  }
}

const isPinnedBy = (options: VerifyOptions): boolean =>
  options.minTrustSeq !== undefined || options.trustHead !== undefined;

/**
 * §5.3: the verified snapshot against the verifier's freshness pin. A snapshot that stops before
 * the pin is stale; one whose event at the pinned seq is not the pinned head forks from the
 * verifier's registry (a different history under the same genesis: only root keys can write one).
 */
function pinProblem(
  registry: TrustRegistry,
  options: VerifyOptions,
):
  | { detail: 'TRUST_SNAPSHOT_STALE' | 'TRUST_SNAPSHOT_FORKED' | 'TRUST_PIN_INVALID'; message: string }
  | undefined {
  const { minTrustSeq, trustHead } = options;
  if (minTrustSeq !== undefined && !(Number.isSafeInteger(minTrustSeq) && minTrustSeq >= 1))
    return {
      detail: 'TRUST_PIN_INVALID',
      message: `minimum trust seq ${String(minTrustSeq)} is not a sequence number`,
    };
  if (
    trustHead !== undefined &&
    !(
      Number.isSafeInteger(trustHead.seq) &&
      trustHead.seq >= 1 &&
      /^sha256:[0-9a-f]{64}$/.test(trustHead.head)
    )
  )
    return {
      detail: 'TRUST_PIN_INVALID',
      message: 'the pinned trust head is not a sequence number and sha256 digest',
    };
  const need = Math.max(minTrustSeq ?? 0, trustHead?.seq ?? 0);
  if (registry.seq < need)
    return {
      detail: 'TRUST_SNAPSHOT_STALE',
      message: `the trust snapshot ends at seq ${registry.seq}, before the pinned seq ${need}: an older copy of the registry (keys rotated out since would still verify against it)`,
    };
  if (trustHead !== undefined && registry.headAt(trustHead.seq) !== trustHead.head)
    return {
      detail: 'TRUST_SNAPSHOT_FORKED',
      message: `the trust snapshot's head at seq ${trustHead.seq} is ${String(registry.headAt(trustHead.seq))}, not the pinned ${trustHead.head}: it is not a continuation of the pinned registry`,
    };
  return undefined;
}

/** The freshness a verification established (always reported, pinned or not). */
function freshnessOf(registry: TrustRegistry | undefined, options: VerifyOptions): TrustFreshness {
  const pinned = isPinnedBy(options);
  const need = Math.max(options.minTrustSeq ?? 0, options.trustHead?.seq ?? 0);
  return {
    // A pin without a verified snapshot established nothing (the verdict is never PASS then).
    pinned: pinned && registry !== undefined,
    pin: options.trustHead !== undefined ? 'trust-head' : pinned ? 'min-seq' : 'none',
    source: pinned ? (options.pinSource ?? 'flag') : 'none',
    seq: registry?.seq ?? null,
    head: registry?.head ?? null,
    min_seq: pinned && need > 0 ? need : null,
    pinned_head: options.trustHead ? { seq: options.trustHead.seq, head: options.trustHead.head } : null,
  };
}

const UNPINNED: TrustFreshness = {
  pinned: false,
  pin: 'none',
  source: 'none',
  seq: null,
  head: null,
  min_seq: null,
  pinned_head: null,
};

/** The TRUST_SNAPSHOT check of a snapshot that replayed: PASS, or FAILED against the pin (§5.3). */
function snapshotCheck(registry: TrustRegistry, options: VerifyOptions, replayed: string): Check {
  const problem = pinProblem(registry, options);
  if (problem)
    return {
      code: 'TRUST_SNAPSHOT',
      status: 'FAILED',
      message: problem.message,
      detail: problem.detail,
      path: TRUST_SNAPSHOT_PATH,
    };
  const pin = isPinnedBy(options)
    ? options.trustHead
      ? `; continues the pinned head at seq ${options.trustHead.seq}`
      : `; reaches the pinned seq ${options.minTrustSeq} (a minimum seq refuses a stale copy of the registry, not a fork: pin its head)`
    : '; freshness unpinned';
  return { code: 'TRUST_SNAPSHOT', status: 'PASS', message: `${replayed}${pin}` };
}

/**
 * Verify an EvidencePack's bytes offline. Never throws: every input gets a verdict (I-EVIDENCE-2).
 * Every entry is validated before it is used; should a step throw all the same (a verifier bug),
 * that step fails closed (FAILED, detail `VERIFIER_ERROR`) instead of the call rejecting.
 */
export async function verifyEvidencePack(
  bytes: Uint8Array,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  return drive(() => bytesSource(bytes), options);
}

/**
 * Verify an EvidencePack file offline, reading it entry by entry: the same checks and the same
 * report as `verifyEvidencePack` on the file's bytes, in memory bounded by the entry count and the
 * largest entry instead of the archive size (docs/spec/evidencepack.md §5.2). Rejects only when the
 * file cannot be opened; every archive gets a verdict.
 */
export async function verifyEvidencePackFile(
  path: string,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const source = fileSource(path);
  try {
    return await drive(() => source, options);
  } finally {
    source.close();
  }
}

/**
 * Knobs for tests only. `plain` turns off the fast paths and `graphSlice` sets the ProofGraph slice
 * size: neither may change a verdict (test/fast-path.test.ts compares the reports).
 */
interface Internal {
  readonly plain?: boolean;
  readonly graphSlice?: number;
}

/** The pipeline over any entry source (tests count what it reads). @internal */
export function verifyEntrySource(
  source: EntrySource,
  options: VerifyOptions = {},
  internal: Internal = {},
): Promise<VerifyReport> {
  return drive(() => source, options, internal);
}

async function drive(
  open: () => EntrySource,
  options: VerifyOptions,
  internal: Internal = {},
): Promise<VerifyReport> {
  const checks: Check[] = [];
  let source: EntrySource | undefined;
  try {
    source = open();
    const run = verifyChecks(source, options, checks, internal);
    let step = run.next();
    while (!step.done) {
      let value: unknown;
      try {
        value = await step.value;
      } catch (error) {
        // Into the generator, so that it releases the pool before the error reaches the catch below.
        step = run.throw(error);
        continue;
      }
      step = run.next(value);
    }
    return step.value;
  } catch (error) {
    return stoppedReport(source?.packDigest ?? '', checks, error);
  }
}

/**
 * The same verification without the worker pool, synchronously (used by `replayEvidencePack`,
 * which verifies before it replays). Never throws.
 */
export function verifyEvidencePackSync(
  bytes: Uint8Array,
  options: Omit<VerifyOptions, 'workers' | 'parallelThreshold'> = {},
): VerifyReport {
  const checks: Check[] = [];
  let source: EntrySource | undefined;
  try {
    source = bytesSource(bytes);
    const step = verifyChecks(source, { ...options, workers: 0 }, checks).next();
    if (!step.done) throw new Error('the worker pool is off: nothing may be awaited');
    return step.value;
  } catch (error) {
    let packDigest = source?.packDigest ?? '';
    try {
      packDigest ||= digest(bytes);
    } catch {
      // not bytes at all
    }
    return stoppedReport(packDigest, checks, error);
  }
}

function stoppedReport(packDigest: string, checks: Check[], error: unknown): VerifyReport {
  const reported = new Set(checks.map((c) => c.code));
  checks.push({
    code: CHECK_CODES.find((c) => !reported.has(c)) ?? 'PACK_FORMAT',
    status: 'FAILED',
    message: `verification stopped by an unexpected error: ${errorText(error)}`,
    detail: 'VERIFIER_ERROR',
  });
  return {
    status: 'FAILED',
    pack_digest: packDigest,
    manifest: null,
    format_unsupported: false,
    checks,
    freshness: UNPINNED,
  };
}

function errorText(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return 'unprintable error';
  }
}

/**
 * The algorithm over an entry source (the archive in memory or a file), as a generator so that one
 * body serves every driver: it yields only promises of the worker pool (never when `workers` is 0),
 * which the async driver awaits and feeds back; the synchronous driver (replay, §6) runs it with
 * the pool off. Entries are read one at a time, each hashed against the signed entry list before it
 * is parsed, and only small per-entry summaries are kept (§5.2 "Memory"): a pass over the trust
 * snapshot, the index and the checkpoints, then the receipts, decisions, requests and nodes, then a
 * second pass over receipts and nodes that validates the ProofGraph in slices.
 */
function* verifyChecks(
  source: EntrySource,
  options: VerifyOptions,
  checks: Check[],
  internal: Internal = {},
): Generator<Promise<unknown>, VerifyReport, unknown> {
  const plain = internal.plain === true;
  // The fast paths (off when `plain`): a canonical check by text, node hashes read off their
  // canonical documents, bodies decoded once per envelope, and receipt nodes of the graph pass built
  // from phase 1's verified fields instead of re-reading the receipt.
  const envelopeBody = plain ? plainEnvelopeBody : cachedEnvelopeBody;
  const envelopeBodySafe = (value: unknown) => bodySafe(value, envelopeBody);
  const packDigest = source.packDigest;
  const add = (
    code: CheckCode,
    status: CheckStatus,
    message: string,
    extra: { detail?: string; path?: string } = {},
  ) => checks.push({ code, status, message, ...extra });
  // A JSON entry of the wrong shape is FAILED under the check that owns its kind (§1): it is kept
  // out of every step, and that check reports the first such entry (in path order).
  const shapeFailures = new Map<CheckCode, Check>();
  let registry: TrustRegistry | undefined;
  const shapeFailure = (failure: Check & { path: string }) => {
    const had = shapeFailures.get(failure.code);
    if (had === undefined || byPath(failure.path, had.path as string) < 0)
      shapeFailures.set(failure.code, failure);
  };
  const done = (manifest: EvidencePackManifest | null, formatUnsupported = false): VerifyReport => {
    for (const [code, failure] of shapeFailures) {
      const at = checks.findIndex((c) => c.code === code);
      if (at === -1) checks.push(failure);
      else checks[at] = failure;
    }
    return {
      status: overall(checks),
      pack_digest: packDigest,
      manifest,
      format_unsupported: formatUnsupported,
      checks,
      freshness: freshnessOf(registry, options),
    };
  };

  // 1. The archive.
  if ('error' in source.scan) {
    const error = source.scan.error;
    add('PACK_FORMAT', 'FAILED', `not a valid EvidencePack archive: ${(error as Error).message}`, {
      detail: (error as { code?: string }).code ?? 'PACK_TAR_MALFORMED',
    });
    return done(null);
  }
  const entries = source.scan.entries;
  // Until the entry list is read, entries are found by path in the scanned (sorted) list.
  let refs = new EntryIndex(entries);
  const readPath = (path: string) => {
    const ref = refs.get(path);
    return ref === undefined ? undefined : source.read(ref);
  };
  add('PACK_FORMAT', 'PASS', `${entries.length} entries in a strict ustar archive`);

  // 2. The manifest (format only; its signature needs the trust snapshot, checked below).
  const manifestRef = refs.get(MANIFEST_PATH);
  let envelope: SignedEnvelope;
  let manifest: EvidencePackManifest;
  let list: EntryJoin;
  try {
    if (!manifestRef) throw new Error('manifest.json is missing');
    if (manifestRef.size > 64 * KiB)
      throw new Error(`manifest.json is ${manifestRef.size} bytes, over its 65536-byte cap`);
    const manifestBytes = source.read(manifestRef);
    const value = parseJson(manifestBytes);
    if (!bytesEqual(canonicalBytes(value), manifestBytes))
      throw new Error('manifest.json is not canonical JCS');
    const wrapper = manifestEnvelopeProblem(value);
    if (wrapper) throw new Error(`manifest.json is ${wrapper}`);
    envelope = value as SignedEnvelope;
    const body = bodyOf(envelope);
    if (!isObject(body)) throw new Error('the manifest body is not a JSON object');
    if (body.type !== envelope.type)
      throw new Error(
        `the manifest body type ${String(body.type)} is not the envelope type ${envelope.type}`,
      );
    // A newer manifest version (§5.1): only the version-independent checks run, never a PASS.
    const version = MANIFEST_TYPE_PATTERN.exec(String(body.type));
    if (version && Number(version[1]) > EVIDENCEPACK_FORMAT_VERSION) {
      registry = unsupportedFormat(envelope, readPath, options, add, checks);
      return done(null, true);
    }
    if (body.type !== EVIDENCEPACK_MANIFEST_TYPE)
      throw new Error(`not a ${EVIDENCEPACK_MANIFEST_TYPE} envelope`);
    const problem = manifestProblem(body);
    if (problem) throw new Error(`manifest field invalid: ${problem}`);
    manifest = body as unknown as EvidencePackManifest;
    const listRef = refs.get(ENTRIES_PATH);
    list = entryList(manifest, entries, listRef, source);
  } catch (error) {
    add('MANIFEST_FORMAT', 'FAILED', (error as Error).message, { path: MANIFEST_PATH });
    return done(null);
  }
  add('MANIFEST_FORMAT', 'PASS', `${EVIDENCEPACK_MANIFEST_TYPE}, ${list.count} entries listed`);
  // The list, joined with the archive as it was read; only the join's typed arrays are kept.
  refs = new EntryIndex(entries, list);

  // 3. Entry hashes, completeness and names are found while the entries are read (below); their
  //    checks keep their place in the report.
  const slot = (code: CheckCode) => {
    const at = checks.length;
    checks.push({
      code,
      status: 'FAILED',
      message: 'not evaluated: verification stopped',
      detail: 'VERIFIER_ERROR',
    });
    return (c: Check) => {
      checks[at] = c;
    };
  };
  const setEntryHashes = slot('ENTRY_HASHES');
  const setCompleteness = slot('COMPLETENESS');
  const setEntryNames = slot('ENTRY_NAMES');
  const under = (prefix: string) => entries.under(prefix);
  type Problem = { path: string; message: string };
  const firstByPath = (had: Problem | undefined, path: string, message: string): Problem =>
    had === undefined || byPath(path, had.path) < 0 ? { path, message } : had;
  // ENTRY_NAMES reports the first of: an unparsable or non-canonical JSON entry, a receipt whose
  // name is not its Lamport, a name that is not its content's, a condensed entry named off its
  // Lamport — each the first in path order.
  let parseProblem: Problem | undefined;
  let receiptNameProblem: Problem | undefined;
  let contentProblem: Problem | undefined;
  let condensedNameProblem: Problem | undefined;
  let bad: PackEntryRef | undefined;
  const shapePaths = { index: INDEX_PATH, trust: TRUST_SNAPSHOT_PATH, consistency: CONSISTENCY_PATH };
  const visited = new Uint8Array(entries.length);
  /**
   * Read one entry: its size and SHA-256 against the list; only when it is listed and intact (and
   * JSON, within its cap) is it parsed, checked canonical and of its kind's shape. Its name is
   * checked against its content. Returns the validated value (undefined when there is none) and
   * the entry's SHA-256. Reading an entry again finds the same problems (each kept first by path).
   */
  const visit = (ref: PackEntryRef): { value: unknown; sha256: string } => {
    const path = ref.path;
    const at = ref.index;
    visited[at] = 1;
    const data = source.read(ref);
    const sha256 = digest(data);
    let intact = false;
    if (refs.isListed(at)) {
      if (refs.matches(at, data.length, sha256)) intact = true;
      else if (bad === undefined || byPath(path, bad.path) < 0) bad = ref;
    }
    let value: unknown;
    // Unlisted or altered entries are never parsed (COMPLETENESS / ENTRY_HASHES fail them).
    if (intact && path.endsWith('.json') && path !== MANIFEST_PATH && path !== ENTRIES_PATH) {
      // Per-kind size caps (§5.2): an oversized entry is refused unparsed by the check owning its kind.
      const cap = entryCap(path);
      if (cap && data.length > cap.max) {
        shapeFailure({
          code: cap.code,
          status: 'FAILED',
          message: `${path}: ${data.length} bytes, over the ${cap.max}-byte cap of its kind`,
          detail: 'ENTRY_TOO_LARGE',
          path,
        });
      } else {
        let parsed: unknown;
        let ok = true;
        try {
          if (plain) {
            parsed = parseJson(data);
            if (!bytesEqual(canonicalBytes(parsed), data)) throw new Error('not canonical JCS');
          } else parsed = parseCanonicalJson(data);
        } catch (error) {
          ok = false;
          parseProblem = firstByPath(parseProblem, path, `${path}: ${(error as Error).message}`);
        }
        if (ok) {
          // Validated before use: an entry of the wrong shape never reaches a step.
          const shape = entryShape(path, shapePaths);
          const problem = shape?.problem(parsed);
          if (shape && problem)
            shapeFailure({
              code: shape.code,
              status: 'FAILED',
              message: `${path}: ${problem}`,
              detail: 'ENTRY_SHAPE_INVALID',
              path,
            });
          else {
            value = parsed;
            if (!plain) noteNodeDigest(path, data, value);
          }
        }
      }
    }
    // Every content-addressed entry is named by its content (§3); JSON-only folders hold only JSON.
    const nameProblem = contentNameProblem(path, sha256, value);
    if (nameProblem) contentProblem = firstByPath(contentProblem, path, `${path}: ${nameProblem}`);
    return { value, sha256 };
  };
  /** An entry read again (second pass): the very bytes that were validated, parsed once more. */
  const reread = (ref: PackEntryRef): unknown => {
    const data = source.read(ref);
    if (!refs.matches(ref.index, data.length, digest(data)))
      throw new Error(`${ref.path} changed while the pack was verified`);
    const value = parseJson(data);
    // The same bytes visit() found canonical and of their kind's shape (same listed SHA-256).
    if (!plain) noteNodeDigest(ref.path, data, value);
    return value;
  };
  // Small entries every later step consults, read first: the trust snapshot, the index, the
  // checkpoints and condensed entries (and tool descriptors the index names, read with the rest).
  const json = new Map<string, unknown>();
  const keep = (ref: PackEntryRef | undefined) => {
    if (ref === undefined) return;
    const { value } = visit(ref);
    if (value !== undefined) json.set(ref.path, value);
  };
  keep(refs.get(TRUST_SNAPSHOT_PATH));
  keep(refs.get(INDEX_PATH));
  const indexValue = json.get(INDEX_PATH) as Record<string, Record<string, unknown>[]> | undefined;
  const indexed = new Set<string>();
  const descriptorPaths = new Set<string>();
  if (isObject(indexValue))
    for (const kind of ['policies', 'tools', 'schemas', 'modules'])
      for (const a of Array.isArray(indexValue[kind]) ? indexValue[kind] : []) {
        indexed.add(String(a.path));
        if (kind === 'tools') descriptorPaths.add(String(a.path));
      }
  const checkpointRefs = under('checkpoints/');
  for (const ref of checkpointRefs) keep(ref);
  const condensedRefs = under('condensed/');
  for (const ref of condensedRefs) {
    keep(ref);
    const v = json.get(ref.path) as { lamport: number } | undefined;
    if (v !== undefined && ref.path !== `condensed/${pad(v.lamport)}.json`)
      condensedNameProblem = firstByPath(
        condensedNameProblem,
        ref.path,
        `${ref.path}: name does not match its Lamport`,
      );
  }
  const condensedPaths = condensedRefs.paths();
  const checkpointPaths = checkpointRefs.paths().filter((p) => p !== CONSISTENCY_PATH);

  // 4. Trust: the snapshot replays from the anchor the manifest names; the verifier pins the anchor.
  const trustChecks: Check[] = [];
  const addTrust: AddCheck = (code, status, message, extra = {}) =>
    trustChecks.push({ code, status, message, ...extra });
  const snapshot = json.get(TRUST_SNAPSHOT_PATH);
  if (snapshot === undefined) {
    addTrust('TRUST_SNAPSHOT', 'UNVERIFIABLE', 'the pack carries no trust snapshot: keys cannot be checked', {
      path: TRUST_SNAPSHOT_PATH,
    });
  } else {
    try {
      registry = importTrustSnapshot(snapshot, { genesis: manifest.trust_anchor });
      trustChecks.push(
        snapshotCheck(
          registry,
          options,
          `trust registry replays to seq ${registry.seq} (head ${registry.head})`,
        ),
      );
    } catch (error) {
      addTrust('TRUST_SNAPSHOT', 'FAILED', `trust snapshot does not verify: ${(error as Error).message}`, {
        detail: (error as { code?: string }).code ?? 'TRUST_ERROR',
        path: TRUST_SNAPSHOT_PATH,
      });
    }
  }
  if (options.trustAnchor === undefined) {
    addTrust(
      'TRUST_ANCHOR',
      'UNVERIFIABLE',
      `no trust anchor pinned (the pack names ${manifest.trust_anchor}); pass --trust-anchor`,
    );
  } else if (options.trustAnchor !== manifest.trust_anchor) {
    addTrust(
      'TRUST_ANCHOR',
      'FAILED',
      `pack is anchored at ${manifest.trust_anchor}, not at the pinned ${options.trustAnchor}`,
    );
  } else addTrust('TRUST_ANCHOR', 'PASS', 'the pack is anchored at the pinned trust root');

  // 5. The manifest signature: sealed at export time by a key holding `executor` at the head of
  //    the included trust snapshot (a range export may be sealed after later key rotations).
  if (!registry)
    addTrust(
      'MANIFEST_SIGNATURE',
      'UNVERIFIABLE',
      'no verified trust registry: signatures cannot be attributed to authorized keys',
    );
  else trustChecks.push(manifestSignatureCheck(envelope, EVIDENCEPACK_MANIFEST_TYPE, registry));
  let trustReported = false;

  const registryLookup = registry?.keyLookup(mapRole);
  /** Receipts: the key valid for the role at the receipt's own trust_seq. */
  const lookup = registryLookup
    ? (keyid: string, role: string, trustSeq: number) => registryLookup(keyid, role, trustSeq)
    : undefined;

  // The receipts, in Lamport (= path) order, read one at a time. Kept per receipt: its phase-1
  // summary (for the link pass), its Lamport and trust height, and the few fields decisions and
  // requests are bound to; never the envelope (except with checkpoints: the condensed-history
  // verifier takes the whole history at once).
  const receiptRefs = under('receipts/');
  // Paths are rebuilt from the compact entry table when a report names one (never all kept).
  const receiptPaths = receiptRefs;
  const condensedMode = checkpointPaths.length > 0;
  const history: unknown[] = [];
  /** Archive positions of the full receipts, in order (small integers: 4 bytes each). */
  const receiptOk = new NumberList(receiptRefs.length);
  const receiptEnvs: unknown[] = [];
  const infos = new ReceiptInfos(receiptRefs.length);
  /** Rows in `infos` of the receipts naming each decision: built once every receipt is read. */
  let byDecision: DecisionIndex | undefined;
  const namedBy = (decisionId: string): ReceiptInfo[] | undefined => {
    byDecision ??= new DecisionIndex(infos);
    const rows = byDecision.rowsOf(decisionId);
    if (rows.length === 0) return undefined;
    return rows.map((r) => infos.at(r) as ReceiptInfo);
  };
  /** Archive positions of the full receipts (those in `infos`). */
  const isFullReceipt = new Uint8Array(entries.length);
  // A Lamport-range export starts mid-graph: ProofGraph parents outside the pack are boundary
  // references (step 12), told apart by the hashes of every receipt and node in the pack.
  const rangeExport = manifest.scope.from_lamport > 1;
  const inPack = new Set<string>();
  /** Full receipts' Lamport values (ascending) and trust seqs, where both are safe integers. */
  const seqLamports = new NumberList(receiptRefs.length);
  const seqValues = new NumberList(receiptRefs.length);
  let firstPrevHash: unknown;
  let chainIdMismatch = false;
  let sessionMismatch = false;
  const session = manifest.scope.session_id;
  let firstReceipt: ReceiptInfo | undefined;
  const toolSet = new Set(
    (isObject(indexValue) && Array.isArray(indexValue.tools) ? indexValue.tools : []).map((t) =>
      String(t.name),
    ),
  );
  const receiptToolProblems: string[] = [];
  let requestProblem: { index: number; path: string; message: string } | undefined;
  const noteRequestProblem = (index: number, path: string, message: string) => {
    if (requestProblem === undefined || index < requestProblem.index)
      requestProblem = { index, path, message };
  };
  // Every full receipt's trust binding, in Lamport order: trust_head is the registry's event digest
  // at trust_seq (so trust_seq ≤ the snapshot head), and trust_seq never decreases.
  let trustBinding: { lamport: number; path: string; message: string; detail: string } | undefined;
  let previousSeq = 1;
  // Receipt signatures: serially as they are read, or on the worker pool in slices.
  const threshold = options.parallelThreshold ?? 2000;
  const pooled =
    !condensedMode && lookup !== undefined && options.workers !== 0 && receiptRefs.length >= threshold;
  const pool = pooled
    ? new ReceiptVerifyPool(options.workers === undefined ? {} : { size: options.workers })
    : undefined;
  try {
    const summaries = new ReceiptSummaries<ReceiptSummary>(receiptRefs.length);
    let failure: ReceiptFailure | undefined;
    /** Phase-1 verdicts the graph pass reuses: index → summary (ok) or failure. */
    const verdicts = new Map<number, ReceiptFailure>();
    type SliceResult = { summaries: ReceiptSummary[]; failure?: ReceiptFailure };
    /** Slices in flight; a folded slice's promise is dropped (it holds the result objects). */
    const sliced: (Promise<SliceResult> | undefined)[] = [];
    const sentKeys: (Map<string, Uint8Array> | undefined)[] = [];
    /**
     * The workers' phase-1 results, folded into `summaries` slice by slice in order as they arrive
     * (the summary objects are not held until every receipt is read), up to the first failure; a
     * worker's verdict stands for verifyReceipt's only under exactly the key the serial lookup
     * returns for that receipt (same keyid, role and trust_seq).
     */
    let foldedSlices = 0;
    let sliceFailure = false;
    const foldSlice = (r: SliceResult) => {
      const sent = sentKeys[foldedSlices] as Map<string, Uint8Array>;
      sentKeys[foldedSlices] = undefined;
      sliced[foldedSlices++] = undefined;
      if (sliceFailure) return;
      for (const summary of r.summaries) {
        const key = lookup?.(summary.keyid, 'receipt-signer', summary.trust_seq);
        const k = sent.get(summary.keyid);
        if (!key || !k || !bytesEqual(key, k)) verdicts.set(summaries.length, UNVERIFIED);
        summaries.push(summary);
      }
      if (r.failure) {
        failure = r.failure;
        sliceFailure = true;
      }
    };
    let slice: unknown[] = [];
    let sliceKeys = new Map<string, Uint8Array>();
    const SLICE = 256;
    const flush = () => {
      if (!pool || slice.length === 0) return;
      const result = pool.verifySignatures(slice, sliceKeys, sliced.length * SLICE);
      // Awaited below (all together, or to pace the reading); a rejection is handled there.
      result.catch(() => {});
      sliced.push(result);
      sentKeys.push(sliceKeys);
      slice = [];
      sliceKeys = new Map();
    };
    options.onProgress?.('receipts', 0, receiptRefs.length);
    for (const ref of receiptRefs) {
      const { value } = visit(ref);
      if (condensedMode) history.push(value);
      const env = value as SignedEnvelope | undefined;
      if (!env) continue;
      let b: Record<string, unknown>;
      try {
        b = envelopeBody<Record<string, unknown>>(env);
        if (ref.path !== `receipts/${pad(Number(b.lamport))}.json`)
          throw new Error('name does not match its Lamport');
      } catch (error) {
        receiptNameProblem ??= { path: ref.path, message: `${ref.path}: ${(error as Error).message}` };
        continue;
      }
      const i = infos.length;
      const info = infos.push({
        lamport: Number(b.lamport),
        trust_seq: Number(b.trust_seq),
        decision_id: String(b.decision_id),
        args_hash: b.args_hash,
        tool: b.tool,
        principal: b.principal,
        issued_at_ms: b.issued_at_ms,
        verdict: b.verdict,
        reason_code: b.reason_code,
        status: b.status,
      });
      if (i === 0) firstPrevHash = b.prev_hash;
      receiptOk.push(ref.index);
      if (condensedMode) receiptEnvs.push(env);
      if (firstReceipt === undefined || info.lamport < firstReceipt.lamport) firstReceipt = info;
      isFullReceipt[ref.index] = 1;
      if (rangeExport) {
        const h = receiptHash(env);
        if (h) inPack.add(h);
      }
      if (Number.isSafeInteger(info.trust_seq) && Number.isSafeInteger(info.lamport)) {
        seqLamports.push(info.lamport);
        seqValues.push(info.trust_seq);
      }
      if (b.chain_id !== manifest.scope.chain_id) chainIdMismatch = true;
      if (b.session_id !== session) sessionMismatch = true;
      // Administrative receipts name no described tool (`helm.admin.<action>`, checked in step 8).
      if (
        b.reason_code !== 'TOOL_UNKNOWN' &&
        !toolSet.has(String(b.tool)) &&
        !String(b.tool).startsWith(GOVERNANCE_ADMIN_TOOL_PREFIX) &&
        receiptToolProblems.length < 3
      )
        receiptToolProblems.push(`tool ${String(b.tool)} not described`);
      // Its recorded request, checked now (requests are in Lamport order like receipts): the
      // request digest is not kept per receipt for a later pass (#25, 32 bytes per receipt).
      const requestPath = `requests/${pad(info.lamport)}.json`;
      const requestRef = refs.get(requestPath);
      if (requestRef === undefined) {
        if (b.request_digest !== null)
          noteRequestProblem(
            i,
            requestPath,
            `${requestPath} is missing: its receipt signed request digest ${String(b.request_digest)}`,
          );
      } else {
        const problem = recordedRequestProblem(requestPath, b, visit(requestRef).value);
        if (problem) noteRequestProblem(i, requestPath, problem);
      }
      if (registry && !trustBinding) {
        const seq = info.trust_seq;
        const at = { lamport: info.lamport, path: `receipts/${pad(info.lamport)}.json` };
        const head = registry.headAt(seq);
        if (head === undefined)
          trustBinding = {
            ...at,
            detail: 'TRUST_SEQ_UNKNOWN',
            message: `receipt at Lamport ${at.lamport} claims trust seq ${String(b.trust_seq)}, beyond the snapshot head ${registry.seq}`,
          };
        else if (head !== b.trust_head)
          trustBinding = {
            ...at,
            detail: 'TRUST_HEAD_MISMATCH',
            message: `receipt at Lamport ${at.lamport} names trust head ${String(b.trust_head)}, but the registry head at seq ${seq} is ${head}`,
          };
        else if (seq < previousSeq)
          trustBinding = {
            ...at,
            detail: 'TRUST_SEQ_REGRESSION',
            message: `receipt at Lamport ${at.lamport} claims trust seq ${seq} after ${previousSeq}`,
          };
        else previousSeq = seq;
      }
      if (condensedMode || !lookup) continue;
      if (pool) {
        const k = lookup(String(b.keyid), 'receipt-signer', info.trust_seq);
        if (k) sliceKeys.set(String(b.keyid), k);
        slice.push(env);
        if (slice.length === SLICE) {
          flush();
          // Keep the pool busy without queueing the whole pack: wait when enough is in flight.
          while (foldedSlices < sliced.length - 2 * pool.size)
            foldSlice((yield sliced[foldedSlices] as Promise<unknown>) as SliceResult);
        }
      } else if (!failure) {
        const c = verifyReceipt(env, lookup);
        if (c.ok) summaries.push(c.summary);
        else {
          failure = { code: c.code, index: i, message: c.message };
          verdicts.set(i, failure);
        }
        if ((i + 1) % 500 === 0 || i + 1 === receiptRefs.length)
          options.onProgress?.('receipts', i + 1, receiptRefs.length);
      }
    }
    flush();
    if (pool) {
      // The rest of the workers' phase-1 results, in order up to the first failure (every slice is
      // awaited, so a rejected one stops verification as before); then authorization at each
      // receipt's trust_seq on this thread, as ReceiptVerifyPool.verifyChain does.
      while (foldedSlices < sliced.length)
        foldSlice((yield sliced[foldedSlices] as Promise<unknown>) as SliceResult);
      for (let i = 0; i < summaries.length && (!failure || i < failure.index); i++) {
        const s = summaries.at(i) as ReceiptSummary;
        if (!lookup?.(s.keyid, RECEIPT_SIGNER_ROLE, s.trust_seq)) {
          failure = {
            code: 'KEY_UNKNOWN',
            index: i,
            message: `key ${s.keyid} not authorized at trust seq ${s.trust_seq}`,
          };
          break;
        }
      }
    }
    options.onProgress?.('receipts', infos.length, infos.length);

    // ENTRY_HASHES, COMPLETENESS, ENTRY_NAMES need every entry read: decisions, requests and nodes
    // next (each bound to the receipts above), then whatever else the archive holds.

    // Trust heights are registry sequence numbers, and each receipt names its own under its signature
    // (`trust_seq`, `trust_head`; docs/spec/evidencepack.md §4): a receipt's key is looked up at its
    // trust_seq — nothing maps Lamport values onto the registry. A decision is checked at the
    // trust_seq of every receipt naming it; a signed node or checkpoint, which commits to no
    // trust state itself, at `heightOf(its Lamport)`: the trust_seq of the pack's full receipt at that
    // Lamport, else of the nearest full receipt before it, else of the first full receipt, else the
    // snapshot head.
    const heightOf = (lamport: number): number => {
      // Binary search in the full receipts' Lamport values (ascending, as the receipts are read).
      let lo = 0;
      let hi = seqLamports.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((seqLamports.at(mid) as number) < lamport) lo = mid + 1;
        else hi = mid;
      }
      if (seqLamports.at(lo) === lamport) return seqValues.at(lo) as number;
      // Else the nearest full receipt before it, else the first, else the snapshot head.
      const at = lo > 0 ? lo - 1 : 0;
      return at < seqValues.length ? (seqValues.at(at) as number) : (registry?.seq ?? 0);
    };
    /** Signed nodes and checkpoints (no trust state of their own): at heightOf(their Lamport). */
    const nodeLookup = registryLookup
      ? (keyid: string, role: string, lamport: number) => registryLookup(keyid, role, heightOf(lamport))
      : undefined;

    // Decisions, in path order: the ids present, and the first that does not verify or bind. With
    // the pool, signatures are checked on the workers in slices; the checks before the signature
    // (readable, named by a receipt) and after it (bound to that receipt) run here, and the first
    // failure in path order is the one reported, as serially.
    const decisionRefs = under('decisions/');
    const decisionPaths = decisionRefs;
    /** Per full receipt: whether a decision entry carries its decision_id (read or not). */
    const decided = new Uint8Array(infos.length);
    byDecision = new DecisionIndex(infos);
    let decisionFailure: Check | undefined;
    const decisionFailed = (path: string, message: string, detail?: string): Check => ({
      code: 'DECISIONS',
      status: 'FAILED',
      message: `${path}: ${message}`,
      ...(detail === undefined ? {} : { detail }),
      path,
    });
    /** Pool only: per decision (by position), the failure after its signature, if any. */
    const afterSignature = new Map<number, { message: string; detail: string | undefined }>();
    const signatureVerdicts: Promise<EnvelopeVerdict[]>[] = [];
    let signatureItems: (readonly [unknown, Map<string, Uint8Array>])[] = [];
    const flushDecisions = () => {
      if (!pool || signatureItems.length === 0) return;
      const verdicts = pool.verifyEnvelopes(DECISION_TYPE, signatureItems);
      verdicts.catch(() => {});
      signatureVerdicts.push(verdicts);
      signatureItems = [];
    };
    for (let k = 0; k < decisionRefs.length; k++) {
      const ref = decisionRefs.at(k);
      const env = visit(ref).value as SignedEnvelope | undefined;
      const decisionId = String(envelopeBodySafe(env)?.decision_id ?? '');
      for (const row of byDecision.rowsOf(decisionId)) decided[row] = 1;
      if (!registry || decisionFailure) continue;
      const path = ref.path;
      let signed = false;
      let detail: string | undefined;
      try {
        if (!env) throw new Error('unreadable');
        const body = envelopeBody<Record<string, unknown>>(env);
        const named = namedBy(String(body.decision_id));
        if (!named) throw new Error(`decision ${String(body.decision_id)} is not named by any receipt`);
        // The guardian key at the trust state of every receipt naming it (I-EVIDENCE-5): the first
        // receipt's seq on the pool when there is one, any other seq here.
        const seqs = [...new Set(named.map((r) => r.trust_seq))];
        const guardianKeys = registry.lookupFor('guardian', seqs[0] as number);
        if (pool) {
          // The keys this thread's lookup gives for the key ids the envelope names: the worker's
          // verifyEnvelope sees the same answers.
          const keys = new Map<string, Uint8Array>();
          for (const sig of Array.isArray(env.signatures) ? env.signatures : []) {
            const keyid = (sig as { keyid?: unknown } | null)?.keyid;
            const key = typeof keyid === 'string' ? guardianKeys(keyid) : undefined;
            if (typeof keyid === 'string' && key) keys.set(keyid, key);
          }
          signatureItems.push([env, keys]);
          signed = true;
          if (signatureItems.length === 256) {
            flushDecisions();
            if (signatureVerdicts.length > 2 * pool.size)
              yield signatureVerdicts[signatureVerdicts.length - 2 * pool.size - 1] as Promise<unknown>;
          }
        } else openVerifiedEnvelope(env, DECISION_TYPE, guardianKeys);
        for (const seq of seqs.slice(1))
          openVerifiedEnvelope(env, DECISION_TYPE, registry.lookupFor('guardian', seq));
        for (const receipt of named) {
          const at = `receipt at Lamport ${receipt.lamport}`;
          if (receipt.args_hash !== null && receipt.args_hash !== body.args_hash)
            throw new Error(`${at} and the decision disagree on args_hash`);
          // An ALLOW authorized exactly this call (docs/spec/pipeline.md step 7): its receipt names
          // the tool and principal the guardian signed.
          if (
            body.verdict === 'ALLOW' &&
            (receipt.tool !== body.tool || receipt.principal !== body.principal)
          )
            throw new Error(`${at} and its ALLOW decision disagree on the tool or principal`);
          if (receipt.verdict !== body.verdict && receipt.reason_code === body.reason_code)
            throw new Error(`${at} and the decision disagree on the verdict`);
        }
        // An ALLOW authorizes one execution: one receipt names it (§5 step 11).
        const reuse = body.verdict === 'ALLOW' ? allowReuseProblem(named) : undefined;
        if (reuse) {
          detail = 'DECISION_REUSED';
          throw new Error(reuse);
        }
      } catch (error) {
        if (pool && signed) afterSignature.set(k, { message: (error as Error).message, detail });
        else decisionFailure = decisionFailed(path, (error as Error).message, detail);
      }
    }
    if (pool) {
      flushDecisions();
      // The decisions before the first failure found here (all of them when there is none) went to
      // the workers in order: the first of them whose signature or binding fails comes first.
      const verdicts = ((yield Promise.all(signatureVerdicts)) as EnvelopeVerdict[][]).flat();
      const upTo = decisionFailure
        ? decisionPaths.indexOf(decisionFailure.path as string)
        : decisionPaths.length;
      let position = 0;
      for (let k = 0; k < upTo && position < verdicts.length; k++) {
        const after = afterSignature.get(k);
        // Decisions that failed before their signature were not sent (only the first such counts).
        const verdict = verdicts[position++];
        if (verdict) {
          decisionFailure = decisionFailed(decisionPaths.pathAt(k), verdict.message);
          break;
        }
        if (after !== undefined) {
          decisionFailure = decisionFailed(decisionPaths.pathAt(k), after.message, after.detail);
          break;
        }
      }
    }

    // Recorded requests: each full receipt's was checked with its receipt (first failure by
    // Lamport); the others (no receipt of that name) are read here for their hashes and names.
    const requestRefs = under('requests/');
    const requestPaths = requestRefs;
    for (const ref of requestRefs) if (!visited[ref.index]) visit(ref);

    // Signed nodes, in path order: their hashes and Lamport values (the graph pass needs them all
    // before it starts), and the receipts they carry.
    /**
     * Whether a node's receipt payload is one of the pack's full receipts: digest(JCS(payload)) is
     * the SHA-256 of a full receipt's (canonical) entry. Equal JCS means equal receipts, so the only
     * candidate is the entry named by the payload's own Lamport, whose listed SHA-256 it matched.
     */
    function isPackReceipt(payload: SignedEnvelope): boolean {
      const lamport = Number(envelopeBodySafe(payload)?.lamport);
      if (!Number.isSafeInteger(lamport) || lamport < 0 || lamport >= MAX_NAMED_LAMPORT) return false;
      const at = refs.indexOf(`receipts/${pad(lamport)}.json`);
      if (at === -1 || !isFullReceipt[at]) return false;
      return refs.matches(at, entries.sizeAt(at), digest(canonicalBytes(payload)));
    }
    const nodeRefs = under('proofgraph/nodes/');
    const nodePaths = nodeRefs;
    const nodeValid = new Uint8Array(nodeRefs.length);
    let minNodeLamport = Number.POSITIVE_INFINITY;
    let foreign = 0;
    let misplaced = 0;
    // With the pool, step 9's per-node check (checkGraphItem: structure, key, signature, payload)
    // runs on the workers as each node is read, and only what the link pass reads (hash, Lamport,
    // parents) is kept: the graph pass reads no node again. Serially the graph pass re-reads the
    // nodes in slices instead (the earlier path; peak RSS is the open question there, see
    // docs/PERFORMANCE.md). Off when `plain`.
    const checkNodesNow = !plain && nodeLookup !== undefined && pool !== undefined;
    type NodeResult = { nodes: (NodeVerdict | null)[] };
    /** Node slices in flight; a folded slice's promise is dropped (it holds the verdicts). */
    const nodeResults: (Promise<NodeResult> | undefined)[] = [];
    const nodeTaskKeys: (Map<string, Uint8Array> | undefined)[] = [];
    /**
     * The workers' node verdicts, folded as they arrive (slice by slice, in order) into what the
     * link pass reads — hash, Lamport, parents in a LinkStore — and whether the worker's success
     * stands: only under exactly the key this thread's lookup gives for its key id, role and
     * Lamport (anything else is checked again on this thread in the graph pass, in order). The
     * verdict objects are not held until the graph pass.
     */
    const nodeLinks = new LinkStore(checkNodesNow ? nodeRefs.length : 0);
    const nodeStands = new Uint8Array(checkNodesNow ? nodeRefs.length : 0);
    let foldedNodeSlices = 0;
    let nodesFolded = 0;
    const foldNodes = (r: NodeResult) => {
      const sent = nodeTaskKeys[foldedNodeSlices] as Map<string, Uint8Array>;
      nodeTaskKeys[foldedNodeSlices] = undefined;
      nodeResults[foldedNodeSlices++] = undefined;
      for (const v of r.nodes) {
        const key = v && nodeLookup?.(v.keyid, nodeSignerRole(v.kind), v.lamport);
        const k = v && sent.get(v.keyid);
        if (v && key && k && bytesEqual(key, k)) {
          nodeStands[nodesFolded] = 1;
          nodeLinks.push({ hash: v.hash, lamport: v.lamport, parents: v.parents });
        } else nodeLinks.push(NO_LINK);
        nodesFolded++;
      }
    };
    let nodeItems: (readonly [unknown, { readonly value: unknown }?])[] = [];
    let nodeKeys = new Map<string, Uint8Array>();
    const flushNodes = () => {
      if (!pool || nodeItems.length === 0) return;
      const result = pool.verifyNodes(nodeItems, nodeKeys);
      result.catch(() => {});
      nodeResults.push(result);
      nodeTaskKeys.push(nodeKeys);
      nodeItems = [];
      nodeKeys = new Map();
    };
    for (let j = 0; j < nodeRefs.length; j++) {
      const d = visit(nodeRefs.at(j)).value as { envelope: SignedEnvelope; payload?: unknown } | undefined;
      if (d !== undefined) nodeValid[j] = 1;
      if (checkNodesNow && pool) {
        // The key this thread's lookup gives for the node as its body reads; the worker's success
        // counts only if the body it verified names the same key id, role and Lamport (below).
        const body = envelopeBodySafe(d?.envelope);
        if (body && typeof body.keyid === 'string' && typeof body.kind === 'string') {
          const key = (nodeLookup as NonNullable<typeof nodeLookup>)(
            body.keyid,
            nodeSignerRole(body.kind),
            Number(body.lamport),
          );
          if (key) nodeKeys.set(body.keyid, key);
        }
        nodeItems.push(d && 'payload' in d ? [d.envelope, { value: d.payload }] : [d?.envelope]);
        if (nodeItems.length === 256) {
          flushNodes();
          while (foldedNodeSlices < nodeResults.length - 2 * pool.size)
            foldNodes((yield nodeResults[foldedNodeSlices] as Promise<unknown>) as NodeResult);
        }
      }
      if (d?.envelope && rangeExport) inPack.add(envelopeDigest(d.envelope));
      minNodeLamport = Math.min(minNodeLamport, Number(envelopeBodySafe(d?.envelope)?.lamport ?? 0));
      const p = d?.payload as SignedEnvelope | undefined;
      if (p && typeof p === 'object' && p.type === RECEIPT_TYPE && !isPackReceipt(p)) foreign++;
      if (d?.envelope?.type === RECEIPT_TYPE) misplaced++;
    }
    flushNodes();
    // Everything else (policies, tools, schemas, modules, …): hashes and names; the tool
    // descriptors the index names are kept for ARTIFACTS.
    for (let at = 0; at < entries.length; at++) {
      if (visited[at]) continue;
      const ref = entries.at(at);
      if (ref.path === MANIFEST_PATH || ref.path === ENTRIES_PATH) continue;
      const { value } = visit(ref);
      if (value !== undefined && descriptorPaths.has(ref.path)) json.set(ref.path, value);
    }

    if (bad)
      setEntryHashes({
        code: 'ENTRY_HASHES',
        status: 'FAILED',
        message: `${bad.path} does not match its listed size and SHA-256`,
        path: bad.path,
      });
    else
      setEntryHashes({
        code: 'ENTRY_HASHES',
        status: 'PASS',
        message: 'every present entry matches its listed size and SHA-256',
      });
    const missing = refs.missing;
    let extra: PackEntryRef | undefined;
    for (let at = 0; at < entries.length && extra === undefined; at++) {
      if (refs.isListed(at)) continue;
      const e = entries.at(at);
      if (e.path !== MANIFEST_PATH && e.path !== ENTRIES_PATH) extra = e;
    }
    if (missing)
      setCompleteness({
        code: 'COMPLETENESS',
        status: 'FAILED',
        message: `listed entry ${missing} is missing`,
        path: missing,
      });
    else if (extra)
      setCompleteness({
        code: 'COMPLETENESS',
        status: 'FAILED',
        message: `entry ${extra.path} is not listed in the manifest`,
        path: extra.path,
      });
    else
      setCompleteness({
        code: 'COMPLETENESS',
        status: 'PASS',
        message: 'the archive holds exactly the listed entries',
      });
    const nameProblem = parseProblem ?? receiptNameProblem ?? contentProblem ?? condensedNameProblem;
    if (nameProblem)
      setEntryNames({
        code: 'ENTRY_NAMES',
        status: 'FAILED',
        message: nameProblem.message,
        path: nameProblem.path,
      });
    else
      setEntryNames({
        code: 'ENTRY_NAMES',
        status: 'PASS',
        message: 'every JSON entry is canonical and named by its content',
      });
    checks.push(...trustChecks);
    trustReported = true;

    const needTrust = (code: CheckCode) =>
      add(
        code,
        'UNVERIFIABLE',
        'no verified trust registry: signatures cannot be attributed to authorized keys',
      );

    // 6. Receipts: signatures under keys valid for their role at their height, links, Lamport order.
    // With checkpoints the receipts are verified here, once, and the graph pass reuses the result.
    const receiptChecks = new Map<unknown, ReturnType<typeof verifyReceipt>>();
    const checkReceipt = (env: unknown): ReturnType<typeof verifyReceipt> => {
      let r = receiptChecks.get(env);
      if (!r) {
        r = verifyReceipt(env, lookup as NonNullable<typeof lookup>);
        receiptChecks.set(env, r);
      }
      return r;
    };
    let chainHead: { lamport: number; hash: string } | undefined;
    if (!lookup) needTrust('RECEIPT_CHAIN');
    else if (infos.length === 0 && condensedPaths.length === 0)
      add('RECEIPT_CHAIN', 'SKIPPED', 'no receipts in the pack');
    else if (condensedMode) {
      // A (partly) condensed history verifies against its signed checkpoints.
      const all = [...history, ...condensedPaths.map((p) => json.get(p))];
      const paths = [...receiptPaths.paths(), ...condensedPaths];
      const merged = all
        .map((v, k) => ({
          v: v as Record<string, unknown>,
          lamport: (paths[k] as string).startsWith('condensed/')
            ? Number((v as Record<string, unknown> | undefined)?.lamport)
            : Number(envelopeBodySafe(v)?.lamport),
        }))
        .sort((a, b) => a.lamport - b.lamport)
        .map((x) => x.v);
      const consistency = (json.get(CONSISTENCY_PATH) as string[][] | undefined) ?? [];
      const r = verifyCondensedHistory({
        logId: manifest.scope.chain_id,
        history: merged,
        checkpoints: checkpointPaths.map((p) => json.get(p)),
        consistency,
        keys: nodeLookup as NonNullable<typeof nodeLookup>,
        verifyReceipt: (env) => checkReceipt(env) as never,
      });
      const failedAt = r.ok || r.where !== 'history' ? Number.POSITIVE_INFINITY : r.index + 1;
      if (trustBinding && trustBinding.lamport < failedAt) {
        if (r.ok) chainHead = r.head;
        add('RECEIPT_CHAIN', 'FAILED', trustBinding.message, {
          detail: trustBinding.detail,
          path: trustBinding.path,
        });
      } else if (r.ok) {
        chainHead = r.head;
        add('RECEIPT_CHAIN', 'PASS', `${r.count} receipts (${r.condensed} condensed) link and verify`);
      } else add('RECEIPT_CHAIN', 'FAILED', `history: ${r.message}`, { detail: r.code });
      // I-EVIDENCE-9: every receipt of a checkpoint's range (full ones included) is its leaf at its
      // position in that checkpoint's tree, and anchor_required is recomputed from the range's tiers.
      const tree = r.ok
        ? checkpointTreeProblem(
            merged,
            checkpointPaths.map((p) => envelopeBodySafe(json.get(p)) ?? {}),
          )
        : undefined;
      if (r.ok && tree) {
        const at = checkpointPaths[tree.index] as string;
        add('CHECKPOINTS', 'FAILED', `${at}: ${tree.message}`, { detail: tree.detail, path: at });
      } else if (r.ok) {
        add(
          'CHECKPOINTS',
          'PASS',
          `${checkpointPaths.length} signed checkpoints, consistent, inclusion proofs valid, every receipt in range is its leaf, anchor_required matches the tiers`,
        );
      } else {
        add('CHECKPOINTS', 'FAILED', `checkpoints or inclusion proofs: ${r.message}`, { detail: r.code });
      }
    } else {
      const from = manifest.scope.from_lamport;
      const first = infos.at(0);
      const linkFrom =
        from > 1 && first
          ? { from: { chain_id: manifest.scope.chain_id, lamport: from - 1, hash: String(firstPrevHash) } }
          : {};
      const expectedHead = manifest.head
        ? {
            expectedHead: {
              chain_id: manifest.scope.chain_id,
              lamport: manifest.head.lamport,
              hash: manifest.head.hash,
            },
          }
        : {};
      // Signatures were checked as the receipts were read (serially or on the pool); one link pass.
      const r = linkReceipts(
        summaries.view(),
        { chainId: manifest.scope.chain_id, ...linkFrom, ...expectedHead },
        failure,
      );
      const failedAt = r.ok
        ? Number.POSITIVE_INFINITY
        : (infos.at(r.index)?.lamport ?? Number.POSITIVE_INFINITY);
      if (trustBinding && trustBinding.lamport < failedAt) {
        if (r.ok) chainHead = { lamport: r.head.lamport, hash: r.head.hash };
        add('RECEIPT_CHAIN', 'FAILED', trustBinding.message, {
          detail: trustBinding.detail,
          path: trustBinding.path,
        });
      } else if (r.ok) {
        chainHead = { lamport: r.head.lamport, hash: r.head.hash };
        add(
          'RECEIPT_CHAIN',
          'PASS',
          `${r.count} receipts: signatures, keys valid at each receipt's trust seq, trust heads, links and Lamport order verify`,
        );
      } else {
        add('RECEIPT_CHAIN', 'FAILED', `receipt ${r.index}: ${r.message}`, {
          detail: r.code,
          ...(r.index >= 0 && r.index < receiptPaths.length ? { path: receiptPaths.pathAt(r.index) } : {}),
        });
      }
      add('CHECKPOINTS', 'SKIPPED', 'no checkpoints in the pack (nothing condensed)');
    }

    // 7. Scope: the manifest's range, head and counts match the evidence.
    const allLamports = [
      ...Array.from({ length: infos.length }, (_, i) => infos.lamportAt(i)),
      ...condensedPaths.map((p) => Number(p.slice('condensed/'.length, -'.json'.length))),
    ].sort((a, b) => a - b);
    const scopeProblems: string[] = [];
    if (manifest.counts.receipts !== infos.length + condensedPaths.length)
      scopeProblems.push('receipt count');
    if (manifest.counts.nodes !== nodePaths.length) scopeProblems.push('node count');
    if (manifest.counts.decisions !== decisionPaths.length) scopeProblems.push('decision count');
    if (manifest.counts.checkpoints !== checkpointPaths.length) scopeProblems.push('checkpoint count');
    if (allLamports.length && allLamports[0] !== manifest.scope.from_lamport)
      scopeProblems.push('from_lamport');
    if (allLamports.length && allLamports[allLamports.length - 1] !== manifest.scope.to_lamport)
      scopeProblems.push('to_lamport');
    if (new Set(allLamports).size !== allLamports.length)
      scopeProblems.push('a Lamport value is both full and condensed');
    if (
      chainHead &&
      manifest.head &&
      (chainHead.hash !== manifest.head.hash || chainHead.lamport !== manifest.head.lamport)
    )
      scopeProblems.push('head');
    if (chainIdMismatch) scopeProblems.push('chain_id');
    // scope.session_id (§4): null; the chain id (the chain is the session, as `helm export` writes);
    // or else the delegation session every full receipt of the pack was signed under.
    if (session !== null && session !== manifest.scope.chain_id && (infos.length === 0 || sessionMismatch))
      scopeProblems.push('session_id');
    // Truncation at the tail is only visible against a head the verifier holds (§4, §5 step 10).
    const expected: string[] = [];
    if (options.expectHead !== undefined && manifest.head?.hash !== options.expectHead)
      expected.push(`head ${String(manifest.head?.hash ?? null)}, expected ${options.expectHead}`);
    if (options.expectLamport !== undefined && (manifest.head?.lamport ?? 0) !== options.expectLamport)
      expected.push(`head Lamport ${manifest.head?.lamport ?? 0}, expected ${options.expectLamport}`);
    if (scopeProblems.length)
      add('RECEIPT_SCOPE', 'FAILED', `manifest disagrees with the evidence: ${scopeProblems.join(', ')}`, {
        ...(scopeProblems.includes('session_id') ? { detail: 'SESSION_MISMATCH' } : {}),
      });
    else if (expected.length)
      add(
        'RECEIPT_SCOPE',
        'FAILED',
        `the pack ends at ${expected.join('; ')} (truncated, or another chain)`,
        {
          detail: 'EXPECTED_HEAD_MISMATCH',
        },
      );
    else
      add(
        'RECEIPT_SCOPE',
        'PASS',
        `Lamport ${manifest.scope.from_lamport}..${manifest.scope.to_lamport}, head and counts match`,
      );

    // 8. Decisions: guardian-signed under a key valid at the trust_seq of the first receipt that names
    //    it, each bound to that receipt (same args hash; an ALLOW also the same tool and principal).
    // Every full receipt's decision is in the pack, unless its decision_id is the executor-local
    // denial id (docs/spec/pipeline.md §Executor-local denial id) recomputed from the receipt and
    // its recorded request: then the call ended before the guardian ran and there is no decision.
    // A receipt of an administrative governance event (tool `helm.admin.<action>`) names no
    // guardian decision: its decision id is the digest of the signed event its recorded request
    // carries, which must verify under a key holding the action's role (docs/spec/governance-event.md
    // §Administrative receipts). One event authorizes one receipt.
    let undecided: Record<string, unknown> | undefined;
    const adminEvents = new Set<string>();
    for (let i = 0; i < infos.length && !undecided; i++) {
      const info = infos.at(i) as ReceiptInfo;
      const adminTool = String(info.tool).startsWith(GOVERNANCE_ADMIN_TOOL_PREFIX);
      if (decided[i] && !adminTool) continue;
      // Rare (executor-local denials, admin receipts): the receipt and its request are read again.
      const b = envelopeBody<Record<string, unknown>>(
        reread(entries.at(receiptOk.at(i) as number)) as SignedEnvelope,
      );
      const requestRef = refs.get(`requests/${pad(info.lamport)}.json`);
      const recorded = requestRef === undefined ? undefined : visit(requestRef).value;
      if (!adminTool && b.decision_id === executorLocalDecisionId(b, recorded)) continue;
      if (registry && !adminEvents.has(String(b.decision_id)) && isAdminReceipt(b, recorded, registry)) {
        adminEvents.add(String(b.decision_id));
        continue;
      }
      undecided = b;
    }
    if (!registry) needTrust('DECISIONS');
    else if (undecided)
      add(
        'DECISIONS',
        'FAILED',
        `receipt at Lamport ${String(undecided.lamport)} names decision ${String(undecided.decision_id)}, which is not in the pack and is not an executor-local denial id`,
        { detail: 'DECISION_MISSING', path: `receipts/${pad(Number(undecided.lamport))}.json` },
      );
    else if (decisionPaths.length === 0) add('DECISIONS', 'SKIPPED', 'no decisions in the pack');
    else if (decisionFailure) checks.push(decisionFailure);
    else
      add(
        'DECISIONS',
        'PASS',
        `${decisionPaths.length} guardian decisions verify and bind to their receipts`,
      );

    // 9. ProofGraph DAG: hashes, parents, Lamport rule, signatures, payload digests. Every full receipt
    //    is itself a node (a receipt node, docs/spec/node.md §Receipt nodes); condensed receipts are
    //    nodes known by their leaf (entry_hash at lamport); proofgraph/nodes/ holds the signed nodes.
    if (!lookup) needTrust('PROOFGRAPH');
    else if (nodePaths.length === 0 && infos.length === 0)
      add('PROOFGRAPH', 'SKIPPED', 'no ProofGraph nodes in the pack');
    else {
      const condensedLamport = new Map<string, number>();
      for (const p of condensedPaths) {
        const c = json.get(p) as { entry_hash?: unknown; lamport?: unknown } | undefined;
        if (typeof c?.entry_hash === 'string' && Number.isSafeInteger(c.lamport))
          condensedLamport.set(c.entry_hash, c.lamport as number);
      }
      const noNodes = nodeRefs.length === 0;
      // In a range export, parents before the range are boundary references (the first receipt's
      // predecessor; for signed nodes, Lamport min node Lamport − 1).
      const known = (h: string): number | undefined => {
        const condensed = condensedLamport.get(h);
        if (condensed !== undefined) return condensed;
        if (!rangeExport) return undefined;
        if (firstReceipt && h === firstPrevHash) return firstReceipt.lamport - 1;
        return inPack.has(h) || noNodes ? undefined : minNodeLamport - 1;
      };
      const total = infos.length + nodeRefs.length;
      options.onProgress?.('proofgraph', 0, total);
      /** Where a hash first occurs in the whole sequence (receipts and nodes read again). */
      const firstPosition = (hash: string) => {
        for (let at = 0; at < total; at++) {
          let h: string | undefined;
          if (at < infos.length) {
            const env = condensedMode ? receiptEnvs[at] : reread(entries.at(receiptOk.at(at) as number));
            h = receiptHash(env as SignedEnvelope);
          } else if (nodeValid[at - infos.length]) {
            const d = reread(nodeRefs.at(at - infos.length)) as { envelope: SignedEnvelope };
            h = envelopeDigest(d.envelope);
          }
          if (h === hash) return at;
        }
        return -1;
      };
      /** A node read again and checked here (plain checkGraphItem). */
      const recheckNode = (j: number) =>
        checkGraphItem(
          graphItemOf(
            nodeValid[j]
              ? (reread(nodeRefs.at(j)) as { envelope: SignedEnvelope; payload?: unknown })
              : undefined,
          ),
          { keys: nodeLookup as NonNullable<typeof nodeLookup> },
        );
      const g = !checkNodesNow
        ? undefined
        : yield* (function* (): Generator<Promise<unknown>, GraphVerifyResult, unknown> {
            // Receipt nodes first (positions 0 … infos.length − 1), each checked alone; then the
            // signed nodes' checks made while they were read; then one link pass over them all.
            const links = new LinkStore(infos.length);
            /** Signed nodes checked again here (their worker verdict did not stand), by position. */
            const rechecked = new Map<number, LinkedNode>();
            let nodesLinked = 0;
            let failure: ItemFailure | undefined;
            const receiptsOf = { keys: nodeLookup as NonNullable<typeof nodeLookup>, receipts: checkReceipt };
            for (let at = 0; at < infos.length && failure === undefined; at++) {
              const summary = condensedMode ? undefined : summaries.at(at);
              let env: unknown;
              if (summary !== undefined && !verdicts.has(at)) {
                // Passed phase 1: its node comes from the fields phase 1 verified (receiptNode reads
                // the envelope's type and these fields only), not from the receipt read again.
                env = { type: RECEIPT_TYPE };
                const info = infos.at(at) as ReceiptInfo;
                const body = {
                  receipt_id: summary.receipt_id,
                  lamport: summary.lamport,
                  prev_hash: summary.prev_hash,
                  principal: info.principal,
                  issued_at_ms: info.issued_at_ms,
                  keyid: summary.keyid,
                } as unknown as ReceiptCheckBody;
                receiptChecks.set(env, { ok: true, body, summary });
              } else {
                // Read again; a phase-1 failure is reused (same bytes, same key lookup) instead of
                // verifying the signature twice.
                env = condensedMode ? receiptEnvs[at] : reread(entries.at(receiptOk.at(at) as number));
                const verdict = condensedMode ? undefined : verdicts.get(at);
                if (verdict !== undefined && verdict !== UNVERIFIED && !pool)
                  receiptChecks.set(env, {
                    ok: false,
                    code: verdict.code,
                    message: verdict.message,
                  } as ReturnType<typeof verifyReceipt>);
              }
              const c = checkGraphItem({ envelope: env }, receiptsOf);
              receiptChecks.delete(env);
              if (c.ok) links.push(linkedNode(c.node));
              else failure = { code: c.code, index: at, message: c.message };
            }
            if (failure === undefined) {
              // The workers' checks, in order; a success stands only under exactly the key this
              // thread's lookup gives for its key id, role and Lamport, and anything else is checked
              // again here (so the first failure and its code are checkGraphItem's on this thread).
              while (foldedNodeSlices < nodeResults.length)
                foldNodes((yield nodeResults[foldedNodeSlices] as Promise<unknown>) as NodeResult);
              for (let j = 0; j < nodesFolded; j++) {
                if (!nodeStands[j]) {
                  const c = recheckNode(j);
                  if (!c.ok) {
                    failure = { code: c.code, index: infos.length + j, message: c.message };
                    break;
                  }
                  rechecked.set(j, linkedNode(c.node));
                }
                nodesLinked = j + 1;
              }
            }
            // The receipt nodes, then the signed nodes up to the first failure (as one sequence).
            const receiptCount = links.length;
            const sequence = {
              length: receiptCount + nodesLinked,
              at: (i: number) =>
                i < receiptCount
                  ? links.at(i)
                  : (rechecked.get(i - receiptCount) ?? nodeLinks.at(i - receiptCount)),
            };
            return linkInSlices(sequence, { known, firstPosition }, failure, internal.graphSlice);
          })();
      const graph =
        g ??
        validateGraphInSlices(
          total,
          (at) => {
            if (at < infos.length) {
              const summary = condensedMode ? undefined : summaries.at(at);
              if (summary !== undefined && !verdicts.has(at) && !plain) {
                // A receipt that passed phase 1 is not read again: its node is built from the fields
                // phase 1 verified (receiptNode reads the envelope's type and these fields only, and
                // hashOf the summary's hash), the same values a re-read envelope's body would give.
                const stub = { type: RECEIPT_TYPE } as unknown as SignedEnvelope;
                const info = infos.at(at) as ReceiptInfo;
                const body = {
                  receipt_id: summary.receipt_id,
                  lamport: summary.lamport,
                  prev_hash: summary.prev_hash,
                  principal: info.principal,
                  issued_at_ms: info.issued_at_ms,
                  keyid: summary.keyid,
                } as unknown as ReceiptCheckBody;
                receiptChecks.set(stub, { ok: true, body, summary });
                return { item: { envelope: stub }, release: () => receiptChecks.delete(stub) };
              }
              // A receipt node, read again; its phase-1 verdict is reused (same envelope bytes, same
              // key lookup, so the same answer) instead of verifying the signature twice.
              const env = (
                condensedMode ? receiptEnvs[at] : reread(entries.at(receiptOk.at(at) as number))
              ) as SignedEnvelope;
              if (!condensedMode) {
                const summary = summaries.at(at);
                const verdict = verdicts.get(at);
                if (summary !== undefined && verdict === undefined)
                  receiptChecks.set(env, { ok: true, body: envelopeBody(env) as ReceiptCheckBody, summary });
                else if (verdict !== undefined && verdict !== UNVERIFIED && !pool)
                  receiptChecks.set(env, {
                    ok: false,
                    code: verdict.code,
                    message: verdict.message,
                  } as ReturnType<typeof verifyReceipt>);
              }
              return { item: { envelope: env }, release: () => receiptChecks.delete(env) };
            }
            const j = at - infos.length;
            const d = nodeValid[j]
              ? (reread(nodeRefs.at(j)) as { envelope: SignedEnvelope; payload?: unknown })
              : undefined;
            return {
              item:
                d && 'payload' in d
                  ? { envelope: d.envelope, payload: { value: d.payload } }
                  : { envelope: d?.envelope },
              release: () => {},
            };
          },
          {
            keys: nodeLookup as NonNullable<typeof nodeLookup>,
            known,
            receipts: (env) => checkReceipt(env) as never,
            // Only on a PARENT_MISSING failure: where the parent first occurs in the whole sequence
            // (receipts and nodes read again), to tell "later" (PARENT_ORDER) from "missing".
            firstPosition,
            hashOf: (item, at) => {
              if (at < infos.length) {
                const r = checkReceipt(item.envelope);
                return r.ok ? { hash: r.summary.hash, lamport: r.body.lamport } : undefined;
              }
              const env = item.envelope as SignedEnvelope;
              return { hash: envelopeDigest(env), lamport: Number(envelopeBodySafe(env)?.lamport) };
            },
            onProgress: (n) => options.onProgress?.('proofgraph', n, total),
            // Receipts that passed phase 1 are found by their summary rows (not copied into the
            // pass's hash → Lamport map: #25).
            ...(plain || condensedMode
              ? {}
              : {
                  receiptRows: {
                    count: Math.min(summaries.length, infos.length),
                    hashes: summaries.hashes,
                    lamportAt: (row: number) => summaries.lamportAt(row),
                  },
                }),
            // Small slices: a slice's re-read nodes live until it is validated, and the longer they
            // live the likelier V8 promotes them to the old generation, which it grows before it
            // collects (peak RSS). The verdict does not depend on the slice size.
            sliceSize: internal.graphSlice ?? 128,
          },
        );
      options.onProgress?.('proofgraph', total, total);
      if (graph.ok)
        add(
          'PROOFGRAPH',
          'PASS',
          `${graph.count} nodes (${infos.length} receipt nodes, ${nodeRefs.length} signed): hashes, parents, Lamport and signatures verify`,
        );
      else {
        const at = graph.index - infos.length;
        add('PROOFGRAPH', 'FAILED', `node ${graph.index}: ${graph.message}`, {
          detail: graph.code,
          ...(at >= 0 && at < nodePaths.length ? { path: nodePaths.pathAt(at) } : {}),
        });
      }
    }

    // 10. Receipts and signed nodes agree: a signed node that carries a `helm.receipt.v1` payload (or
    //     commits to one by payload_hash) carries one of the pack's receipts, and no receipt sits in
    //     proofgraph/nodes/ (receipts are their own nodes and belong in receipts/).
    if (nodePaths.length === 0) add('PROOFGRAPH_RECEIPTS', 'SKIPPED', 'no signed ProofGraph nodes to bind');
    else {
      if (foreign || misplaced)
        add(
          'PROOFGRAPH_RECEIPTS',
          'FAILED',
          `${foreign} node receipts not in the pack, ${misplaced} receipts filed as signed nodes`,
        );
      else
        add(
          'PROOFGRAPH_RECEIPTS',
          'PASS',
          "every receipt a signed node carries is one of the pack's receipts",
        );
    }

    // 11. Artifacts in force: index ↔ files, schemas ↔ descriptors, receipts' tools are described.
    const index = indexValue;
    if (!index || (index as unknown as { type?: string }).type !== INDEX_TYPE) {
      add('ARTIFACTS', 'FAILED', 'index.json is missing or malformed', { path: INDEX_PATH });
    } else {
      const problems: string[] = [];
      for (const kind of ['policies', 'tools', 'schemas', 'modules']) {
        for (const a of index[kind] ?? []) {
          const data = readPath(String(a.path));
          const d = kind === 'tools' ? a.descriptor_digest : a.digest;
          if (!data || digest(data) !== d) problems.push(`${String(a.path)} missing or not ${String(d)}`);
        }
      }
      const schemas = new Set((index.schemas ?? []).map((s) => String(s.digest)));
      for (const t of index.tools ?? []) {
        if (!schemas.has(String(t.input_schema)) || !schemas.has(String(t.output_schema)))
          problems.push(`schemas of ${String(t.name)} missing`);
      }
      problems.push(...receiptToolProblems);
      // The index describes the descriptor files it names (the file's digest is checked above):
      // same name and driver; and a sandbox tool's module (driver.ref `sha256:<hex>`) is in the pack.
      for (const t of index.tools ?? []) {
        const descriptorRef = refs.get(String(t.path));
        const descriptor = (json.get(String(t.path)) ??
          (descriptorRef === undefined ? undefined : visit(descriptorRef).value)) as
          | Record<string, unknown>
          | undefined;
        if (!isObject(descriptor)) {
          problems.push(`${String(t.path)} is not a tool descriptor`);
          continue;
        }
        if (descriptor.name !== t.name || !jsonEqual(descriptor.driver ?? null, t.driver ?? null))
          problems.push(`index entry of ${String(t.name)} does not match ${String(t.path)}`);
        const driver = isObject(descriptor.driver) ? descriptor.driver : {};
        if (driver.kind === 'sandbox') {
          const ref = String(driver.ref);
          const module = /^sha256:[0-9a-f]{64}$/.test(ref) ? `modules/${hexOf(ref)}.wasm` : undefined;
          if (!module || !refs.has(module))
            problems.push(`module ${ref} of sandbox tool ${String(descriptor.name)} missing`);
        }
      }
      if (problems.length) add('ARTIFACTS', 'FAILED', problems.slice(0, 3).join('; '), { path: INDEX_PATH });
      else
        add(
          'ARTIFACTS',
          'PASS',
          `${index.policies?.length ?? 0} policies, ${index.tools?.length ?? 0} tools, ${index.schemas?.length ?? 0} schemas, ${index.modules?.length ?? 0} modules in force`,
        );
    }

    // 12. Recorded requests belong to receipts of the pack, and each full receipt's request is the
    //     one it signed for: digest(JCS(request)) = its request_digest (null ⇔ not representable);
    //     a receipt with a request digest and no recorded request is FAILED too.
    // A request has its receipt when its name is `requests/${pad(l)}.json` for a Lamport l of the
    // pack: found by binary search in the sorted Lamports (no set of a million names).
    const hasLamport = (l: number) => {
      let lo = 0;
      let hi = allLamports.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((allLamports[mid] as number) < l) lo = mid + 1;
        else hi = mid;
      }
      return allLamports[lo] === l;
    };
    const hasReceipt = (path: string) => {
      const digits = /^requests\/([0-9]+)\.json$/.exec(path)?.[1];
      if (digits !== undefined && `requests/${pad(Number(digits))}.json` === path)
        return hasLamport(Number(digits));
      // Any other spelling: the names the Lamports give, compared one by one (never an honest pack).
      return allLamports.some((l) => `requests/${pad(l)}.json` === path);
    };
    let orphan: string | undefined;
    for (let k = 0; k < requestPaths.length && orphan === undefined; k++) {
      const path = requestPaths.pathAt(k);
      if (!hasReceipt(path)) orphan = path;
    }
    const requestFailure = orphan ? { path: orphan, message: `${orphan} has no receipt` } : requestProblem;
    if (requestFailure) add('REQUESTS', 'FAILED', requestFailure.message, { path: requestFailure.path });
    else if (requestPaths.length === 0)
      add('REQUESTS', 'SKIPPED', 'no recorded requests (replay impossible)');
    else
      add(
        'REQUESTS',
        'PASS',
        `${requestPaths.length} recorded requests, each with its receipt; every full receipt's request hashes to its request_digest`,
      );
    return done(manifest);
  } catch (error) {
    // Checks already decided keep their place; the stopped step is the next one (RECEIPT_CHAIN
    // while the receipts are read).
    if (!trustReported) checks.push(...trustChecks);
    throw error;
  } finally {
    if (pool) void pool.close();
  }
}

/** A node whose worker verdict did not stand: a placeholder, checked again in the graph pass. */
const NO_LINK: LinkedNode = { hash: '', lamport: 0, parents: [] };

/** The graph item of a signed node document (or of an unreadable one: no envelope). */
function graphItemOf(d: { envelope: SignedEnvelope; payload?: unknown } | undefined): GraphItem {
  return d && 'payload' in d
    ? { envelope: d.envelope, payload: { value: d.payload } }
    : { envelope: d?.envelope };
}

/** What linkGraph reads of a checked node. */
function linkedNode(node: {
  readonly hash: string;
  readonly body: { readonly lamport: number; readonly parents: readonly string[] };
}): LinkedNode {
  return { hash: node.hash, lamport: node.body.lamport, parents: node.body.parents };
}

/** The fields of a full receipt later steps bind decisions and requests to. */

/** A worker verdict that does not stand for the serial verifier's (verified again when needed). */
const UNVERIFIED: ReceiptFailure = { code: 'MALFORMED', index: -1, message: 'verify again' };

/**
 * A full receipt's recorded request (§5 step 15): it hashes to the receipt's request_digest, names
 * its tool and principal and, when the receipt's args_hash is not null, carries those arguments.
 */
function recordedRequestProblem(
  path: string,
  b: {
    readonly request_digest?: unknown;
    readonly tool?: unknown;
    readonly principal?: unknown;
    readonly args_hash?: unknown;
  },
  recorded: unknown,
): string | undefined {
  if (recorded === undefined || typeof recorded !== 'object' || recorded === null)
    return `${path} is not a recorded request`;
  const d = requestDigestOf((recorded as { request?: unknown }).request);
  if (d !== b.request_digest)
    return `${path}: the recorded request hashes to ${String(d)}, its receipt signed ${String(b.request_digest)}`;
  // The receipt's own call fields are the request's (docs/spec/pipeline.md): its tool and
  // principal, and — when the executor could hash them — the args under args_hash.
  const request = (recorded as { request?: unknown }).request;
  const call: Record<string, unknown> = isObject(request) ? request : {};
  if (call.tool !== b.tool || call.principal !== b.principal)
    return `${path}: the recorded request is not for its receipt's tool and principal`;
  if (b.args_hash !== null && argsHashOf(call) !== b.args_hash)
    return `${path}: the recorded arguments do not hash to its receipt's args_hash`;
  return undefined;
}

/**
 * §5 step 11: an ALLOW decision authorizes exactly one execution (docs/spec/pipeline.md step 7; an
 * idempotent replay is re-authorized by its own decision, step 7b), so the full receipts naming it
 * (Lamport order) are one receipt — or a SUCCEEDED one followed by the FAILED
 * `RECEIPT_PERSIST_FAILED` receipt the executor writes when that call's ProofGraph append failed
 * (step 14). Anything else is a reuse (detail `DECISION_REUSED`). DENY and ESCALATE decisions, like
 * executor-local denial ids, are content-derived and may be named by identical calls.
 */
function allowReuseProblem(
  named: readonly { readonly lamport: unknown; readonly status: unknown; readonly reason_code: unknown }[],
): string | undefined {
  if (named.length === 1) return undefined;
  const [first, second] = named as [(typeof named)[0], (typeof named)[0]];
  if (
    named.length === 2 &&
    first.status === 'SUCCEEDED' &&
    second.status === 'FAILED' &&
    second.reason_code === 'RECEIPT_PERSIST_FAILED'
  )
    return undefined;
  const lamports = named.map((r) => String(r.lamport)).join(', ');
  return `the ALLOW decision is named by ${named.length} receipts (Lamport ${lamports}): an ALLOW authorizes exactly one execution`;
}

/**
 * The decision id a receipt would carry had the executor denied the call before the guardian ran
 * (docs/spec/pipeline.md §Executor-local denial id): every member is a receipt field except the
 * tenant, which is the recorded request's (`tenant` when a string, else null; null when no request
 * is recorded). Undefined when the receipt's fields cannot be hashed.
 */
function executorLocalDecisionId(b: Record<string, unknown>, recorded: unknown): string | undefined {
  const request = isObject(recorded) && isObject(recorded.request) ? recorded.request : {};
  try {
    return digest(
      canonicalBytes({
        type: EXECUTOR_DENIAL_TYPE,
        principal: b.principal,
        tenant: typeof request.tenant === 'string' ? request.tenant : null,
        session_id: null,
        tool: b.tool,
        args_hash: b.args_hash,
        reason_code: b.reason_code,
        at_ms: b.issued_at_ms,
      }),
    );
  } catch {
    return undefined;
  }
}

const EXECUTOR_DENIAL_TYPE = 'helm.executor.denial.v1';

/**
 * A receipt of an administrative governance event: tool `helm.admin.<action>` for an admin action,
 * its recorded request `{tool, principal, args: {event, trust_seq}}` carrying the signed event whose
 * digest is the receipt's decision id, signed by exactly the receipt's principal, for this registry,
 * under a key holding the action's role at `trust_seq` (a state the snapshot reached), its body
 * holding up there too (a `policy.publish` carries a bundle a `policy` key signed: admin-bodies.ts).
 */
function isAdminReceipt(b: Record<string, unknown>, recorded: unknown, registry: TrustRegistry): boolean {
  try {
    const tool = b.tool;
    if (typeof tool !== 'string' || !tool.startsWith(GOVERNANCE_ADMIN_TOOL_PREFIX)) return false;
    const action = tool.slice(GOVERNANCE_ADMIN_TOOL_PREFIX.length) as GovernanceAction;
    if (!GOVERNANCE_ADMIN_ACTIONS.includes(action)) return false;
    const request = isObject(recorded) && isObject(recorded.request) ? recorded.request : undefined;
    const args = request && isObject(request.args) ? request.args : undefined;
    if (!args || request?.tool !== tool || request.principal !== b.principal) return false;
    if (b.args_hash !== digest(canonicalBytes(args))) return false;
    const event = args.event as SignedEnvelope;
    const seq = args.trust_seq;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1 || seq > registry.seq) return false;
    if (digest(canonicalBytes(event)) !== b.decision_id) return false;
    if (!Array.isArray(event?.signatures) || event.signatures.length !== 1) return false;
    if (event.signatures[0]?.keyid !== b.principal) return false;
    const body = openVerifiedEnvelope(
      event,
      GOVERNANCE_EVENT_TYPE,
      registry.lookupFor(GOVERNANCE_ACTION_ROLES[action], seq),
    ).body as Record<string, unknown>;
    return (
      body.action === action &&
      body.trust_anchor === registry.genesis &&
      adminBodyHolds(action, body.body, registry.lookupFor('policy', seq))
    );
  } catch {
    return false;
  }
}

function jsonEqual(a: unknown, b: unknown): boolean {
  try {
    return bytesEqual(canonicalBytes(a), canonicalBytes(b));
  } catch {
    return false;
  }
}

const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Per-kind size caps of the JSON entries the verifier parses (docs/spec/evidencepack.md §5.2), with
 * the check that refuses an oversized entry (detail `ENTRY_TOO_LARGE`) before it is parsed. First
 * matching prefix wins.
 */
export const ENTRY_CAPS: readonly { prefix: string; max: number; code: CheckCode }[] = [
  { prefix: MANIFEST_PATH, max: 64 * KiB, code: 'MANIFEST_FORMAT' },
  { prefix: 'receipts/', max: 64 * KiB, code: 'RECEIPT_CHAIN' },
  { prefix: 'condensed/', max: 64 * KiB, code: 'RECEIPT_CHAIN' },
  { prefix: CONSISTENCY_PATH, max: 4 * MiB, code: 'CHECKPOINTS' },
  { prefix: 'checkpoints/', max: 64 * KiB, code: 'CHECKPOINTS' },
  { prefix: 'decisions/', max: 256 * KiB, code: 'DECISIONS' },
  { prefix: 'proofgraph/', max: 1 * MiB, code: 'PROOFGRAPH' },
  { prefix: 'requests/', max: 8 * MiB, code: 'REQUESTS' },
  { prefix: TRUST_SNAPSHOT_PATH, max: 64 * MiB, code: 'TRUST_SNAPSHOT' },
  { prefix: INDEX_PATH, max: 64 * MiB, code: 'ARTIFACTS' },
  { prefix: '', max: 64 * MiB, code: 'ENTRY_NAMES' },
];

function entryCap(path: string): { max: number; code: CheckCode } | undefined {
  return ENTRY_CAPS.find((c) => path.startsWith(c.prefix));
}

/** Folders whose entries are JSON (`<…>.json`) only (§3). */
const JSON_FOLDERS = [
  'receipts/',
  'condensed/',
  'checkpoints/',
  'decisions/',
  'proofgraph/',
  'trust/',
  'policies/',
  'tools/',
  'schemas/',
  'requests/',
];
const LAMPORT_NAME = /^(?:receipts|condensed|requests)\/[0-9]{12}\.json$/;
const DIGEST_NAME = /^(?:policies|schemas|tools|decisions)\/([0-9a-f]{64})\.json$/;
const MODULE_NAME = /^modules\/([0-9a-f]{64})\.wasm$/;
const NODE_NAME = /^proofgraph\/nodes\/([0-9]{12})-([0-9a-f]{64})\.json$/;
const CHECKPOINT_NAME = /^checkpoints\/([0-9]{12})-([0-9a-f]{64})\.json$/;

/**
 * ENTRY_NAMES (§3): the name of a content-addressed entry against its bytes — policies, schemas,
 * tools (descriptor digest = digest(JCS(descriptor))), decisions and modules by SHA-256 of the
 * entry; signed nodes by Lamport and digest of the JCS envelope; checkpoints by tree size and
 * SHA-256 of the entry; receipts, condensed entries and requests by a 12-digit Lamport (their
 * Lamport against the content is checked by the caller and by REQUESTS). `value` is the parsed
 * entry when it is canonical JSON of the right shape.
 */
function contentNameProblem(path: string, sha256: string, value: unknown): string | undefined {
  if (path === MANIFEST_PATH || path === INDEX_PATH) return undefined;
  if (JSON_FOLDERS.some((f) => path.startsWith(f)) && !path.endsWith('.json'))
    return 'not a JSON entry in a JSON-only folder';
  const hex = () => hexOf(sha256);
  if (/^(?:receipts|condensed|requests)\//.test(path))
    return LAMPORT_NAME.test(path)
      ? undefined
      : 'not named <12-digit Lamport>.json (Lamport values ≥ 10^12 are refused)';
  if (/^(?:policies|schemas|tools|decisions)\//.test(path)) {
    const m = DIGEST_NAME.exec(path);
    return m && m[1] === hex() ? undefined : 'not named by the SHA-256 of its content';
  }
  if (path.startsWith('modules/')) {
    const m = MODULE_NAME.exec(path);
    return m && m[1] === hex() ? undefined : 'not named <SHA-256 of the module>.wasm';
  }
  if (path.startsWith('proofgraph/')) {
    const m = NODE_NAME.exec(path);
    if (!m)
      return 'not named proofgraph/nodes/<12-digit Lamport>-<hex>.json (Lamport values ≥ 10^12 are refused)';
    const envelope = (value as { envelope?: SignedEnvelope } | undefined)?.envelope;
    if (envelope === undefined) return undefined; // a wrong shape is PROOFGRAPH's (§1)
    const lamport = envelopeBodySafe(envelope)?.lamport;
    if (m[1] !== pad(Number(lamport)) || m[2] !== hexOf(envelopeDigest(envelope)))
      return 'name does not match the node (Lamport, digest of the JCS envelope)';
    return undefined;
  }
  if (path.startsWith('checkpoints/') && path !== CONSISTENCY_PATH) {
    const m = CHECKPOINT_NAME.exec(path);
    if (!m || m[2] !== hex())
      return 'not named <12-digit tree_size>-<SHA-256 of the entry>.json (tree sizes ≥ 10^12 are refused)';
    if (value === undefined) return undefined; // a wrong shape is CHECKPOINTS' (§1)
    const size = envelopeBodySafe(value)?.tree_size;
    return m[1] === pad(Number(size)) ? undefined : 'name does not match its tree_size';
  }
  return undefined;
}

/**
 * CHECKPOINTS, after the condensed history verified (docs/spec/checkpoint.md §Verification in a
 * pack): the leaves of the whole history — a full receipt's from its body and receipt hash, a
 * condensed entry's from its fields — are folded into one RFC 9162 tree, and at each checkpoint's
 * `tree_size` its root must be the checkpoint's `root_hash` (every receipt of its range is its leaf
 * at its position: `CHECKPOINT_TREE_MISMATCH`, also when the checkpoint covers receipts not in the
 * pack or a size ≥ 10^12) and `anchor_required` must be true exactly when a `HIGH` receipt is in
 * `prev_tree_size + 1 … tree_size` (`ANCHOR_REQUIRED_MISMATCH`). Undefined when all agree.
 */
function checkpointTreeProblem(
  history: readonly unknown[],
  checkpoints: readonly Record<string, unknown>[],
): { index: number; detail: string; message: string } | undefined {
  const frontier = new MerkleFrontier();
  let next = 0;
  for (let c = 0; c < checkpoints.length; c++) {
    const cp = checkpoints[c] as Record<string, unknown>;
    const size = Number(cp.tree_size);
    if (!Number.isSafeInteger(size) || size >= MAX_NAMED_LAMPORT || size > history.length)
      return {
        index: c,
        detail: 'CHECKPOINT_TREE_MISMATCH',
        message: `checkpoint covers ${String(cp.tree_size)} receipts; the pack holds ${history.length}`,
      };
    let high = false;
    for (; next < size; next++) {
      const item = history[next] as Record<string, unknown>;
      const condensed = item.type === CONDENSED_ENTRY_TYPE;
      const leaf = condensed ? item : envelopeBodySafe(item);
      const entryHash = condensed ? item.entry_hash : receiptHash(item as unknown as SignedEnvelope);
      if (!leaf || typeof entryHash !== 'string')
        return { index: c, detail: 'CHECKPOINT_TREE_MISMATCH', message: `receipt ${next + 1} unreadable` };
      if (leaf.risk_tier === 'HIGH' && next >= Number(cp.prev_tree_size)) high = true;
      frontier.append(
        logLeafHash({
          entry_hash: entryHash,
          prev_hash: String(leaf.prev_hash),
          lamport: Number(leaf.lamport),
          risk_tier: leaf.risk_tier as 'LOW',
        }),
      );
    }
    if (`sha256:${toHex(frontier.root())}` !== cp.root_hash)
      return {
        index: c,
        detail: 'CHECKPOINT_TREE_MISMATCH',
        message: `the receipts at Lamport 1..${size} are not the leaves of the checkpoint's tree (root mismatch)`,
      };
    if (cp.anchor_required !== high)
      return {
        index: c,
        detail: 'ANCHOR_REQUIRED_MISMATCH',
        message: `anchor_required is ${String(cp.anchor_required)}, but ${high ? 'a' : 'no'} HIGH receipt is in Lamport ${Number(cp.prev_tree_size) + 1}..${size}`,
      };
  }
  return undefined;
}

/** Lamport values and tree sizes name entries with exactly 12 digits (§3): they stay below 10^12. */
const MAX_NAMED_LAMPORT = 1_000_000_000_000;

/** digest(JCS(args)) of a recorded request, `args_text` parsed strictly as the PEP does; null if none. */
function argsHashOf(call: Record<string, unknown>): string | null {
  try {
    const args = typeof call.args_text === 'string' ? parseStrictJson(call.args_text) : call.args;
    return args === undefined ? null : digest(canonicalBytes(args));
  } catch {
    return null;
  }
}

/** digest(JCS(request)), or null when there is none or it is not representable (receipt.md). */
function requestDigestOf(request: unknown): string | null {
  if (request === undefined) return null;
  try {
    return digest(canonicalBytes(request));
  } catch {
    return null;
  }
}

type AddCheck = (
  code: CheckCode,
  status: CheckStatus,
  message: string,
  extra?: { detail?: string; path?: string },
) => void;

/** The checks a v1 verifier runs on a newer manifest version; PACK_FORMAT has already passed. */
const VERSION_INDEPENDENT: readonly CheckCode[] = [
  'PACK_FORMAT',
  'MANIFEST_FORMAT',
  'TRUST_SNAPSHOT',
  'TRUST_ANCHOR',
  'MANIFEST_SIGNATURE',
];

/**
 * §5.1, a manifest `helm.evidencepack.manifest.v<N>` with N > 1: nothing that depends on reading it
 * runs. What does not: the archive (done), a `helm.trust.snapshot.v1` snapshot (replayed from its
 * own genesis), the pinned anchor against that genesis, and the manifest signature (§4 holds for
 * every version: a key with `executor` at the snapshot head; the type is inside the signed PAE,
 * so relabelling a pack breaks it). Every other check is reported UNVERIFIABLE, not checked.
 */
function unsupportedFormat(
  envelope: SignedEnvelope,
  read: (path: string) => Uint8Array | undefined,
  options: VerifyOptions,
  add: AddCheck,
  checks: Check[],
): TrustRegistry | undefined {
  const type = envelope.type;
  add(
    'MANIFEST_FORMAT',
    'UNVERIFIABLE',
    `pack format ${type} is newer than this verifier (${EVIDENCEPACK_MANIFEST_TYPE}); upgrade helm`,
    { detail: 'FORMAT_UNSUPPORTED', path: MANIFEST_PATH },
  );
  const path = TRUST_SNAPSHOT_PATH;
  const bytes = read(path);
  let registry: TrustRegistry | undefined;
  let snapshot: unknown;
  try {
    snapshot = bytes && parseJson(bytes);
    if (bytes && !bytesEqual(canonicalBytes(snapshot), bytes)) throw new Error('not canonical JCS');
  } catch (error) {
    snapshot = undefined;
    add('TRUST_SNAPSHOT', 'FAILED', `${path}: ${(error as Error).message}`, { path });
  }
  if (!bytes) add('TRUST_SNAPSHOT', 'UNVERIFIABLE', 'the pack carries no trust snapshot', { path });
  else if (snapshot === undefined) {
    // reported above
  } else if (!isObject(snapshot) || snapshot.type !== TRUST_SNAPSHOT_TYPE) {
    const kind = isObject(snapshot) ? String(snapshot.type) : typeof snapshot;
    add('TRUST_SNAPSHOT', 'UNVERIFIABLE', `trust snapshot format ${kind} is unknown to this verifier`, {
      path,
    });
  } else {
    const problem = trustSnapshotProblem(snapshot);
    try {
      if (problem) throw new Error(problem);
      registry = importTrustSnapshot(snapshot, { genesis: snapshot.genesis as string });
      checks.push(
        snapshotCheck(registry, options, `trust registry replays to seq ${registry.seq} from its genesis`),
      );
    } catch (error) {
      add('TRUST_SNAPSHOT', 'FAILED', `trust snapshot does not verify: ${(error as Error).message}`, {
        detail: (error as { code?: string }).code ?? 'TRUST_ERROR',
        path,
      });
    }
  }
  if (options.trustAnchor === undefined)
    add('TRUST_ANCHOR', 'UNVERIFIABLE', 'no trust anchor pinned; pass --trust-anchor');
  else if (!registry)
    add('TRUST_ANCHOR', 'UNVERIFIABLE', 'no verified trust snapshot to hold the pinned anchor against');
  else if (registry.genesis !== options.trustAnchor)
    add(
      'TRUST_ANCHOR',
      'FAILED',
      `pack is anchored at ${registry.genesis}, not at the pinned ${options.trustAnchor}`,
    );
  else add('TRUST_ANCHOR', 'PASS', 'the trust snapshot is anchored at the pinned trust root');
  if (!registry)
    add(
      'MANIFEST_SIGNATURE',
      'UNVERIFIABLE',
      'no verified trust registry: the manifest signature cannot be attributed to an authorized key',
    );
  else {
    const c = manifestSignatureCheck(envelope, type, registry);
    add(c.code, c.status, c.message, c.detail === undefined ? {} : { detail: c.detail });
  }
  for (const code of CHECK_CODES) {
    if (!VERSION_INDEPENDENT.includes(code))
      add(code, 'UNVERIFIABLE', `not checked: pack format ${type} is not supported by this verifier`, {
        detail: 'FORMAT_UNSUPPORTED',
      });
  }
  return registry;
}

/** digest(JCS(envelope)) of a signed node's envelope (its node hash), computed once per object. */
const envelopeDigests = new WeakMap<object, string>();
function envelopeDigest(envelope: SignedEnvelope): string {
  let d = envelopeDigests.get(envelope);
  if (d === undefined) {
    d = digest(canonicalBytes(envelope));
    envelopeDigests.set(envelope, d);
  }
  return d;
}

/**
 * export.ts's envelopeBody (same value, same error), decoded once per envelope object (the body
 * cache of shapes.ts): steps that read the same envelope share one decoded body.
 */
function cachedEnvelopeBody<T = Record<string, unknown>>(envelope: SignedEnvelope): T {
  if (typeof envelope === 'object' && envelope !== null && typeof envelope.payload === 'string') {
    const body = bodyOf(envelope);
    if (body !== undefined) return body as T;
  }
  return plainEnvelopeBody<T>(envelope);
}

function envelopeBodySafe(value: unknown): Record<string, unknown> | undefined {
  return bodySafe(value);
}

function bodySafe(
  value: unknown,
  body: <T>(envelope: SignedEnvelope) => T = cachedEnvelopeBody,
): Record<string, unknown> | undefined {
  try {
    return body<Record<string, unknown>>(value as SignedEnvelope);
  } catch {
    return undefined;
  }
}

/** Human-readable report, one line per check. */
/** The freshness line of the human report (§5.3): states what the verdict rests on, pinned or not. */
export function freshnessLine(f: TrustFreshness): string {
  const at = f.seq === null ? 'no verified trust registry' : `registry seq ${f.seq}, head ${f.head}`;
  if (!f.pinned && f.pin !== 'none')
    return `Trust freshness: not established (${at}): the pin could not be held against a verified trust snapshot.`;
  if (!f.pinned)
    return `Trust freshness: unpinned (${at}). An older copy of the registry verifies too, so a key rotated out later is not refused; pin with --trust-head <seq>:<head> (\`helm trust head\`).`;
  const by = f.source === 'data-dir' ? 'the data directory' : 'flag';
  if (f.pinned_head === null)
    return `Trust freshness: pinned by ${by} to at least seq ${f.min_seq} (${at}). A minimum seq refuses a stale copy of the registry, not a fork (any key once valid in it can extend an older copy by self-rotation); pin the head with --trust-head <seq>:<head> (\`helm trust head\`).`;
  const more =
    f.min_seq !== null && f.min_seq > f.pinned_head.seq ? `, reaching at least seq ${f.min_seq}` : '';
  return `Trust freshness: pinned by ${by} to continuing head ${f.pinned_head.head} at seq ${f.pinned_head.seq}${more} (${at}).`;
}

export function formatReport(report: VerifyReport): string {
  const lines = report.checks.map((c) => `  ${c.status.padEnd(12)} ${c.code.padEnd(20)} ${c.message}`);
  const verdict =
    report.status === 'PASS'
      ? 'PASS: every check passed.'
      : report.status === 'FAILED'
        ? 'FAILED: the evidence contradicts itself or was tampered with (see FAILED checks).'
        : report.format_unsupported
          ? 'UNVERIFIABLE: the pack format is not supported by this verifier.'
          : 'UNVERIFIABLE: no contradiction found, but trust material is missing (see UNVERIFIABLE checks).';
  const out = [`EvidencePack ${report.pack_digest}`, ...lines, verdict, freshnessLine(report.freshness)];
  if (report.format_unsupported) {
    const format = report.checks.find((c) => c.code === 'MANIFEST_FORMAT')?.message ?? 'unknown pack format';
    const line = `NOT VERIFIED: ${format}. Only the archive, the trust snapshot and the manifest signature were checked; nothing in this pack is verified.`;
    out.splice(1, 0, line);
    out.push(line);
  }
  return out.join('\n');
}
