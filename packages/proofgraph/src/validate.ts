// Validation of a whole ProofGraph or a slice of it (normative: docs/spec/node.md §Validation):
// recompute every hash, parents exist and come first (in the slice, or among `known` nodes),
// lamport = max(parents) + 1, signatures valid under the caller's keys, payload digests match.
import type { SignedEnvelope } from '@helm/contracts/envelope';
import { RECEIPT_TYPE } from '@helm/contracts/receipt';
import { nodeHashOf } from './internal/envelope-hash.js';
import type { KeyLookup } from './keys.js';
import { type NodeCheck, type NodeVerifyCode, type SignedNode, verifyNode } from './node.js';
import { type ReceiptNodeVerifier, receiptNode } from './receipt-node.js';

export interface GraphItem {
  readonly envelope: unknown;
  /** A claimed node hash (e.g. from storage); checked against the recomputed one. */
  readonly hash?: string;
  /** The payload, when present; must match payload_hash. */
  readonly payload?: { readonly value: unknown };
}

export type GraphVerifyCode =
  | NodeVerifyCode
  | 'HASH_MISMATCH'
  | 'DUPLICATE_NODE'
  | 'PARENT_MISSING'
  | 'PARENT_ORDER'
  | 'LAMPORT_INVALID';

export interface GraphValidateOptions {
  readonly keys: KeyLookup;
  /** Nodes outside the slice that parents may refer to: hash → lamport. */
  readonly known?: (hash: string) => number | undefined;
  /**
   * Verifies receipt nodes (`helm.receipt.v1` items; docs/spec/node.md §Receipt nodes), e.g.
   * `(e) => verifyReceipt(e, keys)` of @helm/receipts. Without it a receipt item is NODE_MALFORMED.
   */
  readonly receipts?: ReceiptNodeVerifier;
}

export type GraphVerifyResult =
  | { readonly ok: true; readonly count: number; readonly heads: string[] }
  | { readonly ok: false; readonly code: GraphVerifyCode; readonly index: number; readonly message: string };

/**
 * Validate nodes in order (a topological order: parents first). Reports the first failure.
 *
 * @example
 * ```ts
 * import { validateGraph } from '@helm/proofgraph/verify';
 * import { verifyReceipt } from '@helm/receipts/verify';
 *
 * declare const envelopes: readonly unknown[]; // parents first
 * declare const keys: (keyid: string, role: string, seq: number) => Uint8Array | undefined;
 * const result = validateGraph(
 *   envelopes.map((envelope) => ({ envelope })),
 *   { keys, receipts: (e) => verifyReceipt(e, keys) },
 * );
 * if (result.ok) console.log(result.heads);
 * else console.log(`item ${result.index}: ${result.code}`);
 * ```
 */
export function validateGraph(items: readonly GraphItem[], options: GraphValidateOptions): GraphVerifyResult {
  const fail = (code: GraphVerifyCode, index: number, message: string): GraphVerifyResult => ({
    ok: false,
    code,
    index,
    message,
  });
  const lamports = new Map<string, number>();
  const heads = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as GraphItem;
    const check = checkItem(item, options);
    if (!check.ok) return fail(check.code, i, check.message);
    const node = check.node;
    if (item.hash !== undefined && item.hash !== node.hash)
      return fail('HASH_MISMATCH', i, 'claimed hash differs');
    if (lamports.has(node.hash) || options.known?.(node.hash) !== undefined) {
      return fail('DUPLICATE_NODE', i, 'node appears twice');
    }
    let max = 0;
    for (const p of node.body.parents) {
      const l = lamports.get(p) ?? options.known?.(p);
      if (l === undefined) {
        return firstPosition(items, p) > i
          ? fail('PARENT_ORDER', i, `parent ${p} comes after its child`)
          : fail('PARENT_MISSING', i, `parent ${p} is unknown`);
      }
      max = Math.max(max, l);
    }
    if (node.body.lamport !== max + 1) {
      return fail('LAMPORT_INVALID', i, `lamport ${node.body.lamport}, expected ${max + 1}`);
    }
    lamports.set(node.hash, node.body.lamport);
    for (const p of node.body.parents) heads.delete(p);
    heads.add(node.hash);
  }
  return { ok: true, count: items.length, heads: [...heads].sort() };
}

/**
 * The first position of a structurally hashable envelope with node hash `hash`, or -1: tells a
 * parent that comes later ("order") from one that is missing. Computed only on that failure, so an
 * honest graph hashes each node once (in its check), not twice.
 */
function firstPosition(items: readonly GraphItem[], hash: string): number {
  for (let i = 0; i < items.length; i++) {
    const env = (items[i] as GraphItem).envelope as SignedEnvelope | null;
    if (
      typeof env === 'object' &&
      env !== null &&
      typeof env.payload === 'string' &&
      Array.isArray(env.signatures)
    ) {
      try {
        if (nodeHashOf(env) === hash) return i;
      } catch {
        // Malformed; reported by the main pass.
      }
    }
  }
  return -1;
}

/** One item: a receipt node through the receipt verifier, any other node through verifyNode. */
function checkItem(item: GraphItem, options: GraphValidateOptions): NodeCheck {
  const env = item.envelope as { type?: unknown } | null;
  if (typeof env !== 'object' || env === null || env.type !== RECEIPT_TYPE) {
    return verifyNode(item.envelope, options.keys, item.payload);
  }
  if (!options.receipts) {
    return { ok: false, code: 'NODE_MALFORMED', message: 'a receipt node needs a receipt verifier' };
  }
  if (item.payload !== undefined) {
    return { ok: false, code: 'NODE_MALFORMED', message: 'a receipt node carries no separate payload' };
  }
  const r = options.receipts(item.envelope);
  if (!r.ok) return { ok: false, code: 'RECEIPT_INVALID', message: `${r.code}: ${r.message}` };
  let node: SignedNode;
  try {
    node = receiptNode(item.envelope as SignedEnvelope, r.body, r.summary.hash);
  } catch (error) {
    return { ok: false, code: 'NODE_MALFORMED', message: (error as Error).message };
  }
  return { ok: true, node };
}
