// The identity bindings of a data directory (Gate 2, docs/spec/decision.md §Request): the bindings
// `config.json` starts with, then the `identity.add` / `identity.remove` governance events in
// order. One fold (`applyIdentityEdit`) serves the runtime, which replaces the guardian's bindings
// as it ingests each event, and the commands that list them without opening the runtime.

import type { Signer } from '@helm/crypto';
import { Guardian, GuardianError, type GuardianOptions, type IdentityBinding } from '@helm/guardian';
import type { Json } from '@helm/store';
import type { TrustRegistry } from '@helm/trust';
import { RuntimeError } from '../errors.js';
import type { DataDir, HelmConfig } from './datadir.js';
import type { PendingEdit } from './egress.js';
import {
  appendGovernanceEvent,
  type GovernanceAction,
  type GovernanceEventRecord,
  type GovernanceHandler,
  readGovernanceApplications,
  readGovernanceLog,
} from './governance.js';
import type { GovernedRuntime } from './runtime.js';

export const IDENTITY_DOC_HINT =
  'edit the bindings with `helmts identity add|remove` (docs/cli.md §Identities); config.json "identity" is [{credential_id, principal, tenants?}]';

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
 * Apply one edit (pure, deterministic). `strict` (an edit's first application, and the check before
 * it is appended): an add of a credential already bound — to anything, even the same principal —
 * changes nothing (remove it first: a rebinding is two receipted edits); a remove of a credential
 * not bound changes nothing; a body that does not validate changes nothing. `replay` (re-applying,
 * at a later open, an edit whose first application is recorded): an add sets the binding, a remove
 * drops it if present — so the edits that were applied are applied again whatever config.json says
 * now, and re-application never fails on a conflict.
 */
export function applyIdentityEdit(
  bindings: readonly IdentityBinding[],
  edit: IdentityEdit,
  mode: 'strict' | 'replay' = 'strict',
): IdentityEditResult {
  const body = edit.body as unknown as Record<string, unknown> | null;
  if (body === null || typeof body !== 'object') return { applied: false, bindings, why: 'malformed body' };
  if (edit.action === 'identity.add') {
    const binding = edit.body;
    const why = bindingDefect(binding);
    if (why !== null) return { applied: false, bindings, why };
    const existing = bindings.find((b) => b.credential_id === binding.credential_id);
    if (existing && mode === 'replay')
      return {
        applied: true,
        bindings: [...bindings.filter((b) => b.credential_id !== binding.credential_id), binding],
      };
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
  if (typeof id !== 'string') return { applied: false, bindings, why: 'credential_id must be a string' };
  if (!bindings.some((b) => b.credential_id === id))
    return mode === 'replay'
      ? { applied: true, bindings: [...bindings] }
      : { applied: false, bindings, why: `credential ${id} is not bound` };
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

/** The binding `helmts identity add` appends (USAGE with a hint when it cannot be one). */
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
      'e.g. helmts identity add cred-alice --principal alice [--tenant acme]',
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

// ── governance: identity.add / identity.remove ──────────────────────────────────────────────────

/** A binding as `helmts identity list` shows it: where it comes from and whether it is in force yet. */
export interface IdentityView extends IdentityBinding {
  /** `config.json`, or the governance event (log position) that added it. */
  readonly source: 'config.json' | { readonly event: number };
  /** `pending`: appended, not yet applied by a runtime (the next open or decision applies it). */
  readonly status: 'applied' | 'pending';
}

/**
 * The effective bindings of a data directory without opening the runtime: config.json, then every
 * identity event of the verified governance log as the runtime applies it (events it rejected
 * skipped; events not yet applied folded the way their first application will fold them).
 */
export function identityList(
  data: DataDir,
  registry?: TrustRegistry,
): { bindings: IdentityView[]; pending: PendingEdit[] } {
  const events = readGovernanceLog(data, registry);
  const applications = readGovernanceApplications(data);
  let bindings = baseIdentity(data.config());
  const origin = new Map<string, Pick<IdentityView, 'source' | 'status'>>();
  const pending: PendingEdit[] = [];
  for (const e of events) {
    if (e.action !== 'identity.add' && e.action !== 'identity.remove') continue;
    const recorded = applications.get(e.seq);
    if (recorded?.outcome === 'rejected') continue;
    const edit = { action: e.action, body: e.body } as unknown as IdentityEdit;
    const r = applyIdentityEdit(bindings, edit, recorded === undefined ? 'strict' : 'replay');
    if (!r.applied) continue;
    bindings = r.bindings;
    if (recorded === undefined) pending.push({ seq: e.seq, action: e.action, body: e.body as Json });
    if (e.action === 'identity.add')
      origin.set(String(e.body.credential_id), {
        source: { event: e.seq },
        status: recorded === undefined ? 'pending' : 'applied',
      });
  }
  const views = bindings.map((b) => ({
    ...b,
    ...(origin.get(b.credential_id) ?? { source: 'config.json' as const, status: 'applied' as const }),
  }));
  return { bindings: views, pending };
}

const bindingOf = (v: IdentityBinding): IdentityBinding => ({
  credential_id: v.credential_id,
  principal: v.principal,
  ...(v.tenants === undefined ? {} : { tenants: v.tenants }),
});

/** The bindings a runtime holds (config.json's at open, then each applied edit). */
const runtimeBindings = new WeakMap<GovernedRuntime, IdentityBinding[]>();

function refusal(why: string, hint: string): RuntimeError {
  return new RuntimeError('INVALID_INPUT', why, hint);
}

export const IDENTITY_HANDLERS: Partial<Record<GovernanceAction, GovernanceHandler>> = {
  'identity.add': identityHandler('identity.add'),
  'identity.remove': identityHandler('identity.remove'),
};

function identityHandler(action: 'identity.add' | 'identity.remove'): GovernanceHandler {
  return {
    // Before the event is appended: it must change the bindings as they are now.
    check(event, data) {
      if (action === 'identity.add') {
        const why = bindingDefect(event.body);
        if (why !== null) throw refusal(`identity.add: ${why}`, IDENTITY_DOC_HINT);
      }
      const current = identityList(data).bindings.map(bindingOf);
      const r = applyIdentityEdit(current, { action, body: event.body } as IdentityEdit, 'strict');
      if (!r.applied)
        throw refusal(
          `${action}: ${r.why}; nothing was appended`,
          action === 'identity.add'
            ? 'a credential is bound to one principal: `helmts identity remove <credential>` first to rebind it; `helmts identity list` shows the bindings'
            : '`helmts identity list` shows the bindings in force',
        );
    },
    apply(event, runtime, context) {
      const current = runtimeBindings.get(runtime) ?? baseIdentity(runtime.config);
      const mode = context.first ? 'strict' : 'replay';
      const r = applyIdentityEdit(current, { action, body: event.body } as IdentityEdit, mode);
      if (!r.applied) return { applied: false, code: 'IDENTITY_EDIT_REFUSED', detail: r.why };
      runtime.guardian.replaceIdentity(r.bindings, event.signer);
      runtimeBindings.set(runtime, r.bindings);
      return { applied: true, output: event.body as Json };
    },
  };
}

/** Append `identity.add` for a binding (validated; refused when the credential is bound already). */
export function identityAdd(
  data: DataDir,
  binding: IdentityBinding,
  signer: Signer,
  at: number,
): GovernanceEventRecord {
  return appendGovernanceEvent(data, {
    action: 'identity.add',
    body: binding as unknown as Json,
    signer,
    at,
  });
}

/** Append `identity.remove` for a bound credential (refused when it is not bound). */
export function identityRemove(
  data: DataDir,
  credential: string,
  signer: Signer,
  at: number,
): GovernanceEventRecord {
  return appendGovernanceEvent(data, {
    action: 'identity.remove',
    body: { credential_id: credential },
    signer,
    at,
  });
}
