// Opening a single-signature ProofGraph envelope (node, checkpoint) through @helm/crypto's strict
// opener. The key depends on signed fields (role from `kind`, height from `lamport`), so the caller
// checks the body, selects the key, and verifies `sig` over `pae` before trusting any field.
import { type OpenedEnvelope, openEnvelope } from '@helm/crypto/envelope-open';
import { CryptoError } from '@helm/crypto/errors';

export interface OpenedSingle {
  /** Parsed, canonical, type-checked body; unauthenticated until the signature verifies. */
  readonly body: Record<string, unknown>;
  /** PAE(type, payload): the bytes `sig` must cover. */
  readonly pae: Uint8Array;
  readonly keyid: string;
  readonly sig: Uint8Array;
}

/** The opened envelope, or a description of why it is malformed. */
export function openSingleSigned(envelope: unknown, type: string): OpenedSingle | string {
  let opened: OpenedEnvelope<{ readonly type: string }>;
  try {
    opened = openEnvelope(envelope, type, { maxSignatures: 1 });
  } catch (error) {
    return error instanceof CryptoError ? error.message : 'not an envelope';
  }
  const { keyid, sig } = opened.signatures[0] as { keyid: string; sig: Uint8Array };
  return { body: opened.body as Record<string, unknown>, pae: opened.pae, keyid, sig };
}

/** Exact-keys check: every required field present, nothing else. */
export function fieldsProblem(body: Record<string, unknown>, fields: readonly string[]): string | undefined {
  const keys = Object.keys(body);
  for (const k of keys) if (!fields.includes(k)) return `unknown field ${k}`;
  for (const f of fields) if (!(f in body)) return `missing field ${f}`;
  return undefined;
}
