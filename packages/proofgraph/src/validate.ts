// Validation of a whole ProofGraph or a slice of it (normative: docs/spec/node.md §Validation):
// recompute every hash, parents exist and come first (in the slice, or among `known` nodes),
// lamport = max(parents) + 1, signatures valid under the caller's keys, payload digests match.
// Two parts: checkGraphItem (one item alone: structure, key, signature, payload) and linkGraph (the
// order-dependent rules over the checked nodes), so that a caller can check items on other threads
// and link them on one; validateGraph is the two in sequence.
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

/** What the order-dependent rules read of a node verified in isolation (checkGraphItem). */
export interface LinkedNode {
  readonly hash: string;
  readonly lamport: number;
  readonly parents: readonly string[];
}

/** A per-item failure (checkGraphItem's code and message) at its position. */
export interface ItemFailure {
  readonly code: GraphVerifyCode;
  readonly index: number;
  readonly message: string;
}

export interface GraphLinkOptions {
  /** Nodes outside the sequence that parents may refer to: hash → lamport. */
  readonly known?: (hash: string) => number | undefined;
  /**
   * First position in the whole sequence of an item whose node hash is `hash` (any structurally
   * hashable item, verified or not), or -1: tells PARENT_ORDER from PARENT_MISSING. Called only on
   * that failure.
   */
  readonly firstPosition: (hash: string) => number;
}

/**
 * Validate nodes in order (a topological order: parents first). Reports the first failure: each
 * item is checked alone (checkGraphItem), then the order-dependent rules run over the checked
 * nodes (linkGraph).
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
  const nodes: LinkedNode[] = [];
  let failure: ItemFailure | undefined;
  for (let i = 0; i < items.length && failure === undefined; i++) {
    const check = checkGraphItem(items[i] as GraphItem, options);
    if (check.ok)
      nodes.push({
        hash: check.node.hash,
        lamport: check.node.body.lamport,
        parents: check.node.body.parents,
      });
    else failure = { code: check.code, index: i, message: check.message };
  }
  return linkGraph(
    nodes,
    { ...(options.known ? { known: options.known } : {}), firstPosition: (h) => firstPosition(items, h) },
    failure,
  );
}

/**
 * The order-dependent rules over nodes each verified alone (checkGraphItem), in sequence order: no
 * node twice (here or among `known`), parents known and earlier, lamport = max(parents) + 1.
 * `itemFailure` (the first item that did not check, at `nodes.length`) is reported when no link
 * failure precedes it. validateGraph is checkGraphItem on every item, then this.
 *
 * @example
 * ```ts
 * import { checkGraphItem, type LinkedNode, linkGraph } from '@helm/proofgraph/verify';
 *
 * declare const items: readonly { envelope: unknown }[]; // parents first
 * declare const keys: (keyid: string, role: string, lamport: number) => Uint8Array | undefined;
 * const nodes: LinkedNode[] = [];
 * for (const item of items) {
 *   const c = checkGraphItem(item, { keys }); // per item: any order, any thread
 *   if (!c.ok) break;
 *   nodes.push({ hash: c.node.hash, lamport: c.node.body.lamport, parents: c.node.body.parents });
 * }
 * const result = linkGraph(nodes, { firstPosition: () => -1 });
 * ```
 */
export function linkGraph(
  nodes: readonly LinkedNode[],
  options: GraphLinkOptions,
  itemFailure?: ItemFailure,
): GraphVerifyResult {
  const fail = (code: GraphVerifyCode, index: number, message: string): GraphVerifyResult => ({
    ok: false,
    code,
    index,
    message,
  });
  const lamports = new Map<string, number>();
  const heads = new Set<string>();
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i] as LinkedNode;
    if (lamports.has(node.hash) || options.known?.(node.hash) !== undefined) {
      return fail('DUPLICATE_NODE', i, 'node appears twice');
    }
    let max = 0;
    for (const p of node.parents) {
      const l = lamports.get(p) ?? options.known?.(p);
      if (l === undefined) {
        return options.firstPosition(p) > i
          ? fail('PARENT_ORDER', i, `parent ${p} comes after its child`)
          : fail('PARENT_MISSING', i, `parent ${p} is unknown`);
      }
      max = Math.max(max, l);
    }
    if (node.lamport !== max + 1) {
      return fail('LAMPORT_INVALID', i, `lamport ${node.lamport}, expected ${max + 1}`);
    }
    lamports.set(node.hash, node.lamport);
    for (const p of node.parents) heads.delete(p);
    heads.add(node.hash);
  }
  if (itemFailure) return fail(itemFailure.code, itemFailure.index, itemFailure.message);
  return { ok: true, count: nodes.length, heads: [...heads].sort() };
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

/**
 * One item alone: a receipt node through the receipt verifier, any other node through verifyNode,
 * and a claimed hash against the node's. Needs nothing of the other items (any order, any thread).
 *
 * @example
 * ```ts
 * import { checkGraphItem } from '@helm/proofgraph/verify';
 *
 * declare const envelope: unknown;
 * declare const keys: (keyid: string, role: string, lamport: number) => Uint8Array | undefined;
 * const check = checkGraphItem({ envelope }, { keys }); // never throws
 * if (check.ok) console.log(check.node.hash, check.node.body.parents);
 * ```
 */
export function checkGraphItem(
  item: GraphItem,
  options: Pick<GraphValidateOptions, 'keys' | 'receipts'>,
): GraphItemCheck {
  const check = checkNode(item, options);
  if (check.ok && item.hash !== undefined && item.hash !== check.node.hash)
    return { ok: false, code: 'HASH_MISMATCH', message: 'claimed hash differs' };
  return check;
}

export type GraphItemCheck =
  | { readonly ok: true; readonly node: SignedNode }
  | { readonly ok: false; readonly code: GraphVerifyCode; readonly message: string };

function checkNode(item: GraphItem, options: Pick<GraphValidateOptions, 'keys' | 'receipts'>): NodeCheck {
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
