// Who is calling (docs/api.md §Authentication): `Authorization: Bearer <token>`, where the token is
// either an API key (`helm_<id>_<secret>`, apikeys.ts) or an OIDC/JWT access token verified with
// `jose` against the configured JWKS (a file or an https URL), its issuer and audience. The
// identity fixes the principal and tenant of everything the request does.
import { readFileSync } from 'node:fs';
import { type DataDir, parseJson } from '@helm/runtime';
import { createLocalJWKSet, createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { API_KEY_SCOPES, type ApiKeyScope, authenticateApiKey } from './apikeys.js';
import { ServeError } from './errors.js';

export interface Identity {
  /** `apikey:<id>` or `jwt:<iss>#<sub>` — the rate-limit and audit key. */
  readonly id: string;
  readonly kind: 'apikey' | 'jwt';
  readonly principal: string;
  readonly tenant: string | null;
  readonly scopes: ReadonlySet<ApiKeyScope>;
  /** Identity-binding credential its calls present (null: the principal's bound credential). */
  readonly credential: string | null;
  /** The identity provider says the subject passed MFA (JWT `amr` holds mfa, otp or hwk). */
  readonly mfa: boolean;
}

/** OIDC/JWT bearer configuration (`helmts serve --jwks … --issuer … --audience …`). */
export interface OidcOptions {
  /** A JWKS file path, or an https:// URL (fetched and cached by jose). */
  readonly jwks: string;
  readonly issuer: string;
  readonly audience: string;
  /** Claim holding the tenant (default `tenant`). */
  readonly tenantClaim?: string;
}

export type Authenticator = (authorization: string | undefined) => Promise<Identity>;

function jwksOf(source: string): JWTVerifyGetKey {
  if (/^https?:\/\//.test(source)) return createRemoteJWKSet(new URL(source));
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(source));
  } catch {
    throw new ServeError('CONFIG_INVALID', `cannot read the JWKS file ${source}`);
  }
  try {
    return createLocalJWKSet(parseJson(bytes, source) as never);
  } catch {
    throw new ServeError('CONFIG_INVALID', `the JWKS file ${source} is not a JSON Web Key Set`);
  }
}

function scopesOf(claims: Record<string, unknown>): Set<ApiKeyScope> {
  const raw = claims.scope ?? claims.scp;
  const list = typeof raw === 'string' ? raw.split(' ') : Array.isArray(raw) ? raw : [];
  return new Set(list.filter((s): s is ApiKeyScope => (API_KEY_SCOPES as readonly unknown[]).includes(s)));
}

export function authenticator(data: DataDir, oidc: OidcOptions | undefined): Authenticator {
  const jwks = oidc ? jwksOf(oidc.jwks) : undefined;
  const unauthenticated = () =>
    new ServeError(
      'UNAUTHENTICATED',
      'a valid bearer token is required',
      'Authorization: Bearer <API key or JWT>',
    );
  return async (authorization) => {
    const m = authorization === undefined ? null : /^Bearer ([!-~]{1,8192})$/.exec(authorization);
    if (!m) throw unauthenticated();
    const token = m[1] as string;
    if (token.startsWith('helm_')) {
      const record = await authenticateApiKey(data, token);
      if (!record) throw unauthenticated();
      return {
        id: `apikey:${record.id}`,
        kind: 'apikey',
        principal: record.principal,
        tenant: record.tenant,
        scopes: new Set(record.scopes),
        credential: record.credential,
        // An API key proves possession of the key, never a second factor.
        mfa: false,
      };
    }
    if (!jwks || !oidc) throw unauthenticated();
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: oidc.issuer,
        audience: oidc.audience,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch {
      throw unauthenticated();
    }
    const sub = payload.sub as string;
    const tenant = payload[oidc.tenantClaim ?? 'tenant'];
    return {
      id: `jwt:${oidc.issuer}#${sub}`,
      kind: 'jwt',
      principal: sub,
      tenant: typeof tenant === 'string' ? tenant : null,
      scopes: scopesOf(payload),
      credential: null,
      mfa: Array.isArray(payload.amr) && payload.amr.some((m) => m === 'mfa' || m === 'otp' || m === 'hwk'),
    };
  };
}
