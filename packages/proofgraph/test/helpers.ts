import type { SignedEnvelope } from '@helm/contracts';
import { createSigner, digest, type Signer, signEnvelope } from '@helm/crypto';

export const signerA: Signer = createSigner(new Uint8Array(32).fill(2));
export const signerB: Signer = createSigner(new Uint8Array(32).fill(3));

export const keysOf =
  (...signers: Signer[]) =>
  (keyid: string): Uint8Array | undefined =>
    signers.find((s) => s.keyId === keyid)?.publicKey;

export const d = (label: string): string => digest(new TextEncoder().encode(label));

export function decodeBody(env: SignedEnvelope): Record<string, unknown> {
  return JSON.parse(Buffer.from(env.payload, 'base64url').toString('utf8'));
}

export function resign(body: Record<string, unknown>, signer: Signer = signerA): SignedEnvelope {
  return signEnvelope(body as { type: string }, [signer]);
}
