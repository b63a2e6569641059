// API keys of `helmts serve` (docs/api.md §Authentication): random, shown once, stored hashed,
// identified by a public prefix, scoped, and bound to one principal and tenant.
//
// A key is `helm_<id>_<secret>`: <id> 12 hex characters (the lookup key, safe to log), <secret>
// 32 random bytes base64url. The store keeps only SHA-256 of the whole key text, compared in
// constant time; a lost key cannot be recovered, only revoked and replaced. Keys live in the
// node's store (document namespace `serve_api_keys`) — the data directory's embedded store, or the
// shared database when the node runs on one (`--database-url`: every server on that database then
// accepts the key) — so `helmts serve keys revoke` takes effect on the running servers' next
// request. Reads and writes go through the async store port, the one both stores implement.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DataDir } from '@helm/runtime';
import { ServeError } from './errors.js';

export const API_KEY_SCOPES = ['call', 'approve', 'audit', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

const NAMESPACE = 'serve_api_keys';
const KEY_FORMAT = /^helm_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const PRINCIPAL = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;

/** What the store keeps of a key (never the key itself). */
export interface ApiKeyRecord {
  readonly id: string;
  readonly sha256: string;
  readonly principal: string;
  readonly tenant: string | null;
  readonly scopes: readonly ApiKeyScope[];
  /** The identity-binding credential id its calls present (null: the principal's bound one). */
  readonly credential: string | null;
  readonly created_at_ms: number;
  readonly revoked_at_ms: number | null;
  readonly label: string | null;
}

export interface ApiKeyCreateInput {
  readonly principal: string;
  readonly tenant?: string | null;
  readonly scopes: readonly string[];
  readonly credential?: string | null;
  readonly label?: string | null;
}

/** The node's document store through the async port: the shared database, else the embedded store. */
function documents(data: DataDir): NonNullable<DataDir['shared']> {
  return data.shared ?? data.store;
}

function hashOf(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function checkScopes(scopes: readonly string[]): ApiKeyScope[] {
  if (scopes.length === 0)
    throw new ServeError(
      'USAGE',
      'an API key needs at least one scope',
      `scopes: ${API_KEY_SCOPES.join(', ')}`,
    );
  for (const s of scopes)
    if (!(API_KEY_SCOPES as readonly string[]).includes(s))
      throw new ServeError(
        'USAGE',
        `unknown scope ${JSON.stringify(s)}`,
        `scopes: ${API_KEY_SCOPES.join(', ')}`,
      );
  return [...new Set(scopes as ApiKeyScope[])].sort();
}

/** Create a key: returns the key text (shown once) and its stored record. */
export async function createApiKey(
  data: DataDir,
  input: ApiKeyCreateInput,
  now: number = Date.now(),
): Promise<{ key: string; record: ApiKeyRecord }> {
  data.requireInitialized();
  if (!PRINCIPAL.test(input.principal))
    throw new ServeError('USAGE', 'the principal must be 1-128 characters [A-Za-z0-9._:@/-]');
  if (input.tenant != null && !PRINCIPAL.test(input.tenant))
    throw new ServeError('USAGE', 'the tenant must be 1-128 characters [A-Za-z0-9._:@/-]');
  const scopes = checkScopes(input.scopes);
  const id = randomBytes(6).toString('hex');
  const key = `helm_${id}_${randomBytes(32).toString('base64url')}`;
  const record: ApiKeyRecord = {
    id,
    sha256: hashOf(key),
    principal: input.principal,
    tenant: input.tenant ?? null,
    scopes,
    credential: input.credential ?? null,
    created_at_ms: now,
    revoked_at_ms: null,
    label: input.label ?? null,
  };
  await documents(data).putDocument(NAMESPACE, id, record as never);
  return { key, record };
}

/** Every key record, oldest first. */
export async function listApiKeys(data: DataDir): Promise<ApiKeyRecord[]> {
  data.requireInitialized();
  return (await documents(data).listDocuments(NAMESPACE))
    .map((d) => d.value as unknown as ApiKeyRecord)
    .sort((a, b) => a.created_at_ms - b.created_at_ms || a.id.localeCompare(b.id));
}

/** Revoke a key by its id (the 12 hex characters after `helm_`). */
export async function revokeApiKey(
  data: DataDir,
  id: string,
  now: number = Date.now(),
): Promise<ApiKeyRecord> {
  data.requireInitialized();
  const found = /^[0-9a-f]{12}$/.test(id)
    ? ((await documents(data).getDocument(NAMESPACE, id)) as unknown as ApiKeyRecord | undefined)
    : undefined;
  if (!found) throw new ServeError('NOT_FOUND', `no API key ${id}`, 'list them: helmts serve keys list');
  if (found.revoked_at_ms !== null) return found;
  const revoked = { ...found, revoked_at_ms: now };
  await documents(data).putDocument(NAMESPACE, id, revoked as never);
  return revoked;
}

/**
 * The live record of a presented key text, or undefined (malformed, unknown, wrong secret or
 * revoked: the caller answers 401 alike). A store that cannot answer rejects (StoreError): the
 * request is answered 503 and nothing runs — never 401, never a pass.
 */
export async function authenticateApiKey(data: DataDir, text: string): Promise<ApiKeyRecord | undefined> {
  const m = KEY_FORMAT.exec(text);
  if (!m) return undefined;
  const record = (await documents(data).getDocument(NAMESPACE, m[1] as string)) as unknown as
    | ApiKeyRecord
    | undefined;
  if (!record) return undefined;
  const a = Buffer.from(hashOf(text), 'hex');
  const b = Buffer.from(record.sha256, 'hex');
  if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
  return record.revoked_at_ms === null ? record : undefined;
}
