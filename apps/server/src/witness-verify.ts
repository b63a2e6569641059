// `helmts verify <pack> --checkpoint <note> --witness <vkey>… --quorum N` (docs/spec/tlog.md
// §Verifying with witnesses): the pack's receipts, in Lamport order, rebuild the receipt log; the
// cosigned checkpoint must commit to that log at its size (the pack holds at least that many
// receipts, and its first `size` give the checkpoint's root), and at least N distinct trusted
// witnesses must have cosigned it. An operator who truncates the chain after witnesses saw it, or
// shows the verifier a fork, fails here.
import type { RiskTier, SignedEnvelope } from '@helm/contracts';
import { parseStrictJson } from '@helm/crypto';
import { envelopeBody, readTar, receiptHashOf } from '@helm/evidencepack';
import { MerkleLog } from '@helm/proofgraph';
import {
  parseCheckpoint,
  parseNote,
  parseVkey,
  SIG_COSIGNATURE_V1,
  type TlogError,
  verifyNote,
} from './tlog.js';

export type WitnessCheckCode =
  | 'WITNESS_OK'
  | 'CHECKPOINT_MALFORMED'
  | 'COSIGNATURE_INVALID'
  | 'QUORUM_NOT_MET'
  | 'PACK_TRUNCATED'
  | 'ROOT_MISMATCH'
  | 'PACK_CONDENSED'
  | 'PACK_UNREADABLE';

export interface WitnessCheck {
  readonly ok: boolean;
  readonly code: WitnessCheckCode;
  readonly message: string;
  readonly cosigners: readonly string[];
  readonly checkpoint_size: number | null;
}

export interface WitnessCheckOptions {
  /** Trusted witness verifier keys (cosignature/v1, type 0x04). */
  readonly witnesses: readonly string[];
  readonly quorum: number;
}

/** Check a pack against a cosigned checkpoint note. Never throws on bad input: it answers a code. */
export function verifyWitnessedPack(
  pack: Uint8Array,
  note: string,
  options: WitnessCheckOptions,
): WitnessCheck {
  const fail = (
    code: WitnessCheckCode,
    message: string,
    cosigners: string[] = [],
    size: number | null = null,
  ) => ({
    ok: false,
    code,
    message,
    cosigners,
    checkpoint_size: size,
  });
  let cp: ReturnType<typeof parseCheckpoint>;
  let parsed: ReturnType<typeof parseNote>;
  try {
    parsed = parseNote(note);
    cp = parseCheckpoint(parsed.text);
  } catch (error) {
    return fail('CHECKPOINT_MALFORMED', (error as Error).message);
  }
  const witnesses = options.witnesses.map(parseVkey).filter((v) => v.type === SIG_COSIGNATURE_V1);
  let cosigners: string[];
  try {
    cosigners = [...new Set(verifyNote(parsed, witnesses).map((v) => v.verifier.name))];
  } catch (error) {
    return fail('COSIGNATURE_INVALID', (error as TlogError).message, [], cp.size);
  }
  if (cosigners.length < options.quorum)
    return fail(
      'QUORUM_NOT_MET',
      `${cosigners.length} trusted witness cosignature(s), ${options.quorum} required`,
      cosigners,
      cp.size,
    );
  const receipts: { lamport: number; envelope: SignedEnvelope }[] = [];
  let condensed = false;
  try {
    for (const entry of readTar(pack)) {
      if (entry.path.startsWith('condensed/')) condensed = true;
      const m = /^receipts\/0*([0-9]+)\.json$/.exec(entry.path);
      if (m)
        receipts.push({
          lamport: Number(m[1]),
          envelope: parseStrictJson(entry.data) as unknown as SignedEnvelope,
        });
    }
  } catch (error) {
    return fail('PACK_UNREADABLE', (error as Error).message, cosigners, cp.size);
  }
  if (condensed)
    return fail('PACK_CONDENSED', 'witness checks need a whole (not condensed) pack', cosigners, cp.size);
  receipts.sort((a, b) => a.lamport - b.lamport);
  if (receipts.length < cp.size || receipts[0]?.lamport !== 1)
    return fail(
      'PACK_TRUNCATED',
      `the witnesses saw ${cp.size} receipts; the pack holds ${receipts.length} from Lamport ${receipts[0]?.lamport ?? '-'}`,
      cosigners,
      cp.size,
    );
  const log = new MerkleLog({ logId: 'witness-check' });
  try {
    for (const r of receipts.slice(0, cp.size)) {
      const tier = envelopeBody<{ risk_tier: RiskTier }>(r.envelope).risk_tier;
      log.append({ entry_hash: receiptHashOf(r.envelope), lamport: r.lamport, risk_tier: tier });
    }
  } catch (error) {
    return fail('PACK_UNREADABLE', (error as Error).message, cosigners, cp.size);
  }
  if (cp.size > 0 && !Buffer.from(log.root()).equals(Buffer.from(cp.root)))
    return fail(
      'ROOT_MISMATCH',
      'the pack is not the log the witnesses cosigned (a fork)',
      cosigners,
      cp.size,
    );
  return {
    ok: true,
    code: 'WITNESS_OK',
    message: `${cosigners.length} witness(es) cosigned the first ${cp.size} receipts`,
    cosigners,
    checkpoint_size: cp.size,
  };
}
