// Deterministic published test keys: seed i = 32 bytes of value i (docs/spec/trust-event.md).
import { createSigner, type Signer } from '@helm/crypto';

export function seed(i: number): Uint8Array {
  return new Uint8Array(32).fill(i);
}

export function signer(i: number): Signer {
  return createSigner(seed(i));
}
