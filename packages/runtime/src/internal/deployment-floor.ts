// What every node of a shared database must agree on that lives in its own files
// (docs/spec/multi-node.md §3.1): the signed policy bundle's version and the initial identity and
// egress bindings of config.json.
//
// Each node's policy bundle and config.json are files of its own data directory, verified at open
// only for their signature (the bundle) or not at all (the initial bindings). A node's
// data-directory writer could put back an older signed bundle, or add a binding no signed event
// made, and that node alone would decide under it. The database keeps the deployment's floor: the
// highest signed bundle any node (or the publishing directory) opened with — a node with an older
// version, or another bundle name, refuses to open (POLICY_INVALID) — and the digest of
// the publishing directory's initial bindings — a node whose bindings differ refuses to open
// (DATABASE_TRUST_MISMATCH). Both rows are written by helm; deleting them only lets the next node
// that opens write them again (the attacker here is one node's directory, not the database).
import type { SignedEnvelope } from '@helm/contracts';
import { canonicalBytes, digest } from '@helm/crypto';
import type { Json, RuntimeStore } from '@helm/store';
import type { TrustRegistry } from '@helm/trust';
import { RuntimeError } from '../errors.js';
import type { DataDir } from './datadir.js';
import { baseEgress } from './egress.js';
import { baseIdentity } from './identity.js';

const POLICY_FLOOR = ['meta', 'policy-floor'] as const;
const BINDINGS = ['meta', 'initial-bindings'] as const;
const BUNDLE_TYPE = 'helm.policy.bundle.v1';

/** digest(JCS({identity, egress})) of a data directory's initial bindings. */
function bindingsDigest(data: DataDir): string {
  const config = data.config();
  return digest(canonicalBytes({ identity: baseIdentity(config), egress: baseEgress(config) } as never));
}

interface BundleHead {
  readonly name: string;
  readonly version: number;
  readonly digest: string;
}

function headOf(envelope: SignedEnvelope, registry: TrustRegistry): BundleHead | undefined {
  const check = registry.verifyEnvelopeAt(envelope, BUNDLE_TYPE, 'policy', registry.seq);
  if (!check.ok) return undefined;
  const body = check.body as { name?: unknown; version?: unknown };
  if (typeof body.name !== 'string' || !Number.isSafeInteger(body.version)) return undefined;
  return { name: body.name, version: body.version as number, digest: digest(canonicalBytes(envelope)) };
}

/**
 * At open on a shared database (after the node's own policy loaded): refuse a bundle below the
 * deployment's floor or initial bindings other than the deployment's; raise the floor to this
 * node's bundle when it is newer. A row this node writes is read back: of two nodes writing at
 * once, the one that does not find its own value refuses.
 */
export async function checkDeploymentFloor(
  data: DataDir,
  store: RuntimeStore,
  registry: TrustRegistry,
): Promise<void> {
  const own = data.signedBundle();
  const mine = headOf(own, registry);
  const bindings = bindingsDigest(data);
  const recorded = await store.getDocument(...BINDINGS);
  if (typeof recorded !== 'string') {
    await store.putDocument(...BINDINGS, bindings);
    if ((await store.getDocument(...BINDINGS)) !== bindings) throw bindingsDiffer();
  } else if (recorded !== bindings) throw bindingsDiffer();
  if (mine === undefined) return; // loadDataDirPolicy refused it already.
  const floorDoc = await store.getDocument(...POLICY_FLOOR);
  const floor =
    floorDoc !== undefined && floorDoc !== null && typeof floorDoc === 'object'
      ? headOf(floorDoc as unknown as SignedEnvelope, registry)
      : undefined;
  if (floor !== undefined && floor.name !== mine.name)
    throw new RuntimeError(
      'POLICY_INVALID',
      `this node's policy bundle is ${mine.name}; the deployment runs ${floor.name} (recorded on the shared database): nothing was done`,
      "copy the deployment's current policy/ (bundle.signed.json) to this node — docs/deployment.md",
    );
  if (floor !== undefined) {
    if (floor.version > mine.version)
      throw new RuntimeError(
        'POLICY_INVALID',
        `this node's policy bundle ${mine.name} is version ${mine.version}; the deployment runs version ${floor.version} (recorded on the shared database): nothing was done`,
        "copy the deployment's current policy/ (bundle.signed.json) to this node — docs/deployment.md",
      );
    // Same version: not compared further. Whoever could sign another bundle at this version holds
    // a policy key (the floor stops putting back an older genuine bundle, not a key holder).
    if (floor.version === mine.version) return;
  }
  await store.putDocument(...POLICY_FLOOR, own as unknown as Json);
}

/**
 * The name and version of the floor row's bundle, unverified: the floor only ever refuses (a
 * publication at or below it, policy-publish.ts), so a forged row can refuse, never admit.
 */
export async function readPolicyFloor(
  store: Pick<RuntimeStore, 'getDocument'>,
): Promise<{ name: string; version: number } | undefined> {
  const doc = await store.getDocument(...POLICY_FLOOR);
  if (doc === undefined || doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const payload = (doc as { payload?: unknown }).payload;
  if (typeof payload !== 'string') return undefined;
  try {
    const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      name?: unknown;
      version?: unknown;
    };
    return typeof body.name === 'string' && Number.isSafeInteger(body.version)
      ? { name: body.name, version: body.version as number }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The publishing directory records its bindings and bundle as the deployment's (when absent). */
export async function publishDeploymentFloor(data: DataDir, store: RuntimeStore): Promise<void> {
  if ((await store.getDocument(...BINDINGS)) === undefined)
    await store.putDocument(...BINDINGS, bindingsDigest(data));
  if ((await store.getDocument(...POLICY_FLOOR)) === undefined)
    await store.putDocument(...POLICY_FLOOR, data.signedBundle() as unknown as Json);
}

const bindingsDiffer = (): RuntimeError =>
  new RuntimeError(
    'DATABASE_TRUST_MISMATCH',
    "this node's initial identity and egress bindings (config.json) are not the deployment's (their digest is recorded on the shared database): nothing was done",
    "every node's config.json must carry the template's bindings (only chain_id differs); change bindings with signed governance events (`helmts identity …`, `helmts egress …`) — docs/deployment.md",
  );
