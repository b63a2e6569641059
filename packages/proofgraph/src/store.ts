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
  /**
   * Nodes by lamport: the node itself while it is the only one at its lamport (a chain has one per
   * lamport), an array once there are several. No array per node: each object a governed call
   * leaves in memory was measured to cost it latency.
   */
  readonly #byLamport: (SignedNode | SignedNode[] | undefined)[] = [];

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
    const lamport = node.body.lamport;
    const present = this.#byLamport[lamport];
    if (present === undefined) this.#byLamport[lamport] = node;
    else if (Array.isArray(present)) present.push(node);
    else this.#byLamport[lamport] = [present, node];
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
      const present = this.#byLamport[l];
      if (present === undefined) continue;
      if (Array.isArray(present)) out.push(...[...present].sort((a, b) => (a.hash < b.hash ? -1 : 1)));
      else out.push(present);
    }
    return out;
  }
}
