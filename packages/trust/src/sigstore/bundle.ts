// Offline Sigstore bundle verification against a caller-supplied trusted root, including the Rekor
// inclusion proof / checkpoint, SCTs and RFC 3161 timestamps (via @sigstore/verify). Certificate
// validity is judged at the times proven by the bundle's tlog entries and TSA timestamps — never
// the wall clock. Identity and issuer are compared exactly (no patterns).

import { sha256Hex } from '@helm/crypto/hash';
import { type Bundle, bundleFromJSON } from '@sigstore/bundle';
import { pem, crypto as sigcrypto } from '@sigstore/core';
import { PolicyError, toSignedEntity, VerificationError, Verifier } from '@sigstore/verify';
import { asCheck, type SigstoreErrorCode, TrustError } from '../errors.js';
import { trustMaterialFromJSON } from './trusted-root.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** What the signer must be: exact certificate SAN and OIDC issuer (Fulcio extension). */
export interface SigstoreIdentity {
  readonly subjectAlternativeName: string;
  readonly issuer: string;
}

export interface SigstoreVerifyOptions {
  /** Trusted root JSON (`application/vnd.dev.sigstore.trustedroot+json`). */
  readonly trustedRoot: unknown;
  /**
   * The artifact. Message-signature bundles are verified over these bytes; for DSSE bundles the
   * SHA-256 of these bytes must appear in the in-toto statement's `subject[].digest.sha256`.
   */
  readonly artifact: Uint8Array;
  /** Required for certificate-based bundles (fail closed when absent). */
  readonly identity?: SigstoreIdentity;
  /** PEM public keys for managed-key bundles; matched by the bundle's key hint (base64 SHA-256 of the SPKI DER). */
  readonly publicKeys?: readonly string[];
  /** Minimum verified transparency-log entries (default 1). */
  readonly tlogThreshold?: number;
  /** Minimum verified timestamps — tlog integrated times or RFC 3161 (default 1). */
  readonly timestampThreshold?: number;
  /** Minimum SCTs for certificate bundles (default 1; ignored for public-key bundles). */
  readonly ctlogThreshold?: number;
}

export interface SigstoreVerification {
  readonly content: 'messageSignature' | 'dsseEnvelope';
  readonly verificationMaterial: 'certificate' | 'publicKey';
  /** Certificate identity, for certificate bundles. */
  readonly identity: SigstoreIdentity | null;
  /** DSSE payload type and decoded payload, for DSSE bundles. */
  readonly payloadType: string | null;
  readonly payload: Uint8Array | null;
  /** `sha256:<hex>` of the artifact. */
  readonly artifactDigest: string;
}

const ERROR_MAP = {
  NOT_IMPLEMENTED_ERROR: 'SIGSTORE_BUNDLE_MALFORMED',
  TLOG_ERROR: 'SIGSTORE_TLOG_INVALID',
  TLOG_INCLUSION_PROOF_ERROR: 'SIGSTORE_TLOG_INVALID',
  TLOG_INCLUSION_PROMISE_ERROR: 'SIGSTORE_TLOG_INVALID',
  TLOG_MISSING_INCLUSION_ERROR: 'SIGSTORE_TLOG_INVALID',
  TLOG_BODY_ERROR: 'SIGSTORE_TLOG_INVALID',
  CERTIFICATE_ERROR: 'SIGSTORE_CERTIFICATE_INVALID',
  PUBLIC_KEY_ERROR: 'SIGSTORE_PUBLIC_KEY_INVALID',
  SIGNATURE_ERROR: 'SIGSTORE_SIGNATURE_INVALID',
  TIMESTAMP_ERROR: 'SIGSTORE_TIMESTAMP_INVALID',
} as const;

function keyHint(pemText: string): string {
  sigcrypto.createPublicKey(pemText); // throws unless it is a usable PEM public key
  return Buffer.from(sigcrypto.digest('sha256', pem.toDER(pemText))).toString('base64');
}

function parseBundle(json: unknown): Bundle {
  try {
    return bundleFromJSON(json);
  } catch (error) {
    throw new TrustError('SIGSTORE_BUNDLE_MALFORMED', `bundle: ${(error as Error).message}`);
  }
}

function threshold(value: number | undefined, fallback: number, what: string): number {
  const t = value ?? fallback;
  if (!Number.isSafeInteger(t) || t < 0)
    throw new TrustError('SIGSTORE_POLICY_INVALID', `${what} must be an integer ≥ 0`);
  return t;
}

/** Does the in-toto statement in `payload` list `sha256Hex` among its subjects? */
function statementHasSubject(payload: Uint8Array, artifactSha256: string): boolean {
  let statement: unknown;
  try {
    statement = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    return false;
  }
  const subjects = (statement as { subject?: unknown })?.subject;
  if (!Array.isArray(subjects)) return false;
  return subjects.some((s) => (s as { digest?: { sha256?: unknown } })?.digest?.sha256 === artifactSha256);
}

/** The answer of verifySigstoreBundle: what the bundle proves, or the first SIGSTORE_* failure. */
export type SigstoreCheck =
  | ({ readonly ok: true } & SigstoreVerification)
  | { readonly ok: false; readonly code: SigstoreErrorCode; readonly message: string };

/**
 * Verify a Sigstore bundle offline against `options` (trusted root, artifact, identity or keys,
 * thresholds). Never throws on its input: a failure is `{ ok: false, code, message }` with a
 * SIGSTORE_* code (`reasonCodeFor(code)`: ARTIFACT_PROVENANCE_INVALID).
 */
export function verifySigstoreBundle(bundleJson: unknown, options: SigstoreVerifyOptions): SigstoreCheck {
  return asCheck<SigstoreVerification, SigstoreErrorCode>('SIGSTORE_', () =>
    verifiedBundle(bundleJson, options),
  );
}

function verifiedBundle(bundleJson: unknown, options: SigstoreVerifyOptions): SigstoreVerification {
  const bundle = parseBundle(bundleJson);
  const artifact = Buffer.from(
    options.artifact.buffer,
    options.artifact.byteOffset,
    options.artifact.byteLength,
  );
  const artifactSha256 = sha256Hex(options.artifact);
  const material = bundle.verificationMaterial.content.$case === 'publicKey' ? 'publicKey' : 'certificate';
  if (material === 'certificate' && !options.identity) {
    throw new TrustError(
      'SIGSTORE_POLICY_INVALID',
      'a certificate bundle needs an expected identity and issuer',
    );
  }
  const verifier = verifierFor(options, material);
  const content = bundle.content;
  let signer: ReturnType<Verifier['verify']>;
  try {
    const entity = toSignedEntity(bundle, content.$case === 'messageSignature' ? artifact : undefined);
    signer = verifier.verify(entity);
  } catch (error) {
    if (error instanceof TrustError) throw error;
    if (error instanceof VerificationError) {
      throw new TrustError(ERROR_MAP[error.code], `${error.code}: ${error.message}`);
    }
    if (error instanceof PolicyError) throw new TrustError('SIGSTORE_IDENTITY_MISMATCH', error.message);
    throw new TrustError('SIGSTORE_BUNDLE_MALFORMED', `verification failed: ${(error as Error)?.message}`);
  }
  const identity = material === 'certificate' ? certificateIdentity(signer, options) : null;
  if (content.$case === 'dsseEnvelope') {
    const envelope = content.dsseEnvelope;
    const payload = new Uint8Array(envelope.payload);
    if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE || !statementHasSubject(payload, artifactSha256)) {
      throw new TrustError(
        'SIGSTORE_SUBJECT_MISMATCH',
        'the in-toto statement does not name the artifact digest',
      );
    }
    return {
      content: 'dsseEnvelope',
      verificationMaterial: material,
      identity,
      payloadType: envelope.payloadType,
      payload,
      artifactDigest: `sha256:${artifactSha256}`,
    };
  }
  const md = content.messageSignature.messageDigest;
  if (md && md.digest.length > 0 && Buffer.from(md.digest).toString('hex') !== artifactSha256) {
    // Only SHA-256 digests are produced by Sigstore clients for these bundles; anything else fails closed.
    throw new TrustError(
      'SIGSTORE_SUBJECT_MISMATCH',
      'the bundle message digest is not the artifact SHA-256',
    );
  }
  return {
    content: 'messageSignature',
    verificationMaterial: material,
    identity,
    payloadType: null,
    payload: null,
    artifactDigest: `sha256:${artifactSha256}`,
  };
}

/** The `@sigstore/verify` verifier for the trusted root, supplied keys and thresholds of `options`. */
function verifierFor(options: SigstoreVerifyOptions, material: 'publicKey' | 'certificate'): Verifier {
  const keys = new Map<string, string>();
  for (const k of options.publicKeys ?? []) {
    try {
      keys.set(keyHint(k), k);
    } catch {
      throw new TrustError('SIGSTORE_POLICY_INVALID', 'a supplied public key is not PEM');
    }
  }
  const trust = trustMaterialFromJSON(options.trustedRoot, (hint) => {
    const key = keys.get(hint);
    if (!key) throw new TrustError('SIGSTORE_PUBLIC_KEY_INVALID', `no supplied public key has hint ${hint}`);
    return { publicKey: sigcrypto.createPublicKey(key), validFor: () => true };
  });
  return new Verifier(trust, {
    tlogThreshold: threshold(options.tlogThreshold, 1, 'tlogThreshold'),
    timestampThreshold: threshold(options.timestampThreshold, 1, 'timestampThreshold'),
    ctlogThreshold: material === 'certificate' ? threshold(options.ctlogThreshold, 1, 'ctlogThreshold') : 0,
  });
}

/** The certificate's identity, which must be the expected one (SIGSTORE_IDENTITY_MISMATCH). */
function certificateIdentity(
  signer: ReturnType<Verifier['verify']>,
  options: SigstoreVerifyOptions,
): SigstoreIdentity {
  const expected = options.identity as SigstoreIdentity;
  const san = signer.identity?.subjectAlternativeName;
  const issuer = signer.identity?.extensions?.issuer;
  if (san !== expected.subjectAlternativeName || issuer !== expected.issuer) {
    throw new TrustError(
      'SIGSTORE_IDENTITY_MISMATCH',
      `signer ${String(san)} (issuer ${String(issuer)}) is not ${expected.subjectAlternativeName} (${expected.issuer})`,
    );
  }
  return { subjectAlternativeName: san, issuer };
}
