// The entry list's streamed RFC 9162 root (internal/list-root.ts) against proofgraph's
// MerkleFrontier over merkleLeafHash leaves, for every size up to 70 (every frontier shape of up to
// six levels) and leaves of varying lengths, and for a scratch buffer grown past its first size.
import { toHex } from '@helm/crypto';
import { MerkleFrontier, merkleLeafHash } from '@helm/proofgraph';
import { describe, expect, it } from 'vitest';
import { ListRoot } from '../src/internal/list-root.ts';

const leaf = (i: number, length = 1 + ((i * 37) % 300)) =>
  Uint8Array.from({ length }, (_, k) => (i * 131 + k * 7) & 0xff);

describe('ListRoot', () => {
  it('is the MerkleFrontier root of the same leaves, at every size from 0 to 70', () => {
    const ours = new ListRoot();
    const theirs = new MerkleFrontier();
    for (let n = 0; n <= 70; n++) {
      expect(ours.size).toBe(n);
      expect(toHex(ours.root())).toBe(toHex(theirs.root()));
      ours.append(leaf(n));
      theirs.append(merkleLeafHash(leaf(n)));
    }
  });

  it('hashes a leaf longer than its scratch buffer, and a short one after it, correctly', () => {
    const ours = new ListRoot();
    const theirs = new MerkleFrontier();
    for (const l of [leaf(1, 2000), leaf(2, 3), leaf(3, 0)]) {
      ours.append(l);
      theirs.append(merkleLeafHash(l));
    }
    expect(toHex(ours.root())).toBe(toHex(theirs.root()));
  });
});
