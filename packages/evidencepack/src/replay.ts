// Offline replay of the recorded requests of an EvidencePack (docs/spec/evidencepack.md §6). The
// pack is verified first (§5): a pack that does not verify never "matches the signed evidence". Each
// recorded request is re-derived with the pack's own material and compared with what was signed —
// the request digest and the JCS args hash against the decision and the receipt, the tool and principal, the recorded
// clock reading against the decision time, and the decision ↔ receipt verdict binding. The first
// difference of every request is reported precisely (Lamport, field, recorded vs replayed).
import type { SignedEnvelope } from '@helm/contracts';
import { canonicalBytes, digest, parseStrictJson } from '@helm/crypto';
import { envelopeBody } from './export.js';
import { readTar } from './tar.js';
import { type VerifyOptions, type VerifyReport, verifyEvidencePackSync } from './verify.js';

export interface Divergence {
  readonly lamport: number;
  readonly field: string;
  readonly recorded: unknown;
  readonly replayed: unknown;
}

export interface ReplayResult {
  /** True only when the pack verified (see `verified`) and no request diverged. */
  readonly ok: boolean;
  /**
   * The pack verified before it was replayed: `verifyEvidencePack` gave PASS — or, with no trust
   * anchor pinned, every check but TRUST_ANCHOR passed (verified against the pack's own trust
   * root, which the report names). Replay results of a pack that does not verify are not evidence.
   */
  readonly verified: boolean;
  /** The verification status of the pack (`verifyEvidencePack` with the same options). */
  readonly verification: VerifyReport['status'];
  /** The first check that kept the pack from verifying, when any. */
  readonly verification_failure?: {
    readonly code: string;
    readonly status: string;
    readonly message: string;
  };
  readonly replayed: number;
  /** Requests whose receipts were condensed (replaced by Merkle inclusion proofs). */
  readonly condensed: number;
  readonly divergences: readonly Divergence[];
  readonly summary: string;
}

/** What `replayEvidencePack` verifies the pack against first (see `VerifyOptions`). */
export type ReplayOptions = Pick<
  VerifyOptions,
  'trustAnchor' | 'expectHead' | 'expectLamport' | 'minTrustSeq' | 'trustHead' | 'pinSource'
>;

const decoder = new TextDecoder('utf-8', { fatal: true });

interface Replayed {
  readonly replayed: number;
  readonly condensed: number;
  readonly divergences: readonly Divergence[];
}

/**
 * Verify the pack (docs/spec/evidencepack.md §5), then replay every recorded request against its
 * signed receipts and decisions (§6). Only a pack that verifies can "match the signed evidence":
 * otherwise `ok` is false and the summary starts with `NOT VERIFIED`. Never throws.
 */
export function replayEvidencePack(bytes: Uint8Array, options: ReplayOptions = {}): ReplayResult {
  const report = verifyEvidencePackSync(bytes, options);
  const blocking = report.checks.find(
    (c) =>
      c.status !== 'PASS' &&
      c.status !== 'SKIPPED' &&
      !(c.code === 'TRUST_ANCHOR' && c.status === 'UNVERIFIABLE' && options.trustAnchor === undefined),
  );
  const verified = report.status !== 'FAILED' && !report.format_unsupported && blocking === undefined;
  let r: Replayed;
  let unreadable: string | undefined;
  try {
    r = replay(bytes);
  } catch (error) {
    unreadable = errorText(error);
    r = {
      replayed: 0,
      condensed: 0,
      divergences: [{ lamport: 0, field: 'pack', recorded: null, replayed: unreadable }],
    };
  }
  const ok = verified && r.divergences.length === 0;
  const first = r.divergences[0];
  const detail =
    unreadable !== undefined
      ? `replay: the pack is unreadable: ${unreadable}`
      : r.divergences.length === 0
        ? `replay: ${r.replayed} recorded requests re-derived${r.condensed ? ` (${r.condensed} condensed skipped)` : ''}`
        : `replay: ${r.divergences.length} divergence(s) in ${r.replayed} requests; first at Lamport ${first?.lamport}: ${first?.field} recorded ${JSON.stringify(first?.recorded)} vs replayed ${JSON.stringify(first?.replayed)}`;
  let summary: string;
  if (!verified) {
    const why = blocking ?? report.checks.find((c) => c.status === 'FAILED');
    summary = `NOT VERIFIED: the pack is ${report.status}${why ? ` (${why.code}: ${why.message})` : ''}; nothing was matched against signed evidence. ${detail}`;
  } else if (r.divergences.length === 0) {
    const unpinned =
      options.trustAnchor === undefined
        ? ` (trust anchor not pinned: verified against the pack's own trust root ${report.manifest?.trust_anchor ?? '?'}; pin it with --trust-anchor)`
        : '';
    summary = `${detail}; every args hash, tool, principal and clock reading matches the signed evidence${unpinned}`;
  } else summary = detail;
  return {
    ok,
    verified,
    verification: report.status,
    ...(blocking
      ? { verification_failure: { code: blocking.code, status: blocking.status, message: blocking.message } }
      : {}),
    replayed: r.replayed,
    condensed: r.condensed,
    divergences: r.divergences,
    summary,
  };
}

function errorText(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return 'unprintable error';
  }
}

function replay(bytes: Uint8Array): Replayed {
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
  return { replayed, condensed, divergences };
}
