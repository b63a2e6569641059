// Signing envelopes (normative: docs/spec/envelope.md): canonicalize the body, sign
// PAE(type, payload) with every signer and assemble a frozen envelope. Kept apart from envelope.ts
// so that a verifier's import closure holds no signing code.
import type { SignedEnvelope } from '@helm/contracts/envelope';
import { MAX_ENVELOPE_SIGNATURES } from '@helm/contracts/wire';
import type { AsyncSigner, Signer } from './ed25519.js';
import { toBase64Url } from './encoding.js';
import { isEnvelopeType, preAuthEncoding, type TypedBody } from './envelope-open.js';
import { CryptoError } from './errors.js';
import { identifiedCanonicalText } from './fast/identified.js';
import { canonicalize } from './jcs.js';

const encoder = new TextEncoder();

function checkSigners(type: string, signerCount: number): void {
  if (!isEnvelopeType(type)) {
    throw new CryptoError('ENVELOPE_MALFORMED', 'envelope body needs a helm.<name>.v<N> type');
  }
  if (signerCount === 0) throw new CryptoError('ENVELOPE_MALFORMED', 'at least one signer is required');
  if (signerCount > MAX_ENVELOPE_SIGNATURES) {
    throw new CryptoError('ENVELOPE_MALFORMED', `at most ${MAX_ENVELOPE_SIGNATURES} signers`);
  }
}

function bodyType(body: TypedBody): string {
  if (typeof body !== 'object' || body === null || typeof body.type !== 'string') {
    throw new CryptoError('ENVELOPE_MALFORMED', 'envelope body needs a helm.<name>.v<N> type');
  }
  return body.type;
}

function prepare(body: TypedBody, signerCount: number): { payload: Uint8Array; pae: Uint8Array } {
  const type = bodyType(body);
  checkSigners(type, signerCount);
  const payload = encoder.encode(canonicalize(body));
  return { payload, pae: preAuthEncoding(type, payload) };
}

function assemble(
  type: string,
  payload: Uint8Array,
  signers: readonly (Signer | AsyncSigner)[],
  sigs: readonly Uint8Array[],
): SignedEnvelope {
  const signatures = signers.map((signer, i) =>
    Object.freeze({ keyid: signer.keyId, sig: toBase64Url(sigs[i] as Uint8Array) }),
  );
  return Object.freeze({ type, payload: toBase64Url(payload), signatures: Object.freeze(signatures) });
}

function checkDistinct(signers: readonly { keyId: string }[]): void {
  if (signers.length < 2) return;
  const ids = new Set(signers.map((s) => s.keyId));
  if (ids.size !== signers.length) throw new CryptoError('ENVELOPE_MALFORMED', 'duplicate signer');
}

function signatureBytes(sig: unknown, keyId: string): Uint8Array {
  if (!(sig instanceof Uint8Array) || sig.length !== 64) {
    throw new CryptoError('SIGNER_FAILED', `signer ${keyId} did not return a 64-byte signature`);
  }
  return sig;
}

function signerFailed(keyId: string, cause: unknown): never {
  if (cause instanceof CryptoError) throw cause;
  throw new CryptoError('SIGNER_FAILED', `signer ${keyId} failed`, { cause });
}

function signSync(signer: Signer, pae: Uint8Array): Uint8Array {
  let sig: unknown;
  try {
    sig = signer.sign(pae);
  } catch (error) {
    signerFailed(signer.keyId, error);
  }
  return signatureBytes(sig, signer.keyId);
}

function signAll(signers: readonly Signer[], pae: Uint8Array): Uint8Array[] {
  const sigs: Uint8Array[] = [];
  for (const signer of signers) sigs.push(signSync(signer, pae));
  return sigs;
}

async function signAny(signer: Signer | AsyncSigner, pae: Uint8Array): Promise<Uint8Array> {
  let sig: unknown;
  try {
    sig = await signer.sign(pae);
  } catch (error) {
    signerFailed(signer.keyId, error);
  }
  return signatureBytes(sig, signer.keyId);
}

/**
 * Canonicalize `body` (whose `type` is the domain separator) and sign it with every signer. The
 * returned envelope is frozen.
 *
 * @example
 * ```ts
 * import { createSigner } from '@helm/crypto/ed25519-sign';
 * import { signEnvelope } from '@helm/crypto/envelope-sign';
 *
 * declare const seed: Uint8Array; // 32 bytes from your entropy source
 * const envelope = signEnvelope({ type: 'helm.example.v1', value: 1 }, [createSigner(seed)]);
 * console.log(envelope.signatures[0]?.keyid);
 * ```
 */
export function signEnvelope<T extends TypedBody>(body: T, signers: readonly Signer[]): SignedEnvelope {
  const { payload, pae } = prepare(body, signers.length);
  checkDistinct(signers);
  return assemble(body.type, payload, signers, signAll(signers, pae));
}

export interface IdentifiedEnvelope<T, K extends string> {
  /** `body` with `idField` set to `id`. */
  readonly body: T & { readonly [field in K]: string };
  /** digest(JCS(body without the id field)) — the content-derived id. */
  readonly id: string;
  readonly envelope: SignedEnvelope;
}

/**
 * The content-addressed record pattern: id = digest(JCS(body)), then sign `{...body, [idField]:
 * id}` exactly as signEnvelope would (docs/spec/envelope.md §4). `body` must not have `idField`.
 * The canonical text comes from fast/identified.ts (each member serialized once).
 */
export function signIdentifiedEnvelope<T extends TypedBody, K extends string>(
  body: T,
  idField: K,
  signers: readonly Signer[],
): IdentifiedEnvelope<T, K> {
  const type = bodyType(body);
  checkSigners(type, signers.length);
  checkDistinct(signers);
  if (Object.hasOwn(body, idField)) {
    throw new CryptoError('ENVELOPE_MALFORMED', `the body already has ${idField}`);
  }
  const { id, text } = identifiedCanonicalText(body, idField);
  const payload = encoder.encode(text);
  const envelope = assemble(type, payload, signers, signAll(signers, preAuthEncoding(type, payload)));
  return { body: { ...body, [idField]: id } as IdentifiedEnvelope<T, K>['body'], id, envelope };
}

/** signEnvelope for signers that may be remote (KMS/HSM/approver devices); signs in parallel. */
export async function signEnvelopeAsync<T extends TypedBody>(
  body: T,
  signers: readonly (Signer | AsyncSigner)[],
): Promise<SignedEnvelope> {
  const { payload, pae } = prepare(body, signers.length);
  checkDistinct(signers);
  const sigs = await Promise.all(signers.map((s) => signAny(s, pae)));
  return assemble(body.type, payload, signers, sigs);
}
