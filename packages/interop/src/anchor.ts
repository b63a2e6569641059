// Anchoring: prepare a ProofGraph checkpoint (`helm.checkpoint.v1` envelope) as a transparency-log
// entry body in the hashedrekord 0.0.1 shape. The signed data is the checkpoint's signature
// message PAE(type, payload) (docs/spec/envelope.md), so a log — or anyone holding the entry — can
// check the checkpoint signer's Ed25519 signature over exactly those bytes. Submitting the entry
// (HTTP to Rekor or another log) is the embedder's. Not part of the TCB: it produces an entry for
// someone else to check; the checkpoint it starts from is verified with the TCB's verifyEnvelope.
import { CHECKPOINT_TYPE } from '@helm/contracts/checkpoint';
import type { SignedEnvelope } from '@helm/contracts/envelope';
import { fromBase64Url } from '@helm/crypto/encoding';
import { type PublicKeyLookup, preAuthEncoding, verifyEnvelope } from '@helm/crypto/envelope';
import { digest, sha256Hex } from '@helm/crypto/hash';
import { canonicalBytes } from '@helm/crypto/jcs';
import { TrustError } from '@helm/trust/verify';
import { exportPublicKeyPem } from './keys.js';

export interface HashedRekordBody {
  readonly apiVersion: '0.0.1';
  readonly kind: 'hashedrekord';
  readonly spec: {
    readonly data: { readonly hash: { readonly algorithm: 'sha256'; readonly value: string } };
    readonly signature: { readonly content: string; readonly publicKey: { readonly content: string } };
  };
}

export interface CheckpointAnchor {
  /** digest(JCS(envelope)) — the checkpoint hash the anchor commits to. */
  readonly checkpointHash: string;
  /** Key id of the checkpoint signer. */
  readonly keyid: string;
  /** The bytes the signature covers: PAE(type, payload). */
  readonly signedData: Uint8Array;
  /** The entry body to submit. */
  readonly body: HashedRekordBody;
  /** JCS bytes of `body`. */
  readonly bodyBytes: Uint8Array;
}

/**
 * Verify a signed checkpoint (exactly one signature, by a key `lookup` accepts — e.g.
 * `registry.lookupFor('checkpoint', seq)`) and build its hashedrekord entry body.
 */
export function prepareCheckpointAnchor(
  checkpoint: SignedEnvelope,
  lookup: PublicKeyLookup,
): CheckpointAnchor {
  if (!Array.isArray(checkpoint?.signatures) || checkpoint.signatures.length !== 1) {
    throw new TrustError('ANCHOR_INPUT_INVALID', 'a checkpoint to anchor carries exactly one signature');
  }
  const check = verifyEnvelope(checkpoint, CHECKPOINT_TYPE, lookup);
  if (!check.ok) throw new TrustError('ANCHOR_INPUT_INVALID', `checkpoint: ${check.code}`);
  const signature = checkpoint.signatures[0] as { keyid: string; sig: string };
  const publicKey = lookup(signature.keyid) as Uint8Array;
  const signedData = preAuthEncoding(checkpoint.type, fromBase64Url(checkpoint.payload) as Uint8Array);
  const body: HashedRekordBody = {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: sha256Hex(signedData) } },
      signature: {
        content: Buffer.from(fromBase64Url(signature.sig) as Uint8Array).toString('base64'),
        publicKey: { content: Buffer.from(exportPublicKeyPem(publicKey)).toString('base64') },
      },
    },
  };
  return {
    checkpointHash: digest(
      canonicalBytes({
        type: checkpoint.type,
        payload: checkpoint.payload,
        signatures: checkpoint.signatures,
      }),
    ),
    keyid: signature.keyid,
    signedData,
    body,
    bodyBytes: canonicalBytes(body),
  };
}
