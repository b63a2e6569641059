// What a pack verifier checks of an administrative event's body beyond the event's own signature
// (docs/spec/governance-event.md §3 and §7). Most bodies are authorized by the event's signer alone;
// a `policy.publish` body carries a second signed statement — the P1 bundle put in force — whose
// signer must hold `policy` at the same registry state, or the executor-key insider could receipt
// a "publication" of a bundle no policy key ever signed.
import type { SignedEnvelope } from '@helm/contracts';
import { openVerifiedEnvelope, type PublicKeyLookup } from '@helm/crypto';
import type { GovernanceAction } from '../governance.js';

/** The `helm.policy.bundle.v1` envelope type (docs/spec/policy.md). */
const POLICY_BUNDLE_TYPE = 'helm.policy.bundle.v1';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * True when the body of an event of `action` holds up under `policyKeys` (the keys holding
 * `policy` at the receipt's trust seq). `policy.publish`: exactly `{bundle}`, a bundle envelope
 * every signature of which verifies under those keys. Never throws.
 */
export function adminBodyHolds(
  action: GovernanceAction,
  body: unknown,
  policyKeys: PublicKeyLookup,
): boolean {
  if (action !== 'policy.publish') return true;
  if (!isObject(body) || Object.keys(body).length !== 1 || !isObject(body.bundle)) return false;
  try {
    openVerifiedEnvelope(body.bundle as unknown as SignedEnvelope, POLICY_BUNDLE_TYPE, policyKeys);
    return true;
  } catch {
    return false;
  }
}
