// Chain heads and the receipt hash: the two facts a chain continues from, shared by the signer
// (receipt.ts), the recorder and the offline verifier (verify.ts) without pulling in signing code.
import type { SignedEnvelope } from '@helm/contracts/envelope';
import { RECEIPT_GENESIS_PREV_HASH } from '@helm/contracts/receipt';
import { soleSignatureDigest } from '@helm/crypto/digests';

/** The state a chain continues from: the last receipt's lamport and hash (genesis: 0 and zeros). */
export interface ChainHead {
  readonly chain_id: string;
  readonly lamport: number;
  readonly hash: string;
}

/** The head of a chain that has no receipts yet. */
export function genesisHead(chainId: string): ChainHead {
  return { chain_id: chainId, lamport: 0, hash: RECEIPT_GENESIS_PREV_HASH };
}

/**
 * The receipt hash of a signed receipt envelope (docs/spec/receipt.md §Receipt hash): the SHA-256
 * of the raw 64-byte Ed25519 signature — "PrevHash = the previous receipt's signature". Undefined
 * when the envelope does not carry exactly one well-formed signature. The rule is defined once, in
 * @helm/crypto (`soleSignatureDigest`), which ProofGraph's receipt nodes use too.
 */
export function receiptHash(envelope: SignedEnvelope): string | undefined {
  return soleSignatureDigest(envelope);
}
