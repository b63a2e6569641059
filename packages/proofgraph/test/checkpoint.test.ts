import { CHECKPOINT_GENESIS_HASH, LOG_GENESIS_PREV_HASH } from '@helm/contracts';
import { canonicalBytes, digest } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import {
  CHECKPOINT_SIGNER_ROLE,
  InMemoryLeafHashStore,
  logLeafData,
  logLeafHash,
  MerkleLog,
  merkleLeafHash,
  signCheckpoint,
  verifyCheckpoint,
  verifyCheckpointExtension,
  verifyInclusion,
} from '../src/index.ts';
import { d, decodeBody, keysOf, resign, signerA, signerB } from './helpers.ts';

const keys = keysOf(signerA);
const entry = (n: number, tier: 'LOW' | 'MEDIUM' | 'HIGH' = 'LOW') => ({
  entry_hash: d(`e${n}`),
  lamport: n,
  risk_tier: tier,
});

function logWith(n: number, tierOf: (i: number) => 'LOW' | 'MEDIUM' | 'HIGH' = () => 'LOW') {
  const log = new MerkleLog({ logId: 'chain-1' });
  for (let i = 1; i <= n; i++) log.append(entry(i, tierOf(i)));
  return log;
}

describe('log leaves', () => {
  it('leaf data is the JCS of helm.log_leaf.v1 and the leaf hash is RFC 9162', () => {
    const e = { ...entry(3, 'MEDIUM'), prev_hash: d('e2') };
    expect(new TextDecoder().decode(logLeafData(e))).toBe(
      `{"entry_hash":"${e.entry_hash}","lamport":3,"prev_hash":"${e.prev_hash}","risk_tier":"MEDIUM","type":"helm.log_leaf.v1"}`,
    );
    expect(logLeafHash(e)).toStrictEqual(merkleLeafHash(logLeafData(e)));
  });

  it('the log chains leaves by prev_hash from the genesis value', () => {
    const log = logWith(3);
    expect(log.lastEntryHash).toBe(d('e3'));
    expect(log.store.leafHash(0)).toStrictEqual(
      logLeafHash({ ...entry(1), prev_hash: LOG_GENESIS_PREV_HASH }),
    );
    expect(log.store.leafHash(2)).toStrictEqual(logLeafHash({ ...entry(3), prev_hash: d('e2') }));
  });
});

describe('MerkleLog + checkpoints', () => {
  it('signs chained checkpoints with lamport ranges and anchoring flags', () => {
    const log = logWith(3);
    const c1 = log.checkpoint(signerA, 100);
    expect(c1.body).toMatchObject({
      type: 'helm.checkpoint.v1',
      log_id: 'chain-1',
      tree_size: 3,
      lamport_from: 1,
      lamport_to: 3,
      prev_checkpoint_hash: CHECKPOINT_GENESIS_HASH,
      prev_tree_size: 0,
      anchor_required: false,
      keyid: signerA.keyId,
      issued_at_ms: 100,
    });
    expect(c1.hash).toBe(digest(canonicalBytes(c1.envelope)));
    log.append(entry(4, 'HIGH'));
    log.append(entry(5));
    const c2 = log.checkpoint(signerA, 200);
    expect(c2.body).toMatchObject({
      tree_size: 5,
      lamport_from: 4,
      lamport_to: 5,
      prev_checkpoint_hash: c1.hash,
      prev_tree_size: 3,
      anchor_required: true,
    });
    log.append(entry(6));
    expect(log.checkpoint(signerA, 300).body.anchor_required).toBe(false);
    expect(log.lastCheckpoint?.body.tree_size).toBe(6);
    expect(() => log.checkpoint(signerA, 400)).toThrow(
      expect.objectContaining({ code: 'CHECKPOINT_INPUT_INVALID' }),
    );
    expect(() => log.append({ entry_hash: 'x', lamport: 1, risk_tier: 'LOW' })).toThrow();
  });

  it('verifies a checkpoint and that a later one extends it (consistency proof)', () => {
    const log = logWith(5);
    const c1 = log.checkpoint(signerA, 1);
    for (let i = 6; i <= 13; i++) log.append(entry(i));
    const c2 = log.checkpoint(signerA, 2);
    const v1 = verifyCheckpoint(c1.envelope, keys);
    const v2 = verifyCheckpoint(c2.envelope, keys);
    expect(v1).toMatchObject({ ok: true, checkpoint: { hash: c1.hash } });
    if (!v1.ok || !v2.ok) throw new Error('unreachable');
    const proof = log.consistencyProof(5, 13);
    expect(verifyCheckpointExtension(v1.checkpoint, v2.checkpoint, proof, { direct: true })).toStrictEqual({
      ok: true,
    });
    expect(verifyCheckpointExtension(v1.checkpoint, v1.checkpoint, [])).toStrictEqual({ ok: true });
    // Tampered proof element, wrong proof, shrinking, unrelated predecessor, another log.
    const bad = [...proof];
    bad[0] = d('tampered');
    expect(verifyCheckpointExtension(v1.checkpoint, v2.checkpoint, bad)).toMatchObject({
      ok: false,
      code: 'CONSISTENCY_INVALID',
    });
    expect(verifyCheckpointExtension(v1.checkpoint, v2.checkpoint, ['nope'])).toMatchObject({
      ok: false,
      code: 'CONSISTENCY_INVALID',
    });
    expect(verifyCheckpointExtension(v2.checkpoint, v1.checkpoint, proof)).toMatchObject({
      ok: false,
      code: 'SIZE_REGRESSION',
    });
    const other = logWith(13);
    const o = other.checkpoint(signerA, 3);
    expect(verifyCheckpointExtension(v1.checkpoint, o, proof, { direct: true })).toMatchObject({
      ok: false,
      code: 'NOT_SUCCESSOR',
    });
    // A forked log (different leaves) cannot prove consistency with c1.
    const fork = new MerkleLog({ logId: 'chain-1' });
    for (let i = 1; i <= 13; i++) fork.append(entry(i === 2 ? 99 : i));
    const f = fork.checkpoint(signerA, 4);
    expect(verifyCheckpointExtension(v1.checkpoint, f, fork.consistencyProof(5, 13))).toMatchObject({
      ok: false,
      code: 'CONSISTENCY_INVALID',
    });
    const otherLog = new MerkleLog({ logId: 'chain-2' });
    otherLog.append(entry(1));
    expect(verifyCheckpointExtension(v1.checkpoint, otherLog.checkpoint(signerA, 1), [])).toMatchObject({
      ok: false,
      code: 'LOG_MISMATCH',
    });
  });

  it('inclusion proofs from the log verify against the checkpoint root', () => {
    const log = logWith(21);
    const cp = log.checkpoint(signerA, 1);
    const root = Buffer.from(cp.body.root_hash.slice(7), 'hex');
    for (const i of [0, 7, 20]) {
      const proof = log.inclusionProof(i).map((h) => new Uint8Array(Buffer.from(h.slice(7), 'hex')));
      const prev = i === 0 ? LOG_GENESIS_PREV_HASH : d(`e${i}`);
      expect(verifyInclusion(i, 21, logLeafHash({ ...entry(i + 1), prev_hash: prev }), proof, root).ok).toBe(
        true,
      );
    }
  });

  it('rejects tampered, re-signed, malformed and unknown-key checkpoints', () => {
    const cp = logWith(2).checkpoint(signerA, 1);
    const body = decodeBody(cp.envelope);
    expect(
      verifyCheckpoint({ ...cp.envelope, payload: resign({ ...body, tree_size: 3 }).payload }, keys),
    ).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID' });
    expect(verifyCheckpoint(cp.envelope, keysOf(signerB))).toMatchObject({ ok: false, code: 'KEY_UNKNOWN' });
    expect(verifyCheckpoint(resign({ ...body, keyid: signerB.keyId }), keys)).toMatchObject({
      ok: false,
      code: 'KEYID_MISMATCH',
    });
    const roleSeen: string[] = [];
    verifyCheckpoint(cp.envelope, (k, role, lamport) => {
      roleSeen.push(`${role}@${lamport}`);
      return keys(k);
    });
    expect(roleSeen).toStrictEqual([`${CHECKPOINT_SIGNER_ROLE}@2`]);
    for (const patch of [
      { tree_size: 0 },
      { root_hash: 'x' },
      { lamport_from: 3, lamport_to: 2 },
      { prev_checkpoint_hash: 'x' },
      { prev_tree_size: 2 },
      { prev_tree_size: 1 },
      { prev_checkpoint_hash: d('p') },
      { anchor_required: 'no' },
      { keyid: 'k' },
      { issued_at_ms: 1.5 },
      { log_id: 'bad id' },
      { extra: 1 },
    ]) {
      expect(verifyCheckpoint(resign({ ...body, ...patch }), keys)).toMatchObject({
        ok: false,
        code: 'MALFORMED',
      });
    }
    expect(verifyCheckpoint(null, keys)).toMatchObject({ ok: false, code: 'MALFORMED' });
  });

  it('signCheckpoint validates its input', () => {
    const base = {
      log_id: 'c',
      tree_size: 1,
      root: new Uint8Array(32),
      lamport_from: 1,
      lamport_to: 1,
      anchor_required: false,
      issued_at_ms: 0,
    };
    expect(() => signCheckpoint({ ...base, root: new Uint8Array(3) }, signerA)).toThrow(
      expect.objectContaining({ code: 'CHECKPOINT_INPUT_INVALID' }),
    );
    expect(() => signCheckpoint({ ...base, tree_size: 0 }, signerA)).toThrow(
      expect.objectContaining({ code: 'CHECKPOINT_INPUT_INVALID' }),
    );
    const first = signCheckpoint(base, signerA);
    expect(() => signCheckpoint({ ...base, log_id: 'd', tree_size: 2, prev: first }, signerA)).toThrow(
      expect.objectContaining({ code: 'CHECKPOINT_INPUT_INVALID' }),
    );
  });

  it('resumes from a store holding exactly the last checkpoint, and refuses mismatches', () => {
    const log = logWith(4);
    const cp = log.checkpoint(signerA, 1);
    const resumed = new MerkleLog({
      logId: 'chain-1',
      store: log.store,
      lastCheckpoint: cp,
      lastEntryHash: d('e4'),
    });
    expect(resumed.root()).toStrictEqual(log.root());
    resumed.append(entry(5));
    expect(resumed.checkpoint(signerA, 2).body).toMatchObject({
      prev_checkpoint_hash: cp.hash,
      lamport_from: 5,
      lamport_to: 5,
    });
    expect(() => new MerkleLog({ logId: 'chain-1', store: log.store, lastEntryHash: d('e4') })).toThrow(
      expect.objectContaining({ code: 'CHECKPOINT_INPUT_INVALID' }),
    );
    expect(() => new MerkleLog({ logId: 'chain-1', store: log.store, lastCheckpoint: cp })).toThrow(
      expect.objectContaining({ code: 'CHECKPOINT_INPUT_INVALID' }),
    );
    expect(() => new MerkleLog({ logId: 'chain-1', lastEntryHash: d('x') })).toThrow();
    expect(
      () => new MerkleLog({ logId: 'other', store: log.store, lastCheckpoint: cp, lastEntryHash: d('e4') }),
    ).toThrow();
    const wrongLeaves = new InMemoryLeafHashStore();
    for (let i = 0; i < 4; i++) wrongLeaves.append(logLeafHash({ ...entry(i + 10), prev_hash: d('p') }));
    expect(
      () =>
        new MerkleLog({ logId: 'chain-1', store: wrongLeaves, lastCheckpoint: cp, lastEntryHash: d('e4') }),
    ).toThrow(expect.objectContaining({ code: 'CHECKPOINT_INPUT_INVALID' }));
  });
});
