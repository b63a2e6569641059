// Converts a Sigstore trusted root (`application/vnd.dev.sigstore.trustedroot+json;version=0.1`,
// protobuf-specs JSON) into @sigstore/verify's TrustMaterial. The caller supplies the root (e.g.
// fetched through TUF); nothing here reaches the network or the wall clock.
import { crypto as sigcrypto, X509Certificate } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';
import { TrustError } from '../errors.js';

type TLogAuthority = TrustMaterial['tlogs'][number];
type CertAuthority = TrustMaterial['certificateAuthorities'][number];
type KeyFinder = TrustMaterial['publicKey'];

const BEGINNING = 0;
const END = 8_640_000_000_000_000;
const PKCS1_KEYS = new Set([
  'PKCS1_RSA_PKCS1V5',
  'PKIX_RSA_PKCS1V5',
  'PKIX_RSA_PKCS1V15_2048_SHA256',
  'PKIX_RSA_PKCS1V15_3072_SHA256',
  'PKIX_RSA_PKCS1V15_4096_SHA256',
]);

function malformed(message: string): TrustError {
  return new TrustError('SIGSTORE_TRUST_ROOT_MALFORMED', message);
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw malformed(`${what} must be an object`);
  return value as Record<string, unknown>;
}

function list(value: unknown, what: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw malformed(`${what} must be an array`);
  return value;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
function bytes(value: unknown, what: string): Buffer<ArrayBuffer> {
  if (typeof value !== 'string' || value.length === 0 || !BASE64.test(value))
    throw malformed(`${what} must be base64`);
  return Buffer.from(value, 'base64') as Buffer<ArrayBuffer>;
}

/** A Date for an RFC 3339 instant (never the wall clock). */
function instant(value: unknown, fallback: number, what: string): Date {
  if (value === undefined) return new Date(fallback);
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw malformed(`${what} is not an RFC 3339 time`);
  return new Date(ms);
}

function validity(value: unknown, what: string): { start: Date; end: Date } {
  const v = value === undefined ? {} : record(value, what);
  return { start: instant(v.start, BEGINNING, `${what}.start`), end: instant(v.end, END, `${what}.end`) };
}

function tlogAuthority(value: unknown, what: string): TLogAuthority {
  const t = record(value, what);
  const key = record(t.publicKey, `${what}.publicKey`);
  const logId = record(t.logId, `${what}.logId`);
  const checkpointKeyId =
    t.checkpointKeyId === undefined ? undefined : record(t.checkpointKeyId, `${what}.checkpointKeyId`);
  const keyType = typeof key.keyDetails === 'string' && PKCS1_KEYS.has(key.keyDetails) ? 'pkcs1' : 'spki';
  let publicKey: ReturnType<typeof sigcrypto.createPublicKey>;
  try {
    publicKey = sigcrypto.createPublicKey(bytes(key.rawBytes, `${what}.publicKey.rawBytes`), keyType);
  } catch (error) {
    if (error instanceof TrustError) throw error;
    throw malformed(`${what}.publicKey is not a usable public key`);
  }
  return {
    baseURL: typeof t.baseUrl === 'string' ? t.baseUrl : '',
    logID: bytes(checkpointKeyId ? checkpointKeyId.keyId : logId.keyId, `${what}.logId.keyId`),
    publicKey,
    validFor: validity(key.validFor, `${what}.publicKey.validFor`),
  };
}

function certAuthority(value: unknown, what: string): CertAuthority {
  const ca = record(value, what);
  const chain = record(ca.certChain, `${what}.certChain`);
  const certs = list(chain.certificates, `${what}.certChain.certificates`);
  if (certs.length === 0) throw malformed(`${what} has no certificates`);
  return {
    certChain: certs.map((c, i) => {
      const raw = bytes(
        record(c, `${what}.certificates[${i}]`).rawBytes,
        `${what}.certificates[${i}].rawBytes`,
      );
      try {
        return X509Certificate.parse(raw);
      } catch {
        throw malformed(`${what}.certificates[${i}] is not a DER certificate`);
      }
    }),
    validFor: validity(ca.validFor, `${what}.validFor`),
  };
}

/**
 * Build @sigstore/verify trust material from trusted-root JSON. `publicKey` resolves the key hint
 * of public-key bundles (managed keys); it is only consulted for such bundles.
 */
export function trustMaterialFromJSON(json: unknown, publicKey: KeyFinder): TrustMaterial {
  const root = record(json, 'trusted root');
  if (
    typeof root.mediaType !== 'string' ||
    !root.mediaType.startsWith('application/vnd.dev.sigstore.trustedroot')
  ) {
    throw malformed('not a Sigstore trusted root (mediaType)');
  }
  return {
    certificateAuthorities: list(root.certificateAuthorities, 'certificateAuthorities').map((v, i) =>
      certAuthority(v, `certificateAuthorities[${i}]`),
    ),
    timestampAuthorities: list(root.timestampAuthorities, 'timestampAuthorities').map((v, i) =>
      certAuthority(v, `timestampAuthorities[${i}]`),
    ),
    tlogs: list(root.tlogs, 'tlogs').map((v, i) => tlogAuthority(v, `tlogs[${i}]`)),
    ctlogs: list(root.ctlogs, 'ctlogs').map((v, i) => tlogAuthority(v, `ctlogs[${i}]`)),
    publicKey,
  };
}
