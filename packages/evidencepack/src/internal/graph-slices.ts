// ProofGraph validation of a pack in slices, so that only one slice of nodes is in memory: each
// slice goes through proofgraph's validateGraph with the nodes of the slices before it as `known`
// nodes. The verdict is validateGraph's on the whole sequence:
// - a node validated in an earlier slice answers `known` with its Lamport, exactly as the whole
//   run's own map would (and makes a second copy of it a DUPLICATE_NODE, as there);
// - a parent that is missing from everything validated so far but comes later in the sequence is
//   PARENT_ORDER, not PARENT_MISSING: validateGraph can only see positions inside its slice, so the
//   caller finds the parent's first position in the whole sequence (on that failure only);
// - failure indexes are positions in the whole sequence.
import {
  type GraphItem,
  type GraphLinkOptions,
  type GraphValidateOptions,
  type GraphVerifyResult,
  type ItemFailure,
  type LinkedNode,
  linkGraph,
  validateGraph,
} from '@helm/proofgraph';
import { DigestMap, RowDigestIndex, type RowDigests } from './digest-map.js';
import { DigestColumn, NumberColumn } from './receipt-infos.js';

export interface SlicedGraphOptions extends GraphValidateOptions {
  /** First position of a hash (receipt hash or node hash) in the whole sequence, or -1. */
  readonly firstPosition: (hash: string) => number;
  /** Hash and Lamport of a validated item (what validateGraph recorded for it). */
  readonly hashOf: (item: GraphItem, at: number) => { hash: string; lamport: number } | undefined;
  readonly onProgress?: (done: number) => void;
  /** Items per slice (default 512). */
  readonly sliceSize?: number;
  /**
   * Positions 0 … count − 1 are receipts whose hash and Lamport are already kept by row (the
   * phase-1 summaries): they are found through a RowDigestIndex over those rows instead of being
   * copied into the hash → Lamport map (#25). hashOf must give exactly the row's values for them
   * (checked: anything else stops verification).
   */
  readonly receiptRows?: {
    readonly count: number;
    readonly hashes: RowDigests;
    lamportAt(row: number): number;
  };
}

const MISSING = /^parent (.*) is unknown$/;

export function validateGraphInSlices(
  total: number,
  itemAt: (at: number) => { item: GraphItem; release: () => void },
  options: SlicedGraphOptions,
): GraphVerifyResult {
  // Every receipt and node of the pack ends up here, so this map is the ProofGraph pass's largest
  // term (§5.2): digests as bytes in typed arrays (DigestMap), not strings in a Map.
  const rows = options.receiptRows;
  const rowCount = rows === undefined ? 0 : Math.min(rows.count, total);
  const index = rows === undefined ? undefined : new RowDigestIndex(rows.hashes, rowCount);
  const validated = new DigestMap(total - rowCount);
  /** Receipt rows validated so far (rows are validated in order, before any other item). */
  let rowsValidated = 0;
  const outer = options.known;
  const rowLamport = (h: string): number | undefined => {
    const row = index === undefined ? -1 : index.rowOf(h);
    return row >= 0 && row < rowsValidated ? (rows as NonNullable<typeof rows>).lamportAt(row) : undefined;
  };
  const known = (h: string) => rowLamport(h) ?? validated.get(h) ?? outer?.(h);
  const size = Math.max(1, options.sliceSize ?? 512);
  for (let offset = 0; offset < total; offset += size) {
    const got: { item: GraphItem; release: () => void }[] = [];
    for (let k = offset; k < Math.min(total, offset + size); k++) got.push(itemAt(k));
    const items = got.map((g) => g.item);
    try {
      const r = validateGraph(items, {
        keys: options.keys,
        known,
        ...(options.receipts ? { receipts: options.receipts } : {}),
      });
      if (!r.ok) {
        const index = offset + r.index;
        const parent = r.code === 'PARENT_MISSING' ? MISSING.exec(r.message)?.[1] : undefined;
        if (parent !== undefined && options.firstPosition(parent) > index)
          return {
            ok: false,
            code: 'PARENT_ORDER',
            index,
            message: `parent ${parent} comes after its child`,
          };
        return { ...r, index };
      }
      for (let k = 0; k < items.length; k++) {
        const at = offset + k;
        const h = options.hashOf(items[k] as GraphItem, at);
        if (at < rowCount) {
          // Its row already holds this hash and Lamport (the first row holding the hash: a second
          // receipt with the same hash would have failed validateGraph as a duplicate).
          const row = h === undefined ? -1 : (index as RowDigestIndex).rowOf(h.hash);
          if (h === undefined || row !== at || !Object.is(rows?.lamportAt(row), h.lamport))
            throw new Error(`receipt node ${at}: its hash and Lamport are not its phase-1 summary's`);
          rowsValidated = at + 1;
        } else if (h !== undefined) validated.set(h.hash, h.lamport);
      }
    } finally {
      for (const g of got) g.release();
    }
    options.onProgress?.(offset + items.length);
  }
  return { ok: true, count: total, heads: [] };
}

/**
 * What linkGraph reads of the checked items, kept compactly until the link pass: hashes as 32 bytes
 * and Lamport values as numbers in typed arrays (receipt-infos.ts columns), and a chain's usual
 * parent list (exactly the previous item's hash) not stored; the objects linkGraph takes are built
 * one slice at a time. The answers are the stored nodes'.
 */
export class LinkStore {
  readonly #hashes: DigestColumn;
  readonly #lamports: NumberColumn;
  /** Parent lists other than exactly [the previous item's hash], by position. */
  readonly #parents = new Map<number, readonly string[]>();
  #n = 0;
  #previous: string | undefined;

  /** `capacity`: the number of items expected (the columns grow past it if need be). */
  constructor(capacity = 0) {
    this.#hashes = new DigestColumn(capacity);
    this.#lamports = new NumberColumn(capacity);
  }

  get length(): number {
    return this.#n;
  }

  push(node: LinkedNode): void {
    const i = this.#n++;
    const p = node.parents;
    const chained = i > 0 && p.length === 1 && p[0] === this.#previous;
    this.#hashes.set(i, node.hash);
    this.#lamports.set(i, node.lamport);
    if (!chained) this.#parents.set(i, p);
    this.#previous = node.hash;
  }

  at(i: number): LinkedNode {
    const parents = this.#parents.get(i) ?? [this.#hashes.get(i - 1) as string];
    return { hash: this.#hashes.get(i) as string, lamport: this.#lamports.get(i) as number, parents };
  }
}

/**
 * linkGraph over `nodes` in slices, each with the slices before it as `known` items: the result of
 * one linkGraph call over all of them (failure indexes, PARENT_ORDER by whole-sequence position,
 * `itemFailure` last), with only one slice of LinkedNode objects alive at a time. `heads` is not
 * computed (empty).
 */
export function linkInSlices(
  nodes: { readonly length: number; at(i: number): LinkedNode },
  options: GraphLinkOptions,
  itemFailure?: ItemFailure,
  sliceSize = 4096,
): GraphVerifyResult {
  const size = Math.max(1, sliceSize);
  // A DigestMap, as in validateGraphInSlices.
  const linked = new DigestMap(nodes.length);
  const outer = options.known;
  const known = (h: string) => linked.get(h) ?? outer?.(h);
  const total = nodes.length;
  for (let offset = 0; offset < total || (offset === 0 && itemFailure); offset += size) {
    const end = Math.min(total, offset + size);
    const slice: LinkedNode[] = [];
    for (let i = offset; i < end; i++) slice.push(nodes.at(i));
    const last = end === total;
    const r = linkGraph(
      slice,
      { known, firstPosition: (h) => options.firstPosition(h) - offset },
      last && itemFailure ? { ...itemFailure, index: itemFailure.index - offset } : undefined,
    );
    if (!r.ok) return { ...r, index: r.index + offset };
    for (const n of slice) linked.set(n.hash, n.lamport);
    if (last) break;
  }
  return { ok: true, count: total, heads: [] };
}
