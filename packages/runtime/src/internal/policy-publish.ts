// `policy.publish`: a signed P1 bundle published through the governance log (docs/spec/
// governance-event.md §3, multi-node.md §3.1), so one publication changes the policy of every node
// of a shared database before its next decision — the nodes' files are not copied by hand.
//
// Body: {bundle} — the `helm.policy.bundle.v1` envelope itself (its bytes are in the signed event:
// a writer who edits them breaks the event's signature; the event's digest addresses them).
//   - check (before the append): the bundle verifies under a `policy` key at the registry head and
//     loads with the directory's P0; its name is the deployment's; its version is above every
//     bundle published in the log so far (and, on a shared database, above the floor of the
//     bundles nodes opened with: `publishPolicyBundle`).
//   - apply, first time: the same checks at the application's trust seq, and the version must be
//     above the last publication this guardian applied, else above the bundle its directory
//     installs (rejected POLICY_INVALID otherwise: an older bundle is never put back, I-MULTINODE-2)
//     — never against the unsigned floor row, which a database writer could raise to make a node
//     reject a revoking bundle; the guardian's policy is replaced (P0 of this node ∩ the bundle).
//   - apply again (a later open, another node, re-execution): the recorded outcome is obeyed; the
//     bundle is loaded and put in force again.
// The last applied publication is the deployment's policy floor, bound by the policy key's and the
// event signer's signatures and by the guardian-signed cursor (deleting or editing its row is
// GOVERNANCE_LOG_INVALID), not by an unsigned row.
import type { SignedEnvelope } from '@helm/contracts';
import { canonicalBytes, digest } from '@helm/crypto';
import { type Guardian, GuardianError, loadPolicyStack, type PolicyStack } from '@helm/guardian';
import type { Json } from '@helm/store';
import type { TrustRegistry } from '@helm/trust';
import { RuntimeError } from '../errors.js';
import type { DataDir } from './datadir.js';
import { readPolicyFloor } from './deployment-floor.js';
import {
  appendGovernanceEvent,
  appendGovernanceEventAsync,
  type GovernanceEventRecord,
  type GovernanceHandler,
  readGovernanceApplications,
} from './governance.js';

const BUNDLE_TYPE = 'helm.policy.bundle.v1';

/** Name, version and digest of a signed bundle. */
export interface PublishedBundle {
  readonly name: string;
  readonly version: number;
  /** digest(JCS(envelope)). */
  readonly digest: string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const invalid = (message: string, hint?: string): RuntimeError =>
  new RuntimeError('POLICY_INVALID', `policy.publish: ${message}`, hint);

/** The envelope of a `policy.publish` body (GOVERNANCE_EVENT_INVALID when it has none). */
function bundleOf(body: unknown): SignedEnvelope {
  const bundle = isObject(body) && Object.keys(body).length === 1 ? body.bundle : undefined;
  if (!isObject(bundle) || bundle.type !== BUNDLE_TYPE)
    throw new RuntimeError(
      'GOVERNANCE_EVENT_INVALID',
      `policy.publish: the body is {bundle: <${BUNDLE_TYPE}>}`,
    );
  return bundle as unknown as SignedEnvelope;
}

/**
 * Load `bundle` with `p0` under the `policy` keys of `registry` at `trustSeq`: the stack and the
 * bundle's name and version (POLICY_INVALID when it does not verify or load).
 */
export function loadPublishedBundle(
  p0: unknown,
  bundle: SignedEnvelope,
  registry: TrustRegistry,
  trustSeq: number,
): { stack: PolicyStack; head: PublishedBundle } {
  let stack: PolicyStack;
  try {
    stack = loadPolicyStack({
      p0: p0 as never,
      bundles: [bundle],
      trustedBundleKeys: registry.lookupFor('policy', trustSeq),
    });
  } catch (error) {
    if (error instanceof GuardianError || error instanceof Error)
      throw invalid(
        `the bundle does not load under the policy keys at trust seq ${trustSeq}: ${error.message}`,
        'sign it with a key holding `policy` (`helmts policy sign <bundle.json>`) and check it with `helmts policy validate`',
      );
    throw error;
  }
  const loaded = stack.bundles[0] as { name: string; version: number };
  return {
    stack,
    head: { name: loaded.name, version: loaded.version, digest: digest(canonicalBytes(bundle)) },
  };
}

/**
 * The heads of the bundles published in `data`'s log so far, in log order: applied, or not applied
 * yet — never one whose first application rejected it (e.g. its policy key was rotated out before
 * any node applied it): that bundle was never in force anywhere, and the same version may be
 * published again under a valid key.
 */
function publishedInLog(data: DataDir): (PublishedBundle & { readonly bundle: SignedEnvelope })[] {
  const out: (PublishedBundle & { readonly bundle: SignedEnvelope })[] = [];
  const applications = readGovernanceApplications(data);
  for (const row of data.store.governanceEventsSync()) {
    const body = isObject(row.envelope) ? eventBody(row.envelope as SignedEnvelope) : undefined;
    if (body?.action !== 'policy.publish') continue;
    if (applications.get(row.seq)?.outcome === 'rejected') continue;
    try {
      const bundle = bundleOf(body.body);
      const b = JSON.parse(Buffer.from(bundle.payload, 'base64url').toString('utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (typeof b.name === 'string' && Number.isSafeInteger(b.version))
        out.push({
          name: b.name,
          version: b.version as number,
          digest: digest(canonicalBytes(bundle)),
          bundle,
        });
    } catch {
      // A malformed publication was refused at append; the log's verification reports a forged one.
    }
  }
  return out;
}

function eventBody(envelope: SignedEnvelope): { action?: unknown; body?: unknown } | undefined {
  try {
    return JSON.parse(Buffer.from(envelope.payload, 'base64url').toString('utf8')) as {
      action?: unknown;
      body?: unknown;
    };
  } catch {
    return undefined;
  }
}

/** The bundle in force before a publication: the last one published in the log, else the directory's. */
function currentHead(data: DataDir, registry: TrustRegistry): PublishedBundle | undefined {
  return lastPublishedBundle(data) ?? installedHead(data, registry, registry.seq);
}

/** The head of the bundle `data`'s directory installs, if it loads at `seq` (else undefined). */
function installedHead(data: DataDir, registry: TrustRegistry, seq: number): PublishedBundle | undefined {
  try {
    return loadPublishedBundle(data.p0(), data.signedBundle(), registry, seq).head;
  } catch {
    return undefined;
  }
}

/** Refuse `next` unless it has the deployment's name and is newer than `current`. */
function requireNewer(next: PublishedBundle, current: PublishedBundle | undefined, what: string): void {
  if (current === undefined) return;
  if (next.name !== current.name)
    throw invalid(
      `the bundle is named ${next.name}; the deployment runs ${current.name} (${what})`,
      'publish a new version of the bundle in force',
    );
  if (next.version <= current.version)
    throw invalid(
      `version ${next.version} is not above ${current.name} version ${current.version} (${what}): an older or equal bundle is never put back`,
      'raise "version" in the bundle, sign it again and publish it',
    );
}

/** The last publication each guardian applied (a new epoch's guardian starts from none). */
const inForce = new WeakMap<Guardian, PublishedBundle>();

export const POLICY_PUBLISH_HANDLERS: Partial<Record<'policy.publish', GovernanceHandler>> = {
  'policy.publish': {
    check(event, data, registry) {
      const { head } = loadPublishedBundle(data.p0(), bundleOf(event.body), registry, registry.seq);
      requireNewer(head, currentHead(data, registry), 'the last bundle published or installed');
    },
    apply(event, runtime, context) {
      let loaded: ReturnType<typeof loadPublishedBundle>;
      try {
        loaded = loadPublishedBundle(
          runtime.data.p0(),
          bundleOf(event.body),
          context.registry,
          context.trust_seq,
        );
      } catch (error) {
        if (!(error instanceof RuntimeError)) throw error;
        return { applied: false, code: error.code, detail: error.message };
      }
      const guardian = runtime.guardian;
      if (context.first) {
        // Newer than what this node decides under: the last publication it applied, else the
        // bundle its directory installs. Never the database's floor row: it is unsigned, and a
        // writer who raised it would make a node reject a restrictive publication (a revocation)
        // and keep deciding under the bundle it revokes — refusing here admits.
        try {
          requireNewer(
            loaded.head,
            inForce.get(guardian) ?? installedHead(runtime.data, context.registry, context.trust_seq),
            inForce.has(guardian) ? 'the last publication applied' : 'the bundle this node installs',
          );
        } catch (error) {
          if (!(error instanceof RuntimeError)) throw error;
          return { applied: false, code: error.code, detail: error.message };
        }
      }
      guardian.replacePolicy(loaded.stack, event.signer);
      inForce.set(guardian, loaded.head);
      return {
        applied: true,
        output: { name: loaded.head.name, version: loaded.head.version, digest: loaded.head.digest },
      };
    },
  },
};

/**
 * The last bundle published in `data`'s log (the highest version; undefined: none) — what a
 * runtime on this store decides under, whatever `policy/bundle.signed.json` holds.
 */
export function lastPublishedBundle(
  data: DataDir,
): (PublishedBundle & { readonly bundle: SignedEnvelope }) | undefined {
  return publishedInLog(data).reduce<(PublishedBundle & { readonly bundle: SignedEnvelope }) | undefined>(
    (max, b) => (max === undefined || b.version > max.version ? b : max),
    undefined,
  );
}

/** The bundle a runtime's guardian runs by publication (undefined: its directory's file). */
export function publishedInForce(guardian: Guardian): PublishedBundle | undefined {
  return inForce.get(guardian);
}

/**
 * Publish a signed bundle through the governance log (`helmts policy publish`): on a shared
 * database every node puts it in force before its next decision. Refused (POLICY_INVALID, nothing
 * appended) when it does not load, has another name, or is not newer than every bundle published
 * so far and the deployment floor.
 */
export async function publishPolicyBundle(
  data: DataDir,
  bundle: SignedEnvelope,
  signer: Parameters<typeof appendGovernanceEvent>[1]['signer'],
  at: number,
): Promise<GovernanceEventRecord> {
  if (data.shared !== undefined) {
    // The event's check verifies the bundle on a snapshot of the database; here only the floor.
    const floor = await readPolicyFloor(data.shared);
    const claimed = eventBody(bundle) as { name?: unknown; version?: unknown } | undefined;
    if (floor !== undefined && typeof claimed?.name === 'string' && Number.isSafeInteger(claimed.version))
      requireNewer(
        { name: claimed.name, version: claimed.version as number, digest: '' },
        { ...floor, digest: '' },
        'the deployment floor on the shared database',
      );
    return appendGovernanceEventAsync(data, {
      action: 'policy.publish',
      body: { bundle } as unknown as Json,
      signer,
      at,
    });
  }
  return appendGovernanceEvent(data, {
    action: 'policy.publish',
    body: { bundle } as unknown as Json,
    signer,
    at,
  });
}
