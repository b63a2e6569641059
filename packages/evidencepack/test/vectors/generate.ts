// Machine-readable EvidencePack test vectors (docs/spec/evidencepack.md §7): honest and tampered
// packs, each a `.tar` file, listed in `index.json` with the trust anchor to pin, an optional
// expected head, and the verdict (overall status and every check's status) a conforming verifier
// gives. Deterministic: fixed keys (the fixtures' seeds), a fixed clock (T0) and no randomness, so
// the same code always writes the same bytes.
//
//   Regenerate (after `pnpm build`; imports resolve to the packages' dist):
//     node packages/evidencepack/test/vectors/generate.ts --write
//   Check without writing:
//     node packages/evidencepack/test/vectors/generate.ts
//
// `test/spec-vectors.test.ts` regenerates in memory (against the sources) and requires the committed
// files to be byte-identical, then runs the verifier on every vector.
//
// Each vector names the check(s) it targets (`targets`); generation fails unless the verifier's
// report has those statuses. The full check map in the index is the verifier's report.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SignedEnvelope } from '@helm/contracts';
import { canonicalBytes, digest, fromBase64Url, type Signer, signEnvelope, toBase64Url } from '@helm/crypto';
import * as evidencepack from '@helm/evidencepack';
import {
  buildEvidencePack,
  envelopeBody,
  manifestEntries,
  type PackInput,
  readTar,
  receiptHashOf,
  type TarEntry,
  verifyEvidencePackSync,
  writeTar,
} from '@helm/evidencepack';
import { mintReceipt, type ReceiptInput } from '@helm/receipts';
import { commitTrustEvent, exportTrustSnapshot, TrustRegistry } from '@helm/trust';
import { buildWorld, executor, root, stranger } from '../fixtures/world.ts';

export const VECTOR_DIR = fileURLToPath(
  new URL('../../../../docs/spec/vectors/evidencepack/', import.meta.url),
);
export const REGENERATE = 'pnpm build && node packages/evidencepack/test/vectors/generate.ts --write';

type Status = 'PASS' | 'FAILED' | 'UNVERIFIABLE' | 'SKIPPED';

export interface VectorItem {
  /** The archive, relative to the index (several vectors may share one). */
  readonly file: string;
  readonly description: string;
  /** The genesis digest to pin (`verifyEvidencePack(…, {trustAnchor})`); null: pin none. */
  readonly trust_anchor: string | null;
  /** The head hash the verifier holds (`expectHead`), when any. */
  readonly expect_head?: string;
  /** Freshness pin (§5.3): the registry head `{seq, head}` the verifier holds (`trustHead`), when any. */
  readonly trust_head?: { readonly seq: number; readonly head: string };
  /** Freshness pin (§5.3): the minimum registry seq (`minTrustSeq`), when any. */
  readonly min_trust_seq?: number;
  readonly expected: {
    readonly status: 'PASS' | 'FAILED' | 'UNVERIFIABLE';
    readonly checks: Readonly<Record<string, Status>>;
    /** The report's `freshness` (§5.3). */
    readonly freshness: evidencepack.TrustFreshness;
  };
}

interface Spec {
  readonly name: string;
  readonly description: string;
  readonly bytes: Uint8Array;
  readonly anchor: string | null;
  readonly expectHead?: string;
  readonly trustHead?: { readonly seq: number; readonly head: string };
  readonly minTrustSeq?: number;
  readonly targets: Readonly<Record<string, Status>>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const BLOCK = 512;

const parse = (data: Uint8Array): unknown => JSON.parse(dec.decode(data));

function put(entries: readonly TarEntry[], path: string, data: Uint8Array): TarEntry[] {
  return [...entries.filter((e) => e.path !== path), { path, data }];
}

function drop(entries: readonly TarEntry[], path: string): TarEntry[] {
  if (!entries.some((e) => e.path === path)) throw new Error(`no entry ${path}`);
  return entries.filter((e) => e.path !== path);
}

function edit(
  entries: readonly TarEntry[],
  path: string,
  f: (v: Record<string, unknown>) => unknown,
): TarEntry[] {
  const e = entries.find((x) => x.path === path);
  if (!e) throw new Error(`no entry ${path}`);
  return put(entries, path, canonicalBytes(f(parse(e.data) as Record<string, unknown>)));
}

function manifestBody(entries: readonly TarEntry[]): Record<string, unknown> {
  const m = entries.find((e) => e.path === 'manifest.json') as TarEntry;
  return envelopeBody<Record<string, unknown>>(parse(m.data) as SignedEnvelope);
}

type Seal = (
  files: ReadonlyMap<string, Uint8Array>,
  body: Record<string, unknown>,
  signers: readonly Signer[],
) => Uint8Array;

/**
 * Re-seal an edited archive: list its entries again and sign the (patched) manifest — what a holder
 * of a key with `executor` can do. Uses the package's own `sealArchive` when it has one (so the
 * vectors follow the manifest format), else lists the entries in the manifest body (format of
 * the entry list inlined in `entries`).
 */
function reseal(
  entries: readonly TarEntry[],
  patch: (m: Record<string, unknown>) => Record<string, unknown> = (m) => m,
  signer: Signer = executor,
): Uint8Array {
  const files = new Map(entries.filter((e) => e.path !== 'manifest.json').map((e) => [e.path, e.data]));
  const seal = (evidencepack as Record<string, unknown>).sealArchive as Seal | undefined;
  if (seal) return seal(files, patch(manifestBody(entries)), [signer]);
  const body = patch({ ...manifestBody(entries), entries: manifestEntries(files) });
  const env = signEnvelope(body as { type: string }, [signer]);
  return writeTar([
    ...[...files].map(([path, data]) => ({ path, data })),
    { path: 'manifest.json', data: canonicalBytes(env) },
  ]);
}

/** Re-encode the manifest body with an edit and keep the old signature (no key). */
function editManifestUnsigned(
  entries: readonly TarEntry[],
  f: (m: Record<string, unknown>) => unknown,
): Uint8Array {
  const m = entries.find((e) => e.path === 'manifest.json') as TarEntry;
  const env = parse(m.data) as SignedEnvelope;
  const body = parse(fromBase64Url(env.payload) as Uint8Array) as Record<string, unknown>;
  const edited = { ...env, payload: toBase64Url(canonicalBytes(f(body))) };
  return writeTar(put(entries, 'manifest.json', canonicalBytes(edited)));
}

const first = (entries: readonly TarEntry[], prefix: string): string => {
  const e = entries.find((x) => x.path.startsWith(prefix));
  if (!e) throw new Error(`no entry under ${prefix}`);
  return e.path;
};

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

function specs(): Spec[] {
  const plainWorld = buildWorld(4, 'vec-plain');
  const condensedWorld = buildWorld(6, 'vec-condensed', true);
  const rangeWorld = buildWorld(5, 'vec-range');
  const A = plainWorld.anchor;
  const plainInput = plainWorld.input;
  const plain = buildEvidencePack(plainInput, executor).bytes;
  const plainEntries = readTar(plain);
  const condensed = buildEvidencePack(condensedWorld.input, executor).bytes;
  const condensedEntries = readTar(condensed);
  const r = rangeWorld.input;
  const rangeInput: PackInput = {
    ...r,
    receipts: r.receipts.slice(2),
    decisions: r.decisions.slice(2),
    nodes: r.nodes.slice(2),
    requests: (r.requests ?? []).slice(2),
  };
  const range = buildEvidencePack(rangeInput, executor).bytes;
  const sliceInput = (n: number): PackInput => ({
    ...plainInput,
    receipts: plainInput.receipts.slice(0, n),
    decisions: plainInput.decisions.slice(0, n),
    nodes: plainInput.nodes.slice(0, n),
    requests: (plainInput.requests ?? []).slice(0, n),
  });
  const fullHead = receiptHashOf(plainInput.receipts[3] as SignedEnvelope);
  const pass = { PACK_FORMAT: 'PASS', MANIFEST_FORMAT: 'PASS' } as const;
  const receipt2 = 'receipts/000000000002.json';
  const request2 = 'requests/000000000002.json';
  const v2 = (m: Record<string, unknown>) => ({ ...m, type: 'helm.evidencepack.manifest.v2' });
  // Freshness (§5.3): the plain world's registry (seq 4) moves on — the executor key is rotated out
  // at seq 5 — so the honest plain pack, sealed by that key against seq 4, is a stale snapshot to a
  // verifier holding seq 5. A fork: another seq 5 (root-signed) under the same genesis.
  const snapshot = plainInput.trustSnapshot as unknown as {
    events: SignedEnvelope[];
    seq: number;
    head: string;
  };
  const plainHead = { seq: snapshot.seq, head: snapshot.head };
  const later = TrustRegistry.load(snapshot.events, { genesis: A });
  commitTrustEvent(later, { kind: 'key_rotate', keyid: executor.keyId, newPublicKey: stranger.publicKey }, [
    root,
    stranger,
  ]);
  const laterHead = { seq: later.seq, head: later.head };
  const fork = TrustRegistry.load(snapshot.events, { genesis: A });
  commitTrustEvent(fork, { kind: 'key_publish', publicKey: stranger.publicKey, roles: ['guardian'] }, [root]);
  // DECISIONS (§5 step 11): a fifth receipt, minted by the executor key after receipt 4, naming
  // call `k`'s decision with call k's own fields and `edit` applied; call k's request recorded again.
  const withFifth = (k: number, edit: Partial<ReceiptInput>): Uint8Array => {
    const last = plainInput.receipts[3] as SignedEnvelope;
    const body = envelopeBody<Record<string, unknown>>(plainInput.receipts[k] as SignedEnvelope);
    const input = {
      ...(Object.fromEntries(
        Object.entries(body).filter(
          ([key]) => !['type', 'chain_id', 'lamport', 'prev_hash', 'keyid', 'receipt_id'].includes(key),
        ),
      ) as unknown as ReceiptInput),
      issued_at_ms: Number(body.issued_at_ms) + 100,
      ...edit,
    };
    const head = { chain_id: plainInput.chainId, lamport: 4, hash: receiptHashOf(last) };
    const fifth = mintReceipt(input, head, executor).envelope;
    const request = (plainInput.requests ?? [])[k] as { lamport: number; body: unknown };
    return buildEvidencePack(
      {
        ...plainInput,
        receipts: [...plainInput.receipts, fifth],
        requests: [...(plainInput.requests ?? []), { lamport: 5, body: request.body }],
      },
      executor,
    ).bytes;
  };
  const forked = buildEvidencePack(
    { ...plainInput, trustSnapshot: exportTrustSnapshot(fork) as unknown as PackInput['trustSnapshot'] },
    executor,
  ).bytes;

  return [
    // Honest packs.
    {
      name: 'honest-plain',
      description:
        'Four receipts (ALLOW/DENY), their decisions, EFFECT nodes, requests, artifacts; no checkpoints.',
      bytes: plain,
      anchor: A,
      targets: { ...pass, RECEIPT_CHAIN: 'PASS', DECISIONS: 'PASS', CHECKPOINTS: 'SKIPPED' },
    },
    {
      name: 'honest-condensed',
      description:
        'Six receipts under two checkpoints (consistency proof); the LOW receipts are condensed to inclusion proofs.',
      bytes: condensed,
      anchor: condensedWorld.anchor,
      targets: { ...pass, RECEIPT_CHAIN: 'PASS', CHECKPOINTS: 'PASS' },
    },
    {
      name: 'honest-range',
      description: 'A Lamport-range export: receipts 3..5 of a five-receipt chain (from_lamport 3).',
      bytes: range,
      anchor: rangeWorld.anchor,
      targets: { ...pass, RECEIPT_CHAIN: 'PASS', PROOFGRAPH: 'PASS', RECEIPT_SCOPE: 'PASS' },
    },
    {
      name: 'honest-plain-no-anchor',
      description: 'The honest plain pack with no trust anchor pinned: UNVERIFIABLE, never PASS.',
      bytes: plain,
      anchor: null,
      targets: { TRUST_ANCHOR: 'UNVERIFIABLE' },
    },
    {
      name: 'honest-plain-expected-head',
      description: 'The honest plain pack against the head the verifier holds (its own head).',
      bytes: plain,
      anchor: A,
      expectHead: fullHead,
      targets: { RECEIPT_SCOPE: 'PASS' },
    },
    {
      name: 'honest-plain-trust-head',
      description: 'The honest plain pack with trust freshness pinned to its own registry head (seq 4).',
      bytes: plain,
      anchor: A,
      trustHead: plainHead,
      targets: { TRUST_SNAPSHOT: 'PASS' },
    },
    // TRUST_SNAPSHOT freshness (§5.3)
    {
      name: 'trust-snapshot-stale',
      description:
        'The honest plain pack (snapshot at seq 4, sealed by the executor key) against a verifier holding the registry head at seq 5, where that key was rotated out (TRUST_SNAPSHOT_STALE).',
      bytes: plain,
      anchor: A,
      trustHead: laterHead,
      targets: { TRUST_SNAPSHOT: 'FAILED', MANIFEST_SIGNATURE: 'PASS', RECEIPT_CHAIN: 'PASS' },
    },
    {
      name: 'trust-snapshot-stale-min-seq',
      description: 'The honest plain pack against a minimum trust seq of 5 (TRUST_SNAPSHOT_STALE).',
      bytes: plain,
      anchor: A,
      minTrustSeq: 5,
      targets: { TRUST_SNAPSHOT: 'FAILED' },
    },
    {
      name: 'trust-snapshot-forked',
      description:
        'The plain pack carrying a root-signed fork of the registry (another event at seq 5) against the pinned head at seq 5 (TRUST_SNAPSHOT_FORKED); a minimum seq alone would pass it.',
      bytes: forked,
      anchor: A,
      trustHead: laterHead,
      targets: { TRUST_SNAPSHOT: 'FAILED', MANIFEST_SIGNATURE: 'PASS' },
    },
    // PACK_FORMAT
    {
      name: 'pack-format-three-zero-blocks',
      description: 'The honest plain archive with a third zero block appended (PACK_NONCANONICAL).',
      bytes: concat(plain, new Uint8Array(BLOCK)),
      anchor: A,
      targets: { PACK_FORMAT: 'FAILED' },
    },
    {
      name: 'pack-format-bad-checksum',
      description:
        "One byte of the first header's mtime field changed, checksum not updated (PACK_TAR_MALFORMED).",
      bytes: (() => {
        const b = plain.slice();
        b[136] = 0x31;
        return b;
      })(),
      anchor: A,
      targets: { PACK_FORMAT: 'FAILED' },
    },
    // MANIFEST_FORMAT
    {
      name: 'manifest-format-unknown-field',
      description:
        'Re-sealed by the executor with a scope field the schema does not name (scope.trust_base).',
      bytes: reseal(plainEntries, (m) => ({ ...m, scope: { ...(m.scope as object), trust_base: 1 } })),
      anchor: A,
      targets: { MANIFEST_FORMAT: 'FAILED' },
    },
    {
      name: 'manifest-format-version-2-field',
      description:
        'Re-sealed with format_version 2 in a v1 manifest type: FAILED (format_version is const 1).',
      bytes: reseal(plainEntries, (m) => ({ ...m, format_version: 2 })),
      anchor: A,
      targets: { MANIFEST_FORMAT: 'FAILED' },
    },
    {
      name: 'manifest-format-newer-version',
      description:
        'Re-sealed as helm.evidencepack.manifest.v2 by the executor: UNVERIFIABLE FORMAT_UNSUPPORTED (§5.1).',
      bytes: reseal(plainEntries, v2),
      anchor: A,
      targets: { MANIFEST_FORMAT: 'UNVERIFIABLE', MANIFEST_SIGNATURE: 'PASS', RECEIPT_CHAIN: 'UNVERIFIABLE' },
    },
    // ENTRY_HASHES
    {
      name: 'entry-hashes-edited-readme',
      description: 'replay/readme.md edited after sealing (its listed size and SHA-256 no longer match).',
      bytes: writeTar(put(plainEntries, 'replay/readme.md', enc.encode('edited after sealing\n'))),
      anchor: A,
      targets: { ENTRY_HASHES: 'FAILED' },
    },
    // COMPLETENESS
    {
      name: 'completeness-missing-entry',
      description: 'A listed entry (replay/readme.md) removed from the archive, manifest untouched.',
      bytes: writeTar(drop(plainEntries, 'replay/readme.md')),
      anchor: A,
      targets: { COMPLETENESS: 'FAILED' },
    },
    {
      name: 'completeness-unlisted-entry',
      description: 'An entry the manifest does not list (notes/extra.json) added to the archive.',
      bytes: writeTar(put(plainEntries, 'notes/extra.json', enc.encode('{"extra":true}'))),
      anchor: A,
      targets: { COMPLETENESS: 'FAILED' },
    },
    // ENTRY_NAMES
    {
      name: 'entry-names-unpadded-lamport',
      description:
        'requests/000000000002.json renamed requests/2.json and re-sealed: names are 12-digit zero-padded.',
      bytes: (() => {
        const data = plainEntries.find((e) => e.path === request2)?.data as Uint8Array;
        return reseal(put(drop(plainEntries, request2), 'requests/2.json', data));
      })(),
      anchor: A,
      targets: { ENTRY_NAMES: 'FAILED' },
    },
    {
      name: 'entry-names-noncanonical-json',
      description: 'A recorded request rewritten with whitespace (not JCS) and re-sealed.',
      bytes: (() => {
        const data = plainEntries.find((e) => e.path === request2)?.data as Uint8Array;
        return reseal(put(plainEntries, request2, enc.encode(JSON.stringify(parse(data), null, 1))));
      })(),
      anchor: A,
      targets: { ENTRY_NAMES: 'FAILED' },
    },
    {
      name: 'entry-names-non-json-in-json-folder',
      description: 'tools/readme.txt (not JSON) added to a JSON-only folder and re-sealed.',
      bytes: reseal(put(plainEntries, 'tools/readme.txt', enc.encode('hello\n'))),
      anchor: A,
      targets: { ENTRY_NAMES: 'FAILED' },
    },
    // TRUST_SNAPSHOT
    {
      name: 'trust-snapshot-missing',
      description: 'trust/snapshot.json removed and re-sealed: nothing can be attributed to a key.',
      bytes: reseal(drop(plainEntries, 'trust/snapshot.json')),
      anchor: A,
      targets: { TRUST_SNAPSHOT: 'UNVERIFIABLE', MANIFEST_SIGNATURE: 'UNVERIFIABLE' },
    },
    {
      name: 'trust-snapshot-forged-event',
      description: "The last trust event's signature replaced by another event's, re-sealed.",
      bytes: reseal(
        edit(plainEntries, 'trust/snapshot.json', (s) => {
          const events = [...(s.events as SignedEnvelope[])];
          const last = events[events.length - 1] as SignedEnvelope;
          const other = events[events.length - 2] as SignedEnvelope;
          events[events.length - 1] = { ...last, signatures: other.signatures };
          return { ...s, events };
        }),
      ),
      anchor: A,
      targets: { TRUST_SNAPSHOT: 'FAILED' },
    },
    // TRUST_ANCHOR
    {
      name: 'trust-anchor-other-root',
      description: "The honest plain pack verified against another pinned genesis (the condensed world's).",
      bytes: plain,
      anchor: condensedWorld.anchor === A ? digest(enc.encode('other')) : condensedWorld.anchor,
      targets: { TRUST_ANCHOR: 'FAILED' },
    },
    // MANIFEST_SIGNATURE
    {
      name: 'manifest-signature-stranger',
      description: 'Re-sealed by a key that is not in the trust registry.',
      bytes: reseal(plainEntries, (m) => m, stranger),
      anchor: A,
      targets: { MANIFEST_SIGNATURE: 'FAILED' },
    },
    {
      name: 'manifest-signature-edited-body',
      description: 'The manifest producer edited without re-signing (the old signature stays).',
      bytes: editManifestUnsigned(plainEntries, (m) => ({ ...m, producer: 'helm-ts/forged' })),
      anchor: A,
      targets: { MANIFEST_SIGNATURE: 'FAILED' },
    },
    // RECEIPT_CHAIN
    {
      name: 'receipt-chain-edited-receipt',
      description:
        "Receipt 2's issued_at_ms changed (signature kept), re-sealed: its signature no longer verifies.",
      bytes: reseal(
        edit(plainEntries, receipt2, (env) => {
          const body = parse(fromBase64Url(env.payload as string) as Uint8Array) as Record<string, unknown>;
          return {
            ...env,
            payload: toBase64Url(canonicalBytes({ ...body, issued_at_ms: Number(body.issued_at_ms) + 1 })),
          };
        }),
      ),
      anchor: A,
      targets: { RECEIPT_CHAIN: 'FAILED' },
    },
    {
      name: 'receipt-chain-gap',
      description: 'Receipt 2 (with its decision, node and request) left out by the exporter: a Lamport gap.',
      bytes: buildEvidencePack(
        {
          ...plainInput,
          receipts: plainInput.receipts.filter((_r, i) => i !== 1),
          decisions: plainInput.decisions.filter((_r, i) => i !== 1),
          requests: (plainInput.requests ?? []).filter((_r, i) => i !== 1),
        },
        executor,
      ).bytes,
      anchor: A,
      targets: { RECEIPT_CHAIN: 'FAILED' },
    },
    // RECEIPT_SCOPE
    {
      name: 'receipt-scope-count',
      description: 'Re-sealed with counts.receipts one too high.',
      bytes: reseal(plainEntries, (m) => ({
        ...m,
        counts: {
          ...(m.counts as Record<string, number>),
          receipts: (m.counts as { receipts: number }).receipts + 1,
        },
      })),
      anchor: A,
      targets: { RECEIPT_SCOPE: 'FAILED' },
    },
    {
      name: 'receipt-scope-session',
      description: 'scope.session_id names a session the receipts were not signed under (SESSION_MISMATCH).',
      bytes: buildEvidencePack({ ...plainInput, sessionId: 'another-session' }, executor).bytes,
      anchor: A,
      targets: { RECEIPT_SCOPE: 'FAILED' },
    },
    {
      name: 'receipt-scope-truncated-tail',
      description:
        'An honest-looking pack of receipts 1..3 sealed by the executor, verified against the head of receipt 4 (EXPECTED_HEAD_MISMATCH).',
      bytes: buildEvidencePack(sliceInput(3), executor).bytes,
      anchor: A,
      expectHead: fullHead,
      targets: { RECEIPT_CHAIN: 'PASS', RECEIPT_SCOPE: 'FAILED' },
    },
    // DECISIONS
    {
      name: 'decisions-missing',
      description: 'The decision of receipt 1 left out by the exporter (DECISION_MISSING).',
      bytes: buildEvidencePack({ ...plainInput, decisions: plainInput.decisions.slice(1) }, executor).bytes,
      anchor: A,
      targets: { DECISIONS: 'FAILED' },
    },
    {
      name: 'decisions-reused-allow',
      description:
        "A fifth receipt, minted by the executor key, names receipt 1's ALLOW decision with receipt 1's own tool, principal and arguments: an ALLOW authorizes one execution (DECISION_REUSED).",
      bytes: withFifth(0, {}),
      anchor: A,
      targets: { DECISIONS: 'FAILED', RECEIPT_CHAIN: 'PASS', REQUESTS: 'PASS' },
    },
    {
      name: 'decisions-later-receipt-mismatch',
      description:
        "A fifth receipt names receipt 2's DENY decision (which identical calls may share) with other arguments: every receipt naming a decision is bound to it, not only the first.",
      bytes: withFifth(1, {
        args_hash: digest(canonicalBytes({ path: '/etc/shadow' })),
        request_digest: null,
      }),
      anchor: A,
      targets: { DECISIONS: 'FAILED', RECEIPT_CHAIN: 'PASS' },
    },
    // REQUESTS
    {
      name: 'requests-edited-args',
      description:
        "Recorded request 2's arguments changed and re-sealed: it no longer hashes to the receipt's request_digest.",
      bytes: reseal(
        edit(plainEntries, request2, (v) => ({
          ...v,
          request: { ...(v.request as object), args: { path: '/etc/passwd' } },
        })),
      ),
      anchor: A,
      targets: { REQUESTS: 'FAILED' },
    },
    {
      name: 'requests-missing',
      description: 'Recorded request 2 left out although its receipt signed a request digest.',
      bytes: buildEvidencePack(
        { ...plainInput, requests: (plainInput.requests ?? []).filter((_r, i) => i !== 1) },
        executor,
      ).bytes,
      anchor: A,
      targets: { REQUESTS: 'FAILED' },
    },
    // ARTIFACTS
    {
      name: 'artifacts-undescribed-tool',
      description: 'Exported without the tool descriptor the receipts name.',
      bytes: buildEvidencePack({ ...plainInput, tools: [] }, executor).bytes,
      anchor: A,
      targets: { ARTIFACTS: 'FAILED' },
    },
    // CHECKPOINTS
    {
      name: 'checkpoints-bad-consistency',
      description: 'The condensed pack with its consistency proof replaced by a wrong digest, re-sealed.',
      bytes: reseal(
        edit(condensedEntries, first(condensedEntries, 'checkpoints/consistency.json'), () => [
          [digest(enc.encode('not a proof'))],
        ]),
      ),
      anchor: condensedWorld.anchor,
      targets: { CHECKPOINTS: 'FAILED' },
    },
    {
      name: 'checkpoints-missing',
      description: 'The condensed pack with its last checkpoint removed, re-sealed with counts patched.',
      bytes: (() => {
        const cps = condensedEntries.filter(
          (e) => e.path.startsWith('checkpoints/') && e.path !== 'checkpoints/consistency.json',
        );
        const last = cps[cps.length - 1] as TarEntry;
        return reseal(drop(condensedEntries, last.path), (m) => ({
          ...m,
          counts: { ...(m.counts as Record<string, number>), checkpoints: cps.length - 1 },
        }));
      })(),
      anchor: condensedWorld.anchor,
      targets: { CHECKPOINTS: 'FAILED' },
    },
  ];
}

export interface GeneratedVectors {
  /** File name → bytes (every `.tar` and `index.json`). */
  readonly files: Map<string, Uint8Array>;
  readonly items: readonly VectorItem[];
}

/** Build every vector and its index in memory; throws when a vector misses its target. */
export function generateVectors(): GeneratedVectors {
  const files = new Map<string, Uint8Array>();
  const items: VectorItem[] = [];
  const byDigest = new Map<string, string>();
  for (const s of specs()) {
    const report = verifyEvidencePackSync(s.bytes, {
      ...(s.anchor === null ? {} : { trustAnchor: s.anchor }),
      ...(s.expectHead === undefined ? {} : { expectHead: s.expectHead }),
      ...(s.trustHead === undefined ? {} : { trustHead: s.trustHead }),
      ...(s.minTrustSeq === undefined ? {} : { minTrustSeq: s.minTrustSeq }),
    });
    const checks: Record<string, Status> = {};
    for (const c of report.checks) checks[c.code] = c.status;
    for (const [code, status] of Object.entries(s.targets))
      if (checks[code] !== status)
        throw new Error(`vector ${s.name}: ${code} is ${String(checks[code])}, the vector targets ${status}`);
    const honest = s.name.startsWith('honest-') && s.anchor !== null;
    if (honest !== (report.status === 'PASS')) throw new Error(`vector ${s.name}: status ${report.status}`);
    // Identical archives (the same pack under other options) share one file.
    const file = byDigest.get(digest(s.bytes)) ?? `${s.name}.tar`;
    byDigest.set(digest(s.bytes), file);
    files.set(file, s.bytes);
    items.push({
      file,
      description: s.description,
      trust_anchor: s.anchor,
      ...(s.expectHead === undefined ? {} : { expect_head: s.expectHead }),
      ...(s.trustHead === undefined ? {} : { trust_head: s.trustHead }),
      ...(s.minTrustSeq === undefined ? {} : { min_trust_seq: s.minTrustSeq }),
      expected: { status: report.status, checks, freshness: report.freshness },
    });
  }
  const index = {
    type: 'helm.evidencepack.vectors.v1',
    spec: 'docs/spec/evidencepack.md §7',
    regenerate: REGENERATE,
    keys: 'Ed25519 seeds: root 32×0x01, executor 32×0x02, guardian 32×0x03, checkpoint 32×0x04, stranger 32×0x09 (test keys, published: never use them)',
    vectors: items,
  };
  files.set('index.json', enc.encode(`${JSON.stringify(index, null, 2)}\n`));
  return { files, items };
}

function main(): void {
  const { files } = generateVectors();
  const write = process.argv.includes('--write');
  if (write) {
    mkdirSync(VECTOR_DIR, { recursive: true });
    for (const old of readdirSync(VECTOR_DIR)) if (!files.has(old)) rmSync(`${VECTOR_DIR}${old}`);
    for (const [name, bytes] of files) writeFileSync(`${VECTOR_DIR}${name}`, bytes);
    console.log(`wrote ${files.size} files to ${VECTOR_DIR}`);
    return;
  }
  let stale = 0;
  for (const [name, bytes] of files) {
    let on: Uint8Array | undefined;
    try {
      on = readFileSync(`${VECTOR_DIR}${name}`);
    } catch {
      on = undefined;
    }
    if (!on || digest(on) !== digest(bytes)) {
      stale++;
      console.log(`stale: ${name}`);
    }
  }
  console.log(stale ? `${stale} stale files; run: ${REGENERATE}` : `${files.size} files up to date`);
  process.exitCode = stale ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
