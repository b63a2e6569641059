// I-EVIDENCE-5 — every receipt is checked against the trust registry state it committed to under
// its own signature (`trust_seq`, `trust_head`), never against a height the manifest signer maps
// from its Lamport clock. So an executor-key insider cannot make a receipt signed by a key rotated
// out at seq N verify, in a pack sealed with the current key, by claiming seq N or later (the key is
// invalid there), by claiming an earlier seq after receipts of seq ≥ N (trust_seq never decreases),
// by naming a trust head that is not the registry's at that seq, by claiming a seq beyond the
// snapshot, by a trust base or stride in the manifest, or by hiding the later state behind a
// snapshot truncated before the rotation while later receipts remain. Decisions and signed nodes
// are checked at the trust state of the receipts they belong to.
//
// Residual (docs/threat-model.md, report): whoever holds the rotated-out key can still sign a
// WHOLE chain that claims only pre-rotation states; it verifies when sealed by a key valid at the
// snapshot head (the current key), or with a snapshot truncated before the rotation (a valid older
// snapshot) when the verifier does not pin freshness; a pinned minimum trust seq or head refuses
// it (I-FRESH-1, test/adversarial/I-FRESH-1.test.ts).
//
// Written from the attacker's side with the real packages: real keys, a real registry (the key
// rotation is a real registry event), a real ReceiptRecorder with its trust port, and the insider's
// real capabilities (mintReceipt with the keys it holds, buildEvidencePack to seal).
import { canonicalBytes, createSigner, type Signer, signEnvelope } from '@helm/crypto';
import { signNode } from '@helm/proofgraph';
import { receiptHash } from '@helm/receipts';
import { commitTrustEvent, exportTrustSnapshot, TrustRegistry } from '@helm/trust';
import { beforeAll, describe, expect, it } from 'vitest';
import { envelopeBody, type PackInput, readTar, writeTar } from '../../src/index.ts';
import {
  append,
  bodyOf,
  checkOf,
  decisionFor,
  E1,
  E2,
  failedCodes,
  guardian,
  type History,
  hashOf,
  history,
  inputOf,
  ROTATED_AT,
  requestOf,
  resign,
  root,
  seal,
  T0,
  verify,
} from '../fixtures/insider.ts';

let h: History;
beforeAll(async () => {
  h = await history();
});

/** A 7th call the insider adds after the rotation, signed by the rotated-out key E1. */
function seventh(trust: { trust_seq: number; trust_head: string }) {
  const request = requestOf(7);
  const decision = decisionFor(7, { args_hash: hashOf(request.args) });
  const input = inputOf(h.receipts[5] as never, {
    decision_id: bodyOf(decision).decision_id,
    args_hash: hashOf(request.args),
    request_digest: hashOf(request),
    output_hash: hashOf({ text: 'forged' }),
    issued_at_ms: T0 + 7,
    ...trust,
  });
  return { input, decision, request: { lamport: 7, body: { request, clock_ms: T0 + 7 } } };
}

function withSeventh(receipts: ReturnType<typeof append>, extra: ReturnType<typeof seventh>): PackInput {
  return h.input({
    receipts,
    decisions: [...h.decisions, extra.decision],
    requests: [...h.requests, extra.request],
  });
}

describe('I-EVIDENCE-5: a receipt is checked at the trust state it committed to', () => {
  it('the honest history verifies: receipts 1–3 by E1 at seq 3, 4–6 by E2 at seq 4', async () => {
    expect(h.receipts.map((r) => [bodyOf(r).keyid, bodyOf(r).trust_seq])).toEqual([
      [E1.keyId, 3],
      [E1.keyId, 3],
      [E1.keyId, 3],
      [E2.keyId, ROTATED_AT],
      [E2.keyId, ROTATED_AT],
      [E2.keyId, ROTATED_AT],
    ]);
    for (const r of h.receipts) expect(bodyOf(r).trust_head).toBe(h.registry.headAt(bodyOf(r).trust_seq));
    const report = await verify(seal(h.input()), h.anchor);
    expect(failedCodes(report)).toEqual([]);
    expect(report.status).toBe('PASS');
  });

  it('a receipt by the rotated-out key claiming the current trust state is FAILED (KEY_UNKNOWN), even sealed by the current key', async () => {
    const extra = seventh({ trust_seq: ROTATED_AT, trust_head: h.registry.headAt(ROTATED_AT) as string });
    const report = await verify(seal(withSeventh(append(h.receipts, extra.input, E1), extra)), h.anchor);
    expect(checkOf(report, 'MANIFEST_SIGNATURE')?.status).toBe('PASS');
    expect(checkOf(report, 'RECEIPT_CHAIN')).toMatchObject({ status: 'FAILED', detail: 'KEY_UNKNOWN' });
    expect(report.status).toBe('FAILED');
  });

  it('… claiming the last state its key was valid in, with that state’s true head, after receipts of a later state is FAILED (TRUST_SEQ_REGRESSION)', async () => {
    const extra = seventh({
      trust_seq: ROTATED_AT - 1,
      trust_head: h.registry.headAt(ROTATED_AT - 1) as string,
    });
    const forged = append(h.receipts, extra.input, E1);
    const report = await verify(seal(withSeventh(forged, extra)), h.anchor);
    expect(checkOf(report, 'RECEIPT_CHAIN')).toMatchObject({
      status: 'FAILED',
      detail: 'TRUST_SEQ_REGRESSION',
      path: 'receipts/000000000007.json',
    });
    // the signature and the key at the claimed state are fine: only the trust binding gives it away
    expect(checkOf(report, 'DECISIONS')?.status).toBe('PASS');
  });

  it('… replacing a post-rotation receipt (the chain re-signed from there) is FAILED the same way', async () => {
    // E1 signs a replacement for receipt 5 at seq 3; the insider re-signs receipt 6 with E2 to keep the links
    const back = { trust_seq: ROTATED_AT - 1, trust_head: h.registry.headAt(ROTATED_AT - 1) as string };
    const forged = resign(
      h.receipts,
      4,
      (i) => (i === 4 ? E1 : E2),
      (i) => (i === 4 ? { ...back, output_hash: hashOf({ text: 'rewritten' }) } : {}),
    );
    const report = await verify(seal(h.input({ receipts: forged })), h.anchor);
    expect(checkOf(report, 'RECEIPT_CHAIN')).toMatchObject({
      status: 'FAILED',
      detail: 'TRUST_SEQ_REGRESSION',
      path: 'receipts/000000000005.json',
    });
  });

  it('a trust head that is not the registry’s at the claimed seq is FAILED (TRUST_HEAD_MISMATCH)', async () => {
    // signed by the key in force at a seq it is valid at, but naming another registry state's head
    // (e.g. signed under a fork of the registry): the key check alone would pass
    const extra = seventh({ trust_seq: ROTATED_AT, trust_head: h.registry.headAt(ROTATED_AT - 1) as string });
    const report = await verify(seal(withSeventh(append(h.receipts, extra.input, E2), extra)), h.anchor);
    expect(checkOf(report, 'RECEIPT_CHAIN')).toMatchObject({
      status: 'FAILED',
      detail: 'TRUST_HEAD_MISMATCH',
      path: 'receipts/000000000007.json',
    });
  });

  it('a trust seq beyond the snapshot head is FAILED: no key is valid in a state the registry never reached', async () => {
    const extra = seventh({ trust_seq: ROTATED_AT + 1, trust_head: hashOf('a future registry head') });
    const report = await verify(seal(withSeventh(append(h.receipts, extra.input, E2), extra)), h.anchor);
    expect(checkOf(report, 'RECEIPT_CHAIN')).toMatchObject({ status: 'FAILED', detail: 'KEY_UNKNOWN' });
  });

  it('the manifest maps nothing: a scope with a trust base or stride is FAILED (MANIFEST_FORMAT)', async () => {
    // The old attack: a stride chosen so that E1's post-rotation receipts land where E1 was valid.
    const extra = seventh({ trust_seq: ROTATED_AT, trust_head: h.registry.headAt(ROTATED_AT) as string });
    const built = seal(withSeventh(append(h.receipts, extra.input, E1), extra));
    const entries = readTar(built.bytes);
    const manifest = entries.find((e) => e.path === 'manifest.json');
    const body = envelopeBody<Record<string, unknown>>(
      JSON.parse(new TextDecoder().decode(manifest?.data)) as never,
    );
    const remapped = signEnvelope(
      { ...body, scope: { ...(body.scope as object), trust_base: 0, trust_stride: 0 } } as { type: string },
      [E2],
    );
    const bytes = writeTar([
      ...entries.filter((e) => e.path !== 'manifest.json'),
      { path: 'manifest.json', data: canonicalBytes(remapped) },
    ]);
    const report = await verify({ ...built, bytes }, h.anchor);
    expect(checkOf(report, 'MANIFEST_FORMAT')?.status).toBe('FAILED');
    expect(report.status).toBe('FAILED');
  });

  it('the current key cannot re-sign history at the states before it existed (KEY_UNKNOWN)', async () => {
    // E2 re-signs receipt 2 (and the rest, to keep the links) at their original trust seqs
    const forged = resign(
      h.receipts,
      1,
      () => E2,
      (i) => (i === 1 ? { output_hash: null } : {}),
    );
    const report = await verify(seal(h.input({ receipts: forged })), h.anchor);
    expect(checkOf(report, 'RECEIPT_CHAIN')).toMatchObject({
      status: 'FAILED',
      detail: 'KEY_UNKNOWN',
      path: 'receipts/000000000002.json',
    });
  });

  it('a whole chain re-signed by the rotated-out key cannot be sealed by it against the full snapshot (MANIFEST_SIGNATURE)', async () => {
    const back = { trust_seq: ROTATED_AT - 1, trust_head: h.registry.headAt(ROTATED_AT - 1) as string };
    const forged = resign(
      h.receipts,
      0,
      () => E1,
      () => back,
    );
    const report = await verify(seal(h.input({ receipts: forged }), E1), h.anchor);
    expect(checkOf(report, 'MANIFEST_SIGNATURE')?.status).toBe('FAILED');
    expect(report.status).toBe('FAILED');
  });

  it('a snapshot truncated before the rotation cannot hide the later state the receipts name (TRUST_SEQ beyond the head)', async () => {
    // The E1 holder seals with E1 against the registry as it was before the rotation, keeping the
    // genuine receipts signed under seq 4.
    const before = TrustRegistry.load(h.registry.events().slice(0, ROTATED_AT - 1), {
      genesis: h.registry.genesis,
    });
    expect(before.seq).toBe(ROTATED_AT - 1);
    const stale = h.input({
      trustSnapshot: exportTrustSnapshot(before) as unknown as PackInput['trustSnapshot'],
    });
    const report = await verify(seal(stale, E1), h.anchor);
    expect(checkOf(report, 'TRUST_SNAPSHOT')?.status).toBe('PASS');
    expect(checkOf(report, 'MANIFEST_SIGNATURE')?.status).toBe('PASS');
    expect(checkOf(report, 'RECEIPT_CHAIN')).toMatchObject({
      status: 'FAILED',
      detail: 'KEY_UNKNOWN',
      path: 'receipts/000000000004.json',
    });
    expect(checkOf(report, 'RECEIPT_CHAIN')?.message).toMatch(/at trust seq 4/);
    expect(report.status).toBe('FAILED');
  });

  it('a decision is checked at the trust state of the receipt naming it: moving the receipt past a guardian rotation is FAILED (DECISIONS)', async () => {
    // The registry moves on: the guardian key is rotated (seq 5). The insider re-signs receipt 6
    // with E2 claiming the new state, naming its decision signed by the now rotated-out guardian key.
    const registry = TrustRegistry.load(h.registry.events(), { genesis: h.registry.genesis });
    const guardian2 = createSigner(new Uint8Array(32).fill(0x55));
    commitTrustEvent(
      registry,
      { kind: 'key_rotate', keyid: guardian.keyId, newPublicKey: guardian2.publicKey },
      [root, guardian2],
    );
    const snapshot = exportTrustSnapshot(registry) as unknown as PackInput['trustSnapshot'];
    const honest = await verify(seal(h.input({ trustSnapshot: snapshot })), h.anchor);
    expect(failedCodes(honest)).toEqual([]);
    const moved = resign(
      h.receipts,
      5,
      () => E2,
      () => ({
        trust_seq: registry.seq,
        trust_head: registry.head,
      }),
    );
    const report = await verify(seal(h.input({ receipts: moved, trustSnapshot: snapshot })), h.anchor);
    expect(checkOf(report, 'RECEIPT_CHAIN')?.status).toBe('PASS');
    expect(checkOf(report, 'DECISIONS')).toMatchObject({ status: 'FAILED' });
    expect(checkOf(report, 'DECISIONS')?.message).toMatch(new RegExp(`unknown key ${guardian.keyId}`));
  });

  it('a signed node is checked at the trust state of its receipt: a node by the rotated-out key after the rotation is FAILED (PROOFGRAPH)', async () => {
    // an EFFECT node whose parent is receipt 5 (Lamport 5, signed under seq 4): it sits at Lamport 6,
    // whose receipt names seq 4 too
    const parent = receiptHash(h.receipts[4] as never) as string;
    const nodeBy = (signer: Signer) => {
      const node = signNode(
        { kind: 'EFFECT', parents: [parent], principal: 'alice', payload: { note: 'x' }, issued_at_ms: T0 },
        (hash) => (hash === parent ? 5 : undefined),
        signer,
      );
      return { envelope: node.envelope, payload: node.payload };
    };
    const honest = await verify(seal(h.input({ nodes: [nodeBy(E2)] })), h.anchor);
    expect(checkOf(honest, 'PROOFGRAPH')?.status).toBe('PASS');
    const report = await verify(seal(h.input({ nodes: [nodeBy(E1)] })), h.anchor);
    expect(checkOf(report, 'PROOFGRAPH')).toMatchObject({ status: 'FAILED', detail: 'KEY_UNKNOWN' });
  });
});
