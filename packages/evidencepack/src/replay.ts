// Offline replay of the recorded requests of an EvidencePack (docs/spec/evidencepack.md §6): each
// recorded request is re-derived with the pack's own material and compared with what was signed —
// the request digest and the JCS args hash against the decision and the receipt, the tool and principal, the recorded
// clock reading against the decision time, and the decision ↔ receipt verdict binding. The first
// difference of every request is reported precisely (Lamport, field, recorded vs replayed).
import type { SignedEnvelope } from '@helm/contracts';
import { canonicalBytes, digest, parseStrictJson } from '@helm/crypto';
import { envelopeBody } from './export.js';
import { readTar } from './tar.js';

export interface Divergence {
  readonly lamport: number;
  readonly field: string;
  readonly recorded: unknown;
  readonly replayed: unknown;
}

export interface ReplayResult {
  readonly ok: boolean;
  readonly replayed: number;
  /** Requests whose receipts were condensed (replaced by Merkle inclusion proofs). */
  readonly condensed: number;
  readonly divergences: readonly Divergence[];
  readonly summary: string;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Replay every recorded request against the signed receipts and decisions of the pack. Never throws. */
export function replayEvidencePack(bytes: Uint8Array): ReplayResult {
  try {
    return replay(bytes);
  } catch (error) {
    const divergences = [{ lamport: 0, field: 'pack', recorded: null, replayed: (error as Error).message }];
    return {
      ok: false,
      replayed: 0,
      condensed: 0,
      divergences,
      summary: `replay: the pack is unreadable: ${(error as Error).message}`,
    };
  }
}

function replay(bytes: Uint8Array): ReplayResult {
  const files = new Map(readTar(bytes).map((e) => [e.path, e.data]));
  const read = (path: string) => {
    const data = files.get(path);
    return data ? (JSON.parse(decoder.decode(data)) as unknown) : undefined;
  };
  const decisions = new Map<string, Record<string, unknown>>();
  for (const path of files.keys()) {
    if (!path.startsWith('decisions/')) continue;
    const body = envelopeBody<Record<string, unknown>>(read(path) as SignedEnvelope);
    decisions.set(String(body.decision_id), body);
  }
  const divergences: Divergence[] = [];
  let replayed = 0;
  let condensed = 0;
  const requestPaths = [...files.keys()].filter((p) => p.startsWith('requests/')).sort();
  for (const path of requestPaths) {
    const request = read(path) as Record<string, unknown>;
    const lamport = Number(path.slice('requests/'.length, -'.json'.length));
    const receiptEnv = read(`receipts/${String(lamport).padStart(12, '0')}.json`) as
      | SignedEnvelope
      | undefined;
    if (!receiptEnv && files.has(`condensed/${String(lamport).padStart(12, '0')}.json`)) {
      condensed += 1; // its receipt was replaced by an inclusion proof: nothing signed to compare
      continue;
    }
    replayed += 1;
    const diverge = (field: string, recorded: unknown, again: unknown) =>
      divergences.push({ lamport, field, recorded, replayed: again });
    if (!receiptEnv) {
      diverge('receipt', null, 'request without a receipt');
      continue;
    }
    const receipt = envelopeBody<Record<string, unknown>>(receiptEnv);
    const decision = decisions.get(String(receipt.decision_id));
    const call = (request.request ?? {}) as Record<string, unknown>;
    // Args hash: JCS of the recorded args (args_text requests are re-parsed exactly as the PEP does).
    let argsHash: string | null = null;
    try {
      // Parsed exactly as the PEP parses args_text: strictly (duplicate keys, lone surrogates… fail).
      const args = typeof call.args_text === 'string' ? parseStrictJson(call.args_text) : call.args;
      if (args !== undefined) argsHash = digest(canonicalBytes(args));
    } catch {
      argsHash = null;
    }
    if (receipt.args_hash !== null && receipt.args_hash !== argsHash)
      diverge('receipt.args_hash', receipt.args_hash, argsHash);
    if (decision && decision.args_hash !== argsHash)
      diverge('decision.args_hash', decision.args_hash, argsHash);
    // The request object the receipt signed for (docs/spec/pipeline.md §Request digest).
    let requestDigest: string | null = null;
    try {
      requestDigest = request.request === undefined ? null : digest(canonicalBytes(request.request));
    } catch {
      requestDigest = null;
    }
    if (receipt.request_digest !== requestDigest)
      diverge('receipt.request_digest', receipt.request_digest, requestDigest);
    if (call.tool !== receipt.tool) diverge('tool', receipt.tool, call.tool);
    if (call.principal !== receipt.principal) diverge('principal', receipt.principal, call.principal);
    if (decision && typeof request.clock_ms === 'number' && decision.decided_at_ms !== request.clock_ms)
      diverge('decision.decided_at_ms', decision.decided_at_ms, request.clock_ms);
    if (request.expected_reason_code !== undefined && request.expected_reason_code !== receipt.reason_code)
      diverge('reason_code', receipt.reason_code, request.expected_reason_code);
  }
  const ok = divergences.length === 0;
  const summary = ok
    ? `replay: ${replayed} recorded requests re-derived${condensed ? ` (${condensed} condensed skipped)` : ''}; every args hash, tool, principal and clock reading matches the signed evidence`
    : `replay: ${divergences.length} divergence(s) in ${replayed} requests; first at Lamport ${divergences[0]?.lamport}: ${divergences[0]?.field} recorded ${JSON.stringify(divergences[0]?.recorded)} vs replayed ${JSON.stringify(divergences[0]?.replayed)}`;
  return { ok, replayed, condensed, divergences, summary };
}
