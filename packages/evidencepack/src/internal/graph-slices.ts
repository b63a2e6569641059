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
  type GraphValidateOptions,
  type GraphVerifyResult,
  validateGraph,
} from '@helm/proofgraph';

export interface SlicedGraphOptions extends GraphValidateOptions {
  /** First position of a hash (receipt hash or node hash) in the whole sequence, or -1. */
  readonly firstPosition: (hash: string) => number;
  /** Hash and Lamport of a validated item (what validateGraph recorded for it). */
  readonly hashOf: (item: GraphItem, at: number) => { hash: string; lamport: number } | undefined;
  readonly onProgress?: (done: number) => void;
  /** Items per slice (default 512). */
  readonly sliceSize?: number;
}

const MISSING = /^parent (.*) is unknown$/;

export function validateGraphInSlices(
  total: number,
  itemAt: (at: number) => { item: GraphItem; release: () => void },
  options: SlicedGraphOptions,
): GraphVerifyResult {
  const validated = new Map<string, number>();
  const outer = options.known;
  const known = (h: string) => validated.get(h) ?? outer?.(h);
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
        const h = options.hashOf(items[k] as GraphItem, offset + k);
        if (h !== undefined) validated.set(h.hash, h.lamport);
      }
    } finally {
      for (const g of got) g.release();
    }
    options.onProgress?.(offset + items.length);
  }
  return { ok: true, count: total, heads: [] };
}
