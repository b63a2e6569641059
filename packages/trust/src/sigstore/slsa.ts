// SLSA v1 provenance verification: an in-toto Statement v1 in a DSSE envelope. The DSSE signature
// (over PAE(payloadType, payload)) is verified with trusted Ed25519 keys *before* the statement is
// parsed; then the predicate type, the subject digest of the artifact, the builder identity and
// the source repository/ref are checked against exact expectations. Normative notes: README.md.

import { isDigest, verifyEd25519 } from '@helm/crypto';
import { dsse } from '@sigstore/core';
import { TrustError } from '../errors.js';
import { IN_TOTO_PAYLOAD_TYPE } from './bundle.js';

export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';

/** A DSSE envelope as JSON: base64 payload and signatures. */
export interface DsseEnvelope {
  readonly payloadType: string;
  readonly payload: string;
  readonly signatures: readonly { readonly keyid?: string; readonly sig: string }[];
}

export interface SlsaExpectations {
  /** Exact `runDetails.builder.id`. */
  readonly builderId: string;
  /** Exact source repository URI (e.g. `https://github.com/acme/tools`). */
  readonly sourceRepository: string;
  /** Exact source ref (e.g. `refs/heads/main`); any ref when omitted. */
  readonly sourceRef?: string;
  /** Exact `buildDefinition.buildType`; any when omitted. */
  readonly buildType?: string;
}

/** Resolves a DSSE key id to a trusted raw Ed25519 public key (e.g. `registry.lookupFor(role, h)`). */
export type SlsaKeyLookup = (keyid: string) => Uint8Array | undefined;

export interface SlsaVerification {
  readonly keyIds: readonly string[];
  readonly builderId: string;
  readonly buildType: string;
  readonly source: { readonly repository: string; readonly ref: string };
  readonly subjectName: string;
  readonly statement: Record<string, unknown>;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function b64(value: unknown, what: string): Buffer<ArrayBuffer> {
  if (typeof value !== 'string' || !BASE64.test(value)) {
    throw new TrustError('SLSA_ENVELOPE_MALFORMED', `${what} is not base64`);
  }
  return Buffer.from(value, 'base64') as Buffer<ArrayBuffer>;
}

function obj(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Source (repository, ref) pairs named by the provenance. */
function sources(predicate: Record<string, unknown>): { repository: string; ref: string }[] {
  const out: { repository: string; ref: string }[] = [];
  const build = obj(predicate.buildDefinition);
  // GitHub Actions build type: externalParameters.workflow.{repository, ref}
  const workflow = obj(obj(build?.externalParameters)?.workflow);
  if (typeof workflow?.repository === 'string' && typeof workflow.ref === 'string') {
    out.push({ repository: workflow.repository, ref: workflow.ref });
  }
  // Generic: resolvedDependencies[].uri of the form git+<repository>@<ref>
  const deps = build?.resolvedDependencies;
  if (Array.isArray(deps)) {
    for (const dep of deps) {
      const uri = obj(dep)?.uri;
      if (typeof uri !== 'string' || !uri.startsWith('git+')) continue;
      const at = uri.lastIndexOf('@');
      if (at <= 4) continue;
      out.push({ repository: uri.slice(4, at), ref: uri.slice(at + 1) });
    }
  }
  return out;
}

/**
 * Verify SLSA v1 provenance for `artifactDigest` (`sha256:<hex>`). At least `threshold` distinct
 * trusted keys must have signed the DSSE envelope (signatures by unknown keys do not count).
 */
export function verifySlsaProvenance(
  envelope: unknown,
  artifactDigest: string,
  expectations: SlsaExpectations,
  keys: SlsaKeyLookup,
  threshold = 1,
): SlsaVerification {
  if (!isDigest(artifactDigest))
    throw new TrustError('SLSA_SUBJECT_MISMATCH', 'artifact digest must be sha256:<hex>');
  if (!Number.isSafeInteger(threshold) || threshold < 1) {
    throw new TrustError('SLSA_ENVELOPE_MALFORMED', 'threshold must be an integer ≥ 1');
  }
  const env = obj(envelope);
  if (!env || typeof env.payloadType !== 'string' || !Array.isArray(env.signatures)) {
    throw new TrustError('SLSA_ENVELOPE_MALFORMED', 'not a DSSE envelope');
  }
  const payload = b64(env.payload, 'payload');
  const pae = new Uint8Array(dsse.preAuthEncoding(env.payloadType, payload));
  const good = new Set<string>();
  for (const s of env.signatures) {
    const sig = obj(s);
    const keyid = sig?.keyid;
    if (typeof keyid !== 'string') continue;
    const key = keys(keyid);
    if (key && verifyEd25519(key, pae, new Uint8Array(b64(sig?.sig, 'signature')))) good.add(keyid);
  }
  if (good.size < threshold) {
    throw new TrustError(
      'SLSA_SIGNATURE_INVALID',
      `${good.size} trusted signatures verify, ${threshold} required`,
    );
  }
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new TrustError('SLSA_STATEMENT_MALFORMED', `payloadType ${env.payloadType} is not in-toto`);
  }
  let statement: Record<string, unknown> | undefined;
  try {
    statement = obj(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload)));
  } catch {
    statement = undefined;
  }
  if (!statement || statement._type !== IN_TOTO_STATEMENT_V1 || !Array.isArray(statement.subject)) {
    throw new TrustError('SLSA_STATEMENT_MALFORMED', 'payload is not an in-toto Statement v1');
  }
  if (statement.predicateType !== SLSA_PROVENANCE_V1) {
    throw new TrustError('SLSA_PREDICATE_TYPE_INVALID', `predicateType ${String(statement.predicateType)}`);
  }
  const predicate = obj(statement.predicate);
  if (!predicate) throw new TrustError('SLSA_STATEMENT_MALFORMED', 'missing predicate');
  const hex = artifactDigest.slice('sha256:'.length);
  const subject = statement.subject.map(obj).find((s) => obj(s?.digest)?.sha256 === hex);
  if (!subject) throw new TrustError('SLSA_SUBJECT_MISMATCH', `no subject has digest ${artifactDigest}`);
  const builderId = obj(obj(predicate.runDetails)?.builder)?.id;
  if (builderId !== expectations.builderId) {
    throw new TrustError(
      'SLSA_BUILDER_MISMATCH',
      `builder ${String(builderId)} is not ${expectations.builderId}`,
    );
  }
  const buildType = obj(predicate.buildDefinition)?.buildType;
  if (typeof buildType !== 'string') throw new TrustError('SLSA_STATEMENT_MALFORMED', 'missing buildType');
  if (expectations.buildType !== undefined && buildType !== expectations.buildType) {
    throw new TrustError('SLSA_BUILDER_MISMATCH', `buildType ${buildType} is not ${expectations.buildType}`);
  }
  const source = sources(predicate).find(
    (s) =>
      s.repository === expectations.sourceRepository &&
      (expectations.sourceRef === undefined || s.ref === expectations.sourceRef),
  );
  if (!source) {
    throw new TrustError(
      'SLSA_SOURCE_MISMATCH',
      `no source ${expectations.sourceRepository}${expectations.sourceRef ? `@${expectations.sourceRef}` : ''}`,
    );
  }
  return {
    keyIds: [...good].sort(),
    builderId,
    buildType,
    source,
    subjectName: typeof subject.name === 'string' ? subject.name : '',
    statement,
  };
}
