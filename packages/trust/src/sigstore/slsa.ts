// SLSA v1 provenance verification: an in-toto Statement v1 in a DSSE envelope. The DSSE signature
// (over PAE(payloadType, payload)) is verified with trusted Ed25519 keys *before* the statement is
// parsed; then the predicate type, the subject digest of the artifact, the builder identity, the
// build type (one we know) and the source that build type defines are checked against exact
// expectations. Normative notes: README.md.

import { verifyEd25519 } from '@helm/crypto/ed25519';
import { bytesEqual } from '@helm/crypto/encoding';
import { isDigest } from '@helm/crypto/hash';
import { dsse } from '@sigstore/core';
import { asCheck, type SlsaErrorCode, TrustError } from '../errors.js';
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
  /** Exact source repository URI (e.g. `https://github.com/acme/tools`): `externalParameters.workflow.repository`. */
  readonly sourceRepository: string;
  /** Exact source ref (e.g. `refs/heads/main`): `externalParameters.workflow.ref`; any ref when omitted. */
  readonly sourceRef?: string;
  /** Exact workflow file path (e.g. `.github/workflows/release.yml`); any path when omitted. */
  readonly sourcePath?: string;
  /** Exact `buildDefinition.buildType` (one of `SLSA_BUILD_TYPES`); any accepted build type when omitted. */
  readonly buildType?: string;
}

/** Resolves a DSSE key id to a trusted raw Ed25519 public key (e.g. `registry.lookupFor(role, h)`). */
export type SlsaKeyLookup = (keyid: string) => Uint8Array | undefined;

/** The source a build type defines: the workflow that ran (repository, git ref, file path). */
export interface SlsaSource {
  readonly repository: string;
  readonly ref: string;
  readonly path: string;
}

export interface SlsaVerification {
  /** One key id per distinct trusted public key whose signature verified (sorted). */
  readonly keyIds: readonly string[];
  readonly builderId: string;
  readonly buildType: string;
  readonly source: SlsaSource;
  readonly subjectName: string;
  readonly statement: Record<string, unknown>;
}

/**
 * The build types this verifier accepts, each with the external parameters it defines. Both are
 * GitHub Actions workflow build types whose source is `externalParameters.workflow`
 * (`{repository, ref, path}`, all required): the SLSA community definition used by
 * slsa-github-generator and GitHub's own (artifact attestations). Any other build type is refused
 * (`SLSA_BUILD_TYPE_UNSUPPORTED`): for a build type we do not know we cannot tell which parameter
 * names the source, and `resolvedDependencies` only lists inputs — any of them could be named
 * there, so none of them is taken as the source.
 */
const BUILD_TYPES: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  [
    'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1',
    new Set(['workflow', 'inputs', 'release', 'vars']),
  ],
  ['https://actions.github.io/buildtypes/workflow/v1', new Set(['workflow', 'runner_environment'])],
]);

/** The SLSA v1 build types `verifySlsaProvenance` accepts. */
export const SLSA_BUILD_TYPES: readonly string[] = Object.freeze([...BUILD_TYPES.keys()]);

const WORKFLOW_FIELDS = ['path', 'ref', 'repository'];

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

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/**
 * The source the build type defines — `externalParameters.workflow` — validated: every external
 * parameter must be one the build type defines (its definition says consumers should reject
 * others), and `workflow` has exactly `repository`, `ref` (a `refs/` git ref) and `path`.
 */
function workflowSource(build: Record<string, unknown>, buildType: string): SlsaSource {
  const defined = BUILD_TYPES.get(buildType) as ReadonlySet<string>;
  const external = obj(build.externalParameters);
  if (!external) throw new TrustError('SLSA_STATEMENT_MALFORMED', 'missing externalParameters');
  for (const name of Object.keys(external)) {
    if (!defined.has(name)) {
      throw new TrustError(
        'SLSA_STATEMENT_MALFORMED',
        `externalParameters.${name} is not a parameter of ${buildType}`,
      );
    }
  }
  if ('inputs' in external && 'release' in external) {
    throw new TrustError('SLSA_STATEMENT_MALFORMED', 'at most one of inputs and release may be set');
  }
  const workflow = obj(external.workflow);
  const fields = workflow ? Object.keys(workflow).sort() : [];
  if (
    !workflow ||
    fields.length !== WORKFLOW_FIELDS.length ||
    fields.some((f, i) => f !== WORKFLOW_FIELDS[i]) ||
    !nonEmpty(workflow.repository) ||
    !nonEmpty(workflow.path) ||
    !nonEmpty(workflow.ref) ||
    !workflow.ref.startsWith('refs/')
  ) {
    throw new TrustError(
      'SLSA_SOURCE_MISMATCH',
      'externalParameters.workflow must be exactly {repository, ref: refs/…, path}, all non-empty strings',
    );
  }
  return { repository: workflow.repository, ref: workflow.ref, path: workflow.path };
}

/**
 * Key ids of the distinct trusted public keys whose signature verifies over `pae`. A key counts
 * once however many key ids or signatures name it (the rule `@helm/crypto`'s envelope verifier
 * applies: thresholds count distinct keys, not ids); signatures by unknown keys do not count.
 */
function distinctSigningKeys(signatures: readonly unknown[], pae: Uint8Array, keys: SlsaKeyLookup): string[] {
  const counted: Uint8Array[] = [];
  const ids: string[] = [];
  for (const s of signatures) {
    const sig = obj(s);
    const keyid = sig?.keyid;
    if (typeof keyid !== 'string') continue;
    const key = keys(keyid);
    if (!(key instanceof Uint8Array) || key.length !== 32) continue;
    if (!verifyEd25519(key, pae, new Uint8Array(b64(sig?.sig, 'signature'))).ok) continue;
    if (counted.some((k) => bytesEqual(k, key))) continue;
    counted.push(Uint8Array.from(key));
    ids.push(keyid);
  }
  return ids;
}

/** The answer of verifySlsaProvenance: what the provenance proves, or the first SLSA_* failure. */
export type SlsaCheck =
  | ({ readonly ok: true } & SlsaVerification)
  | { readonly ok: false; readonly code: SlsaErrorCode; readonly message: string };

/**
 * Verify SLSA v1 provenance for `artifactDigest` (`sha256:<hex>`). At least `threshold` distinct
 * trusted public keys must have signed the DSSE envelope (signatures by unknown keys do not count;
 * one key named by several key ids counts once). Never throws on its input: a failure is
 * `{ ok: false, code, message }` with an SLSA_* code (`reasonCodeFor(code)`:
 * ARTIFACT_PROVENANCE_INVALID).
 */
export function verifySlsaProvenance(
  envelope: unknown,
  artifactDigest: string,
  expectations: SlsaExpectations,
  keys: SlsaKeyLookup,
  threshold = 1,
): SlsaCheck {
  return asCheck<SlsaVerification, SlsaErrorCode>('SLSA_', () =>
    verifiedProvenance(envelope, artifactDigest, expectations, keys, threshold),
  );
}

/**
 * The in-toto Statement v1 a DSSE envelope carries, once `threshold` distinct trusted keys signed it;
 * `good` are those keys, `subjects` its subject list.
 */
function signedStatement(
  envelope: unknown,
  keys: SlsaKeyLookup,
  threshold: number,
): { statement: Record<string, unknown>; subjects: unknown[]; good: string[] } {
  const env = obj(envelope);
  if (!env || typeof env.payloadType !== 'string' || !Array.isArray(env.signatures)) {
    throw new TrustError('SLSA_ENVELOPE_MALFORMED', 'not a DSSE envelope');
  }
  const payload = b64(env.payload, 'payload');
  const pae = new Uint8Array(dsse.preAuthEncoding(env.payloadType, payload));
  const good = distinctSigningKeys(env.signatures, pae, keys);
  if (good.length < threshold) {
    throw new TrustError(
      'SLSA_SIGNATURE_INVALID',
      `${good.length} distinct trusted keys signed, ${threshold} required`,
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
  return { statement, subjects: statement.subject, good };
}

function verifiedProvenance(
  envelope: unknown,
  artifactDigest: string,
  expectations: SlsaExpectations,
  keys: SlsaKeyLookup,
  threshold: number,
): SlsaVerification {
  if (!isDigest(artifactDigest))
    throw new TrustError('SLSA_SUBJECT_MISMATCH', 'artifact digest must be sha256:<hex>');
  if (!Number.isSafeInteger(threshold) || threshold < 1) {
    throw new TrustError('SLSA_ENVELOPE_MALFORMED', 'threshold must be an integer ≥ 1');
  }
  const { statement, subjects, good } = signedStatement(envelope, keys, threshold);
  if (statement.predicateType !== SLSA_PROVENANCE_V1) {
    throw new TrustError('SLSA_PREDICATE_TYPE_INVALID', `predicateType ${String(statement.predicateType)}`);
  }
  const predicate = obj(statement.predicate);
  if (!predicate) throw new TrustError('SLSA_STATEMENT_MALFORMED', 'missing predicate');
  const hex = artifactDigest.slice('sha256:'.length);
  const subject = subjects.map(obj).find((s) => obj(s?.digest)?.sha256 === hex);
  if (!subject) throw new TrustError('SLSA_SUBJECT_MISMATCH', `no subject has digest ${artifactDigest}`);
  const builderId = obj(obj(predicate.runDetails)?.builder)?.id;
  if (builderId !== expectations.builderId) {
    throw new TrustError(
      'SLSA_BUILDER_MISMATCH',
      `builder ${String(builderId)} is not ${expectations.builderId}`,
    );
  }
  const build = obj(predicate.buildDefinition);
  const buildType = build?.buildType;
  if (!build || typeof buildType !== 'string') {
    throw new TrustError('SLSA_STATEMENT_MALFORMED', 'missing buildType');
  }
  if (!BUILD_TYPES.has(buildType)) {
    throw new TrustError(
      'SLSA_BUILD_TYPE_UNSUPPORTED',
      `buildType ${buildType} is not one of ${SLSA_BUILD_TYPES.join(', ')}`,
    );
  }
  if (expectations.buildType !== undefined && buildType !== expectations.buildType) {
    throw new TrustError('SLSA_BUILDER_MISMATCH', `buildType ${buildType} is not ${expectations.buildType}`);
  }
  const source = workflowSource(build, buildType);
  if (
    source.repository !== expectations.sourceRepository ||
    (expectations.sourceRef !== undefined && source.ref !== expectations.sourceRef) ||
    (expectations.sourcePath !== undefined && source.path !== expectations.sourcePath)
  ) {
    throw new TrustError(
      'SLSA_SOURCE_MISMATCH',
      `source ${source.repository}@${source.ref}:${source.path} is not the expected one`,
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
