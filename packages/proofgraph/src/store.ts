// The ProofGraph node store port (synchronous, append-only). Persistent implementations (SQLite)
// live outside the TCB; ProofGraph validates before appending, so a store only has to persist.
import { ProofGraphError } from './errors.js';
import type { SignedNode } from './node.js';

export interface NodeStore {
  /** Append a node; throw if a node with the same hash exists. */
  append(node: SignedNode): void;
  get(hash: string): SignedNode | undefined;
  /** Hashes of nodes without children, ascending. */
  heads(): string[];
  /** Nodes with from ≤ lamport ≤ to, ordered by (lamport, hash). */
  rangeByLamport(from: number, to: number): SignedNode[];
  readonly size: number;
}

export class InMemoryNodeStore implements NodeStore {
  readonly #nodes = new Map<string, SignedNode>();
  readonly #heads = new Set<string>();
  /** Nodes bucketed by lamport. */
  readonly #byLamport: SignedNode[][] = [];

  get size(): number {
    return this.#nodes.size;
  }

  append(node: SignedNode): void {
    if (this.#nodes.has(node.hash)) throw new ProofGraphError('DUPLICATE_NODE', `node ${node.hash} exists`);
    for (const p of node.body.parents) {
      if (!this.#nodes.has(p)) throw new ProofGraphError('PARENT_MISSING', `parent ${p} is not stored`);
    }
    this.#nodes.set(node.hash, node);
    for (const p of node.body.parents) this.#heads.delete(p);
    this.#heads.add(node.hash);
    const bucket = this.#byLamport[node.body.lamport] ?? [];
    bucket.push(node);
    this.#byLamport[node.body.lamport] = bucket;
  }

  get(hash: string): SignedNode | undefined {
    return this.#nodes.get(hash);
  }

  heads(): string[] {
    return [...this.#heads].sort();
  }

  rangeByLamport(from: number, to: number): SignedNode[] {
    const out: SignedNode[] = [];
    const end = Math.min(to, this.#byLamport.length - 1);
    for (let l = Math.max(1, from); l <= end; l++) {
      const bucket = this.#byLamport[l];
      if (bucket) out.push(...[...bucket].sort((a, b) => (a.hash < b.hash ? -1 : 1)));
    }
    return out;
  }
}
