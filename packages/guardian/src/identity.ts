// Stage 2 `identity` configuration: each credential is bound to exactly one principal and,
// optionally, to the tenants it may act in (docs/spec/decision.md, I-TENANT-1).
import { GuardianError } from './errors.js';

export interface IdentityBinding {
  readonly credential_id: string;
  readonly principal: string;
  /**
   * The tenants this credential may act in (`null` = calls without a tenant). Absent: the tenant is
   * not bound to the credential (any tenant the caller names; policy rules must then constrain it).
   */
  readonly tenants?: readonly (string | null)[];
}

export interface BoundIdentity {
  readonly principal: string;
  readonly tenants: ReadonlySet<string | null> | undefined;
}

const tenantSetKey = (tenants: Iterable<string | null> | undefined): string | undefined =>
  tenants === undefined ? undefined : JSON.stringify([...new Set(tenants)].sort());

function checkBinding(b: IdentityBinding): void {
  if (b === null || typeof b !== 'object') {
    throw new GuardianError('CONFIG_INVALID', 'each identity binding must be an object');
  }
  // An unknown field (`tenant` for `tenants`) would otherwise be ignored and leave the binding wider.
  for (const key of Object.keys(b)) {
    if (key !== 'credential_id' && key !== 'principal' && key !== 'tenants') {
      throw new GuardianError(
        'CONFIG_INVALID',
        `identity binding: unknown field ${key} (fields: credential_id, principal, tenants)`,
      );
    }
  }
  if (
    typeof b.credential_id !== 'string' ||
    b.credential_id.length === 0 ||
    typeof b.principal !== 'string' ||
    b.principal.length === 0
  ) {
    throw new GuardianError('CONFIG_INVALID', 'identity bindings need credential_id and principal');
  }
  const tenants = b.tenants;
  if (
    tenants !== undefined &&
    (!Array.isArray(tenants) || !tenants.every((t) => t === null || (typeof t === 'string' && t.length > 0)))
  ) {
    throw new GuardianError(
      'CONFIG_INVALID',
      `credential ${b.credential_id}: tenants must be strings or null`,
    );
  }
}

/**
 * credential → bound identity. A credential listed twice must name the same principal and the same
 * tenant set (CONFIG_INVALID otherwise).
 */
export function bindCredentials(bindings: readonly IdentityBinding[]): ReadonlyMap<string, BoundIdentity> {
  if (!Array.isArray(bindings)) throw new GuardianError('CONFIG_INVALID', 'identity bindings must be a list');
  const map = new Map<string, BoundIdentity>();
  for (const b of bindings) {
    checkBinding(b);
    const existing = map.get(b.credential_id);
    if (
      existing !== undefined &&
      (existing.principal !== b.principal || tenantSetKey(existing.tenants) !== tenantSetKey(b.tenants))
    ) {
      throw new GuardianError(
        'CONFIG_INVALID',
        `credential ${b.credential_id} is bound to two principals or two tenant sets`,
      );
    }
    map.set(b.credential_id, {
      principal: b.principal,
      tenants: b.tenants === undefined ? undefined : new Set(b.tenants),
    });
  }
  return map;
}

/** The identity stage's roster entry: sorted `[credential, principal]` or `[credential, principal, [tenants…]]`. */
export function identityRoster(credentials: ReadonlyMap<string, BoundIdentity>): unknown[] {
  return [...credentials]
    .map(([credential, bound]) =>
      bound.tenants === undefined
        ? [credential, bound.principal]
        : [credential, bound.principal, [...bound.tenants].sort()],
    )
    .sort();
}
