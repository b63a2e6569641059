// The RFC 9162 root of the entry list's items (docs/spec/evidencepack.md §4: entriesRoot), built
// as the list streams in. The same tree as proofgraph's MerkleFrontier over merkleLeafHash leaves
// (the scan test compares the roots), but without their per-hash buffers: a big pack lists four
// entries per receipt, and allocating the 0x00 ‖ leaf and 0x01 ‖ left ‖ right inputs of every
// hash was a measurable share of verifying it (#16). Leaf and node inputs are written into two
// scratch buffers; the frontier keeps one 32-byte slot per level.

import { sha256 } from '@helm/crypto';
import { EMPTY_TREE_ROOT } from '@helm/proofgraph';

/** Levels of the frontier: more leaves than any pack can list (2^53). */
const LEVELS = 54;

export class ListRoot {
  #size = 0;
  /** Perfect subtree roots; #levels[k] is the root over 2^k leaves when bit k of #size is set. */
  readonly #levels = new Uint8Array(32 * LEVELS);
  /** 0x01 ‖ left ‖ right. */
  readonly #node = Uint8Array.of(0x01, ...new Uint8Array(64));
  /** 0x00 ‖ leaf (grown for a longer leaf). */
  #leaf = new Uint8Array(513);

  get size(): number {
    return this.#size;
  }

  /** Append one leaf (the item's bytes, hashed as SHA-256(0x00 ‖ leaf)). */
  append(leaf: Uint8Array): void {
    if (leaf.length + 1 > this.#leaf.length) this.#leaf = new Uint8Array(2 * (leaf.length + 1));
    this.#leaf.set(leaf, 1);
    let h = sha256(this.#leaf.subarray(0, leaf.length + 1));
    // Each trailing 1 bit of the old size is a perfect subtree of the same height to merge with.
    let level = 0;
    for (let s = this.#size; s % 2 === 1; s = (s - 1) / 2, level++) {
      this.#node.set(this.#levels.subarray(32 * level, 32 * level + 32), 1);
      this.#node.set(h, 33);
      h = sha256(this.#node);
    }
    this.#levels.set(h, 32 * level);
    this.#size++;
  }

  /** The RFC 9162 tree hash of all appended leaves. */
  root(): Uint8Array {
    if (this.#size === 0) return EMPTY_TREE_ROOT;
    let h: Uint8Array | undefined;
    // Smallest subtree (lowest set bit) first: h = H(0x01 ‖ larger ‖ h) going up.
    for (let s = this.#size, level = 0; s > 0; s = Math.floor(s / 2), level++) {
      if (s % 2 === 0) continue;
      const node = this.#levels.slice(32 * level, 32 * level + 32);
      if (h === undefined) h = node;
      else {
        this.#node.set(node, 1);
        this.#node.set(h, 33);
        h = sha256(this.#node);
      }
    }
    return h as Uint8Array;
  }
}
