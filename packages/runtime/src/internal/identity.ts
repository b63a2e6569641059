// The identity bindings of a data directory (Gate 2, docs/spec/decision.md §Request): the bindings
// `config.json` starts with, then the `identity.add` / `identity.remove` governance events in
// order. One fold (`applyIdentityEdit`) serves the runtime, which replaces the guardian's bindings
// as it ingests each event, and the commands that list them without opening the runtime.
import { Guardian, GuardianError, type GuardianOptions, type IdentityBinding } from '@helm/guardian';
import { RuntimeError } from '../errors.js';
import type { HelmConfig } from './datadir.js';

export const IDENTITY_DOC_HINT =
  'edit the bindings with `helm identity add|remove` (docs/cli.md §Identities); config.json "identity" is [{credential_id, principal, tenants?}]';

/** Credential ids and principals: 1–256 printable characters, no whitespace. */
const ID_TEXT = /^[^\s\p{Cc}\p{Cs}]{1,256}$/u;

/** The bindings `config.json` declares, validated the guardian's way (CONFIG_INVALID otherwise). */
export function baseIdentity(config: HelmConfig): IdentityBinding[] {
  const raw = (config as { identity?: unknown }).identity;
  const bindings = raw === undefined ? [] : raw;
  if (!Array.isArray(bindings))
    throw new RuntimeError(
      'CONFIG_INVALID',
      'config.json identity: must be a list of bindings',
      IDENTITY_DOC_HINT,
    );
  for (const b of bindings) {
    if (b === null || typeof b !== 'object' || typeof (b as IdentityBinding).credential_id !== 'string')
      throw new RuntimeError(
        'CONFIG_INVALID',
        'config.json identity: each binding needs a credential_id',
        IDENTITY_DOC_HINT,
      );
  }
  // The guardian validates the bindings in full when the runtime opens (identityConfigError).
  return [...(bindings as IdentityBinding[])];
}

export type IdentityEdit =
  | { readonly action: 'identity.add'; readonly body: IdentityBinding }
  | { readonly action: 'identity.remove'; readonly body: { readonly credential_id: string } };

export type IdentityEditResult =
  | { readonly applied: true; readonly bindings: IdentityBinding[] }
  | { readonly applied: false; readonly bindings: readonly IdentityBinding[]; readonly why: string };

const sameTenants = (a: IdentityBinding, b: IdentityBinding): boolean =>
  JSON.stringify(a.tenants === undefined ? null : [...new Set(a.tenants)].sort()) ===
  JSON.stringify(b.tenants === undefined ? null : [...new Set(b.tenants)].sort());

/**
 * Apply one edit (pure, deterministic). An add of a credential already bound — to anything, even
 * the same principal — changes nothing (remove it first: a rebinding is two receipted edits); a
 * remove of a credential not bound changes nothing; a body that does not validate changes nothing.
 */
export function applyIdentityEdit(
  bindings: readonly IdentityBinding[],
  edit: IdentityEdit,
): IdentityEditResult {
  const body = edit.body as unknown as Record<string, unknown> | null;
  if (body === null || typeof body !== 'object') return { applied: false, bindings, why: 'malformed body' };
  if (edit.action === 'identity.add') {
    const binding = edit.body;
    const why = bindingDefect(binding);
    if (why !== null) return { applied: false, bindings, why };
    const existing = bindings.find((b) => b.credential_id === binding.credential_id);
    if (existing)
      return {
        applied: false,
        bindings,
        why:
          existing.principal === binding.principal && sameTenants(existing, binding)
            ? `credential ${binding.credential_id} is already bound to ${binding.principal}`
            : `credential ${binding.credential_id} is bound to ${existing.principal}`,
      };
    return { applied: true, bindings: [...bindings, binding] };
  }
  const id = body.credential_id;
  if (typeof id !== 'string' || !bindings.some((b) => b.credential_id === id))
    return { applied: false, bindings, why: `credential ${String(id)} is not bound` };
  return { applied: true, bindings: bindings.filter((b) => b.credential_id !== id) };
}

/** Why a binding an operator gives cannot be added (null when it can). */
export function bindingDefect(binding: unknown): string | null {
  if (binding === null || typeof binding !== 'object' || Array.isArray(binding))
    return 'a binding is an object';
  const b = binding as Record<string, unknown>;
  for (const key of Object.keys(b))
    if (key !== 'credential_id' && key !== 'principal' && key !== 'tenants') return `unknown field ${key}`;
  if (typeof b.credential_id !== 'string' || !ID_TEXT.test(b.credential_id))
    return 'a credential id is 1-256 printable characters without whitespace';
  if (typeof b.principal !== 'string' || !ID_TEXT.test(b.principal))
    return 'a principal is 1-256 printable characters without whitespace';
  if (b.tenants !== undefined) {
    if (!Array.isArray(b.tenants) || b.tenants.length === 0) return 'tenants is a non-empty list';
    for (const t of b.tenants)
      if (t !== null && (typeof t !== 'string' || !ID_TEXT.test(t)))
        return 'a tenant is 1-256 printable characters without whitespace (or null: calls without a tenant)';
  }
  return null;
}

/** The binding `helm identity add` appends (USAGE with a hint when it cannot be one). */
export function identityBindingFrom(input: {
  credential: string;
  principal: string;
  tenants?: readonly string[];
  noTenant?: boolean;
}): IdentityBinding {
  const tenants: (string | null)[] | undefined =
    input.tenants === undefined && !input.noTenant
      ? undefined
      : [...[...new Set(input.tenants ?? [])].sort(), ...(input.noTenant ? [null] : [])];
  const binding: IdentityBinding = {
    credential_id: input.credential,
    principal: input.principal,
    ...(tenants === undefined ? {} : { tenants }),
  };
  const why = bindingDefect(binding);
  if (why !== null)
    throw new RuntimeError(
      'USAGE',
      why,
      'e.g. helm identity add cred-alice --principal alice [--tenant acme]',
    );
  return binding;
}

/**
 * The runtime's guardian; a configuration it refuses (config.json bindings, fingerprint) is a user
 * error CONFIG_INVALID naming the defect, not an internal one.
 */
export function guardianOf(options: GuardianOptions): Guardian {
  try {
    return new Guardian(options);
  } catch (error) {
    if (error instanceof GuardianError && error.code === 'CONFIG_INVALID')
      throw new RuntimeError(
        'CONFIG_INVALID',
        `config.json: ${error.message}`,
        `${IDENTITY_DOC_HINT}; the whole format: docs/cli.md §config.json`,
      );
    throw error;
  }
}
