// What a CLI key operation may believe about a key (invariant I-ROOT-2). Key files live in the data
// directory (or a root key directory), which a data-directory writer can edit; the trust registry
// is verified event by event from the pinned genesis. So:
//
//   - a key file names its key only through its seed: the key id and public key are derived from
//     it, and a file whose stored `keyid` / `public_key` disagree with its seed is refused
//     (KEY_FILE_MISMATCH) — never read as "the key this file is about";
//   - the file's `roles` and `status` are notes for humans and are never read: roles and validity
//     come from the registry at its head;
//   - a root-signed operation on an existing key (rotate, revoke) never targets a key holding
//     `root` (KEY_IS_ROOT): root keys change only in the root ceremony (`keys rotate root`);
//   - a key named through its file is followed along the registry's `rotated_to` chain to its live
//     successor (a non-root key may rotate itself without root, so the registry may have moved on
//     without the file), and refused when the chain ends revoked (KEY_NOT_VALID).
import type { TrustKeyRecord, TrustRole, TrustState } from '@helm/contracts';
import { createSigner, fromBase64Url, type Signer, toBase64Url } from '@helm/crypto';
import type { TrustRegistry } from '@helm/trust';
import { RuntimeError } from '../errors.js';

const SEED_LENGTH = 32;

const MISMATCH_HINT =
  'a key file names its key only through its seed; this one was edited or is damaged: restore it from a backup, ' +
  'and name a registry key directly with `helmts keys revoke --keyid <ed25519:…>` (ids: `helmts keys list`)';

/**
 * The key of a parsed key file (`where` names it in messages): its seed and the signer the seed
 * is. The seed must be 32 bytes of strict base64url, and the file's `keyid` and `public_key` must
 * be exactly the ones the seed derives, else KEY_FILE_MISMATCH.
 */
export function keyOfFile(
  file: unknown,
  where: string,
): { readonly seed: Uint8Array; readonly signer: Signer } {
  const f = (typeof file === 'object' && file !== null ? file : {}) as Record<string, unknown>;
  const seed = typeof f.seed === 'string' ? fromBase64Url(f.seed) : undefined;
  if (seed?.length !== SEED_LENGTH)
    throw new RuntimeError('KEY_FILE_MISMATCH', `${where} holds no 32-byte base64url seed`, MISMATCH_HINT);
  const signer = createSigner(seed);
  if (f.keyid !== signer.keyId || f.public_key !== toBase64Url(signer.publicKey)) {
    throw new RuntimeError(
      'KEY_FILE_MISMATCH',
      `${where}: its keyid/public_key are not those of its seed (the seed is ${signer.keyId})`,
      MISMATCH_HINT,
    );
  }
  return { seed, signer };
}

/** The roles a key holds at the head (open intervals), in grant order. */
export function openRoles(record: TrustKeyRecord): TrustRole[] {
  return record.roles.filter((r) => r.revoked_at === null).map((r) => r.role);
}

/**
 * The roles a key holds at the head or, when it is no longer valid, held until it stopped being
 * valid (for listing: a rotated-out executor key still shows as an executor key).
 */
export function lastRoles(record: TrustKeyRecord): TrustRole[] {
  if (record.revoked_at === null) return openRoles(record);
  return record.roles.filter((r) => r.revoked_at === record.revoked_at).map((r) => r.role);
}

/** The registry's records at its head, by key id. */
export function recordsAtHead(registry: TrustRegistry): Map<string, TrustKeyRecord> {
  const state: TrustState = registry.stateAt();
  return new Map(state.keys.map((k) => [k.keyid, k]));
}

/** A registry key an operation acts on, and how it was reached from the key id asked for. */
export interface KeyTarget {
  readonly record: TrustKeyRecord;
  /** Key ids from the one asked for to `record.keyid` (length 1 unless a rotation was followed). */
  readonly chain: readonly string[];
}

/**
 * The key valid at the head that `keyid` stands for. `follow`: along `rotated_to` to the live
 * successor; `exact`: `keyid` itself. Unknown, revoked, or (exact) rotated keys are KEY_NOT_VALID
 * with the chain in the message and the next step in the hint.
 */
export function liveKey(registry: TrustRegistry, keyid: string, how: 'follow' | 'exact'): KeyTarget {
  const records = recordsAtHead(registry);
  const chain = [keyid];
  let record = records.get(keyid);
  if (record === undefined) {
    throw new RuntimeError(
      'KEY_NOT_VALID',
      `${keyid} is not a key of the trust registry (seq ${registry.seq})`,
      'list the registry keys with `helmts keys list`',
    );
  }
  // Key ids are never reused (TRUST_KEY_EXISTS), so the chain has no cycle; the bound is belt and braces.
  for (let step = 0; step <= records.size; step++) {
    if (record.revoked_at === null) return { record, chain };
    const path = chain.join(' → ');
    if (record.revocation === 'rotated' && record.rotated_to !== null) {
      const next = records.get(record.rotated_to);
      if (how === 'exact' || next === undefined) {
        throw new RuntimeError(
          'KEY_NOT_VALID',
          `${path} was rotated to ${record.rotated_to} at trust seq ${record.revoked_at}`,
          `name the successor: helmts keys revoke --keyid ${record.rotated_to}`,
        );
      }
      chain.push(next.keyid);
      record = next;
      continue;
    }
    throw new RuntimeError(
      'KEY_NOT_VALID',
      `${path} ${chain.length > 1 ? 'ends in a key ' : 'is '}revoked at trust seq ${record.revoked_at}: no live key to act on`,
      'nothing is left to revoke; for a new key of this role: helmts keys generate <new-name> --role <role>',
    );
  }
  throw new RuntimeError('KEY_NOT_VALID', `the rotation chain of ${keyid} does not end`);
}

/** Refuse a root-signed operation on a key holding `root` at the head (KEY_IS_ROOT). */
export function refuseRootTarget(target: KeyTarget, what: string): void {
  if (openRoles(target.record).includes('root')) {
    throw new RuntimeError(
      'KEY_IS_ROOT',
      `${target.record.keyid} holds root in the trust registry: \`${what}\` does not change root keys`,
      'root keys are rotated only in the root ceremony: `helmts keys rotate root` explains it (docs/cli.md §Root keys)',
    );
  }
}

/** The signer, if its key holds `role` at the head; else KEY_NOT_VALID with the registry's reason. */
export function requireRole(registry: TrustRegistry, signer: Signer, role: TrustRole, name: string): Signer {
  const answer = registry.keyValidFor(signer.keyId, role, registry.seq);
  if (!answer.ok) {
    throw new RuntimeError(
      'KEY_NOT_VALID',
      `key ${name} (${signer.keyId}) does not hold ${role} in the trust registry at seq ${registry.seq} (${answer.code})`,
      answer.code === 'TRUST_KEY_REVOKED'
        ? `it was revoked or rotated: \`helmts keys list\` shows what the registry holds; rotate or generate a ${role} key`
        : '`helmts keys list` shows what the registry says about each key file',
    );
  }
  return signer;
}
