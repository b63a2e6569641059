// The C2SP formats of docs/spec/tlog.md: the published vectors (docs/spec/vectors/tlog.json) are
// recomputed here, a public key from outside (the Go checksum database's verifier key) parses with
// its key id, and malformed notes, checkpoints, keys and witness requests are refused (I-SERVE-4).
import { readFileSync } from 'node:fs';
import { MerkleLog } from '@helm/proofgraph';
import { describe, expect, it } from 'vitest';
import {
  addCheckpoint,
  checkConsistency,
  cosign,
  formatCheckpoint,
  noteSigner,
  parseCheckpoint,
  parseNote,
  parseVkey,
  SIG_COSIGNATURE_V1,
  SIG_ED25519,
  signNote,
  verifyNote,
  verifyWitnessedPack,
} from '../src/index.ts';

const ROOT = new URL('../../../docs/spec/', import.meta.url);
const V = JSON.parse(readFileSync(new URL('vectors/tlog.json', ROOT), 'utf8'));
const PAGE = readFileSync(new URL('tlog.md', ROOT), 'utf8');
const seed = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const log = noteSigner(V.keys.log.name, seed(V.keys.log.seed_hex), SIG_ED25519);
const witness = noteSigner(V.keys.witness.name, seed(V.keys.witness.seed_hex), SIG_COSIGNATURE_V1);

describe('I-SERVE-4 docs/spec/tlog.md vectors', () => {
  it('keys: vkeys and key ids; a foreign vkey (sum.golang.org) parses with its key id', () => {
    expect(log.vkey).toBe(V.keys.log.vkey);
    expect(witness.vkey).toBe(V.keys.witness.vkey);
    expect(parseVkey(V.keys.log.vkey).keyId.toString(16).padStart(8, '0')).toBe(V.keys.log.key_id_hex);
    expect(parseVkey('sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8').keyId).toBe(
      0x033de0ae,
    );
    expect(() => parseVkey('sum.golang.org+033de0af+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8')).toThrow(
      /key id/,
    );
    for (const bad of [
      'nope',
      'a+b+c',
      'n a+00000000+AQ==',
      `x+00000000+${Buffer.alloc(33, 9).toString('base64')}`,
    ])
      expect(() => parseVkey(bad)).toThrow();
    expect(PAGE).toContain(V.keys.log.vkey);
  });

  it('checkpoints over the log leaves, signed notes, consistency proof, cosignature', () => {
    const m = new MerkleLog({ logId: 'main' });
    for (const leaf of V.log_leaves.slice(0, 3)) m.append(leaf);
    const text3 = formatCheckpoint({ origin: log.name, size: 3, root: m.root(), extensions: [] });
    expect(text3).toBe(V.checkpoint_3.text);
    expect(signNote(text3, log)).toBe(V.checkpoint_3.note);
    for (const leaf of V.log_leaves.slice(3)) m.append(leaf);
    expect(
      signNote(formatCheckpoint({ origin: log.name, size: 5, root: m.root(), extensions: [] }), log),
    ).toBe(V.checkpoint_5.note);
    expect(m.consistencyProof(3, 5).map((d) => Buffer.from(d.slice(7), 'hex').toString('base64'))).toEqual(
      V.consistency_3_5,
    );
    expect(cosign(text3, witness, V.cosignature_3.timestamp)).toBe(V.cosignature_3.line);
    const cp3 = parseCheckpoint(text3);
    const empty = { ...cp3, size: 0, root: new Uint8Array(32) };
    expect(checkConsistency(empty, cp3, [])).toBe(true);
    expect(checkConsistency(empty, cp3, [new Uint8Array(32)])).toBe(false);
    expect(checkConsistency(cp3, empty, [])).toBe(false);
    expect(checkConsistency(cp3, { ...cp3, origin: 'other' }, [])).toBe(false);
    const cosigned = parseNote(`${V.checkpoint_3.note}${V.cosignature_3.line}`);
    const ok = verifyNote(cosigned, [parseVkey(log.vkey), parseVkey(witness.vkey)]);
    expect(ok.map((o) => o.verifier.name)).toEqual([log.name, witness.name]);
    expect(ok[1]?.timestamp).toBe(V.cosignature_3.timestamp);
    expect(PAGE).toContain(V.checkpoint_3.text.split('\n')[2]);
  });

  it('add-checkpoint: the three published exchanges', () => {
    const logs = new Map([[log.name, [parseVkey(log.vkey)]]]);
    for (const x of V.add_checkpoint) {
      const a = addCheckpoint(
        x.request,
        logs,
        () => x.state_before ?? undefined,
        witness,
        x.now_seconds ?? V.cosignature_3.timestamp,
      );
      expect(a.status).toBe(x.status);
      expect(a.body).toBe(x.response);
    }
  });
});

describe('I-SERVE-4 malformed input is refused', () => {
  const logs = new Map([[log.name, [parseVkey(log.vkey)]]]);
  const decide = (body: string, state?: { size: number; root: string }) =>
    addCheckpoint(body, logs, () => state, witness, 1);

  it('notes and checkpoints', () => {
    for (const bad of [
      'no blank line\n',
      'a\n\n— x AAAA\n',
      'a\n\nnot a signature\n',
      'a\u0001\n\n— x AAAAAAA=\n',
      'a\n\n— x A\n',
    ])
      expect(() => parseNote(bad), JSON.stringify(bad)).toThrow();
    for (const bad of [
      'o\n',
      'o\n01\nAAAA\n',
      'o\n1\nAAAA\n',
      `o\n1\n${Buffer.alloc(32).toString('base64')}\n\n`,
      'o\n1\nroot',
    ])
      expect(() => parseCheckpoint(bad), JSON.stringify(bad)).toThrow();
    // A known key whose signature fails rejects the whole note.
    const tampered = V.checkpoint_3.note.replace('\n3\n', '\n4\n');
    expect(() => verifyNote(parseNote(tampered), [parseVkey(log.vkey)])).toThrow(/does not verify/);
    expect(() => signNote('x\n', witness)).toThrow();
    expect(() => cosign('x\n', log, 1)).toThrow();
    expect(() => noteSigner('has space', new Uint8Array(32), SIG_ED25519)).toThrow();
  });

  it('add-checkpoint bodies', () => {
    const note = V.checkpoint_3.note;
    const root3 = V.checkpoint_3.text.split('\n')[2];
    expect(decide(`old x\n\n${note}`).status).toBe(400);
    expect(decide(`old 0\nnot-base64\n\n${note}`).status).toBe(400);
    expect(decide(`old 0\n${`${Buffer.alloc(32).toString('base64')}\n`.repeat(64)}\n${note}`).status).toBe(
      400,
    );
    expect(decide('old 0\n').status).toBe(400);
    expect(decide('old 0\n\ngarbage').status).toBe(400);
    expect(decide(`old 0\n${Buffer.alloc(32).toString('base64')}\n\n${note}`).status).toBe(422);
    expect(decide(`old 3\n\n${note}`, { size: 3, root: root3 }).status).toBe(200);
    expect(
      decide(`old 3\n${Buffer.alloc(32).toString('base64')}\n\n${note}`, { size: 3, root: root3 }).status,
    ).toBe(422);
  });

  it('verifyWitnessedPack answers a code for bad notes, bad cosignatures and unreadable packs', () => {
    const opts = { witnesses: [witness.vkey], quorum: 1 };
    expect(verifyWitnessedPack(new Uint8Array(0), 'nope', opts).code).toBe('CHECKPOINT_MALFORMED');
    const badCosig = `${V.checkpoint_3.note}${V.cosignature_3.line.replace(/[A-Za-z](==\n)$/, 'A$1')}`;
    const r = verifyWitnessedPack(new Uint8Array(0), badCosig, opts);
    expect(['COSIGNATURE_INVALID', 'CHECKPOINT_MALFORMED']).toContain(r.code);
    const cosigned = `${V.checkpoint_3.note}${V.cosignature_3.line}`;
    expect(verifyWitnessedPack(new Uint8Array(0), cosigned, { ...opts, quorum: 2 }).code).toBe(
      'QUORUM_NOT_MET',
    );
    expect(verifyWitnessedPack(new Uint8Array(700).fill(1), cosigned, opts).code).toBe('PACK_UNREADABLE');
  });
});

describe('I-SERVE-4 startWitness in process: state persisted before the answer, survives a restart', () => {
  it('cosigns, refuses a rollback after restart, answers 404/400 for other paths and bodies', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { startWitness } = await import('../src/index.ts');
    const dir = mkdtempSync(join(tmpdir(), 'helm-witness-'));
    const stateFile = join(dir, 'state.json');
    try {
      let w = await startWitness({
        signer: witness,
        logs: [log.vkey],
        stateFile,
        now: () => V.cosignature_3.timestamp * 1000,
      });
      const post = (body: string | Uint8Array) => fetch(`${w.url}/add-checkpoint`, { method: 'POST', body });
      const first = await post(V.add_checkpoint[0].request);
      expect(first.status).toBe(200);
      expect(await first.text()).toBe(V.add_checkpoint[0].response);
      await w.close();
      w = await startWitness({ signer: witness, logs: [log.vkey], stateFile });
      const again = await post(V.add_checkpoint[0].request);
      expect(again.status).toBe(409);
      expect(await again.text()).toBe('3\n');
      expect((await post(new Uint8Array([0xff, 0xfe]))).status).toBe(400);
      expect((await post(new Uint8Array(70 * 1024))).status).toBe(413);
      expect((await fetch(`${w.url}/nope`)).status).toBe(404);
      expect(w.vkey).toBe(witness.vkey);
      await w.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
