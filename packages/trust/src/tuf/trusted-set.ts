// The trusted metadata set of a TUF client (docs/spec/tuf-client.md): it verifies metadata bytes
// against what is already trusted and holds the result. It performs no I/O and reads no clock —
// every decision is a function of the bytes it is given and the reference time fixed at
// construction — so the whole TUF state machine is testable without a repository. The update loop
// that fetches bytes and persists them is outside the TCB (`@helm/tuf-client`): it decides which
// bytes to ask for, never whether they are trusted — every byte string goes through this set, the
// delegation search step (`targetSearchStep`) and the target check (`verifyTarget`) below.
//
// Order (TUF specification §5): root steps (§5.3) → timestamp (§5.4) → snapshot (§5.5) → targets
// and delegated targets (§5.6). Previously trusted timestamp and snapshot metadata, loaded before
// the root steps, are the rollback references; §5.3.11 drops them only when the keys of their role
// are rotated out.
import {
  Metadata,
  type MetadataKind,
  MetaFile,
  type Root,
  type Snapshot,
  type Targets,
  type Timestamp,
} from '@tufjs/models';
import { TrustError, type TufErrorCode } from '../errors.js';
import { keyIdentity, verifyThreshold } from './keys.js';

type Kind = 'root' | 'timestamp' | 'snapshot' | 'targets';
type AnyMeta = Metadata<Root | Timestamp | Snapshot | Targets>;

/** What one accepted root version changed for the cached timestamp and snapshot (§5.3.11). */
export interface TufRootStep {
  readonly version: number;
  /** A key trusted for `timestamp` by the previous root is not trusted for it by this one. */
  readonly timestampKeysRotatedOut: boolean;
  /** The same for `snapshot`. */
  readonly snapshotKeysRotatedOut: boolean;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function fail(code: TufErrorCode, message: string): never {
  throw new TrustError(code, message);
}

function parse<T extends Root | Timestamp | Snapshot | Targets>(
  kind: Kind,
  bytes: Uint8Array,
  name: string,
): Metadata<T> {
  let md: Metadata<T>;
  try {
    const json = JSON.parse(decoder.decode(bytes));
    md = Metadata.fromJSON(kind as MetadataKind.Root, json) as unknown as Metadata<T>;
  } catch (error) {
    return fail('TUF_METADATA_MALFORMED', `${name}: ${(error as Error).message}`);
  }
  if (md.signed.type !== kind)
    fail('TUF_METADATA_MALFORMED', `${name}: expected ${kind}, got ${md.signed.type}`);
  return md;
}

/** Exact length (when listed) and every listed hash of `bytes` (unknown algorithms fail). */
export function verifyLengthAndHashes(meta: MetaFile, bytes: Uint8Array, name: string): void {
  try {
    meta.verify(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    fail('TUF_LENGTH_OR_HASH_MISMATCH', `${name}: ${(error as Error).message}`);
  }
}

function verifyByRoot(root: Metadata<Root>, role: Kind, meta: AnyMeta, name: string): void {
  const r = Object.hasOwn(root.signed.roles, role) ? root.signed.roles[role] : undefined;
  if (!r) fail('TUF_METADATA_MALFORMED', `root has no ${role} role`);
  verifyThreshold(root.signed.keys, r.keyIDs, r.threshold, meta, name);
}

/**
 * §5.3.11: the keys of `role` were rotated out from `before` to `after` when some key id trusted
 * for the role before is no longer listed for it, or now names different key material (or a value
 * that is no supported key). Adding keys, reordering them or changing the threshold rotates
 * nothing out.
 */
export function keysRotatedOut(before: Metadata<Root>, after: Metadata<Root>, role: Kind): boolean {
  const old = before.signed.roles[role];
  const now = after.signed.roles[role];
  if (!old) return false;
  if (!now) return true;
  const listed = new Set(now.keyIDs);
  return old.keyIDs.some((id) => {
    const oldKey = Object.hasOwn(before.signed.keys, id) ? before.signed.keys[id] : undefined;
    const oldIdentity = oldKey && keyIdentity(oldKey);
    if (oldIdentity === undefined) return false; // a key without an identity never counted
    const newKey = Object.hasOwn(after.signed.keys, id) ? after.signed.keys[id] : undefined;
    return !listed.has(id) || !newKey || keyIdentity(newKey) !== oldIdentity;
  });
}

export class TufTrustedMetadataSet {
  private rootMd: Metadata<Root>;
  /** Trusted timestamp: the previously trusted one until updateTimestamp accepts a new one. */
  private timestampMd: Metadata<Timestamp> | undefined;
  private snapshotMd: Metadata<Snapshot> | undefined;
  private timestampUpdated = false;
  private snapshotUpdated = false;
  private readonly targetsMd = new Map<string, Metadata<Targets>>();

  /**
   * @param trustedRoot bytes of the root trusted before this update (cached or out of band); it
   *   must verify by its own root role.
   * @param referenceTimeMs Unix epoch ms every expiry of this update is judged against.
   */
  constructor(
    trustedRoot: Uint8Array,
    private readonly referenceTimeMs: number,
  ) {
    const root = parse<Root>('root', trustedRoot, 'trusted root');
    verifyByRoot(root, 'root', root, 'trusted root');
    this.rootMd = root;
  }

  get root(): Metadata<Root> {
    return this.rootMd;
  }
  get timestamp(): Metadata<Timestamp> | undefined {
    return this.timestampUpdated ? this.timestampMd : undefined;
  }
  get snapshot(): Metadata<Snapshot> | undefined {
    return this.snapshotUpdated ? this.snapshotMd : undefined;
  }
  /** Trusted targets metadata of `role` (`targets` or a delegated role) loaded in this update. */
  targets(role: string): Metadata<Targets> | undefined {
    return this.targetsMd.get(role);
  }

  /**
   * Targets metadata of `role` already trusted in this update, reached again through `delegator`:
   * a role delegated by several parents must satisfy each parent's keys and threshold, not only
   * those of the parent it was first loaded through.
   */
  trustedTargetsVia(role: string, delegator: string): Metadata<Targets> | undefined {
    const md = this.targetsMd.get(role);
    if (md) this.verifyDelegated(role, delegator, md, `${role}.json (via ${delegator})`);
    return md;
  }

  private isExpired(meta: AnyMeta, name: string): boolean {
    const expires = Date.parse(meta.signed.expires);
    if (Number.isNaN(expires))
      fail('TUF_METADATA_MALFORMED', `${name}: unparseable expiry ${meta.signed.expires}`);
    return this.referenceTimeMs >= expires;
  }

  private checkFresh(meta: AnyMeta, name: string): void {
    if (this.isExpired(meta, name))
      fail('TUF_EXPIRED', `${name} expired at ${meta.signed.expires} (freeze attack?)`);
  }

  private requireState(ok: boolean, what: string): void {
    if (!ok) fail('TUF_NOT_REFRESHED', `out of order: ${what}`);
  }

  /**
   * §5.2: load the timestamp or snapshot trusted by an earlier update as the rollback reference.
   * It must carry a valid signature by a key the trusted root lists for its role. One signature is
   * enough, not the role's threshold: the threshold may have been raised since the metadata was
   * trusted, and a reference can only make this update refuse more — it is never trusted for
   * content (reusing cached bytes goes through the full update below). Keys rotated out since are
   * excluded: §5.3.11 deleted such metadata before the root that rotated them out was persisted.
   */
  loadPrevious(kind: 'timestamp' | 'snapshot', bytes: Uint8Array): void {
    this.requireState(!this.timestampUpdated, 'previous metadata after the timestamp update');
    const md =
      kind === 'timestamp'
        ? parse<Timestamp>('timestamp', bytes, 'cached timestamp')
        : parse<Snapshot>('snapshot', bytes, 'cached snapshot');
    const role = this.rootMd.signed.roles[kind];
    if (!role) fail('TUF_METADATA_MALFORMED', `root has no ${kind} role`);
    verifyThreshold(this.rootMd.signed.keys, role.keyIDs, 1, md, `cached ${kind}`);
    if (kind === 'timestamp') this.timestampMd = md as Metadata<Timestamp>;
    else this.snapshotMd = md as Metadata<Snapshot>;
  }

  /** §5.3.4–5.3.11: accept the next root version; drops references whose keys were rotated out. */
  updateRoot(bytes: Uint8Array): TufRootStep {
    this.requireState(!this.timestampUpdated, 'root update after the timestamp update');
    const trusted = this.rootMd;
    const next = trusted.signed.version + 1;
    const name = `${next}.root.json`;
    const candidate = parse<Root>('root', bytes, name);
    verifyByRoot(trusted, 'root', candidate, `${name} (by trusted root)`);
    if (candidate.signed.version !== next) {
      fail('TUF_VERSION_MISMATCH', `${name} carries version ${candidate.signed.version}`);
    }
    verifyByRoot(candidate, 'root', candidate, `${name} (by itself)`);
    const step: TufRootStep = {
      version: next,
      timestampKeysRotatedOut: keysRotatedOut(trusted, candidate, 'timestamp'),
      snapshotKeysRotatedOut: keysRotatedOut(trusted, candidate, 'snapshot'),
    };
    if (step.timestampKeysRotatedOut) this.timestampMd = undefined;
    if (step.snapshotKeysRotatedOut) this.snapshotMd = undefined;
    this.rootMd = candidate;
    return step;
  }

  /** §5.3.10: the final root must not be expired. */
  checkRootFresh(): void {
    this.checkFresh(this.rootMd, 'root');
  }

  /**
   * §5.4: verify a new timestamp and check it against the previously trusted one. Returns true
   * when the new one is now trusted, false when it has the trusted version and the trusted one is
   * kept (§5.4.3.1).
   */
  updateTimestamp(bytes: Uint8Array): boolean {
    this.requireState(!this.timestampUpdated, 'second timestamp update');
    this.checkRootFresh();
    const fresh = parse<Timestamp>('timestamp', bytes, 'timestamp.json');
    verifyByRoot(this.rootMd, 'timestamp', fresh, 'timestamp.json');
    const previous = this.timestampMd;
    let keepPrevious = false;
    if (previous) {
      const [v, was] = [fresh.signed.version, previous.signed.version];
      if (v < was) fail('TUF_ROLLBACK', `timestamp version ${v} < trusted ${was}`);
      const [sv, swas] = [fresh.signed.snapshotMeta.version, previous.signed.snapshotMeta.version];
      if (sv < swas) fail('TUF_ROLLBACK', `timestamp lists snapshot version ${sv} < trusted ${swas}`);
      keepPrevious = v === was && this.verifiesByRoot('timestamp', previous);
    }
    const trusted = keepPrevious ? (previous as Metadata<Timestamp>) : fresh;
    this.checkFresh(trusted, 'timestamp');
    this.timestampMd = trusted;
    this.timestampUpdated = true;
    return !keepPrevious;
  }

  private verifiesByRoot(role: Kind, meta: AnyMeta): boolean {
    try {
      verifyByRoot(this.rootMd, role, meta, role);
      return true;
    } catch {
      return false;
    }
  }

  /** §5.5: verify snapshot bytes (fetched or cached) against the trusted timestamp and the previous snapshot. */
  updateSnapshot(bytes: Uint8Array, name: string): void {
    const timestamp = this.timestamp;
    this.requireState(timestamp !== undefined && !this.snapshotUpdated, 'snapshot update');
    const meta = (timestamp as Metadata<Timestamp>).signed.snapshotMeta;
    verifyLengthAndHashes(meta, bytes, name);
    const fresh = parse<Snapshot>('snapshot', bytes, name);
    verifyByRoot(this.rootMd, 'snapshot', fresh, name);
    if (fresh.signed.version !== meta.version) {
      fail('TUF_VERSION_MISMATCH', `${name} version ${fresh.signed.version}, timestamp says ${meta.version}`);
    }
    const previous = this.snapshotMd;
    if (previous) checkSnapshotRollback(previous, fresh, name);
    this.checkFresh(fresh, name);
    this.snapshotMd = fresh;
    this.snapshotUpdated = true;
  }

  /**
   * §5.6: verify targets metadata bytes of `role` against the trusted snapshot and the delegating
   * metadata (`root` for the top-level `targets`, otherwise trusted targets metadata of
   * `delegator`). Thresholds count distinct keys.
   */
  updateTargets(role: string, delegator: string, bytes: Uint8Array, name: string): Metadata<Targets> {
    const snapshot = this.snapshot;
    this.requireState(snapshot !== undefined, 'targets update before the snapshot');
    const metaName = `${role}.json`;
    const meta = Object.hasOwn((snapshot as Metadata<Snapshot>).signed.meta, metaName)
      ? (snapshot as Metadata<Snapshot>).signed.meta[metaName]
      : undefined;
    if (!meta) fail('TUF_METADATA_MISSING', `snapshot does not list ${metaName}`);
    verifyLengthAndHashes(meta, bytes, name);
    const md = parse<Targets>('targets', bytes, name);
    this.verifyDelegated(role, delegator, md, name);
    if (md.signed.version !== meta.version) {
      fail('TUF_VERSION_MISMATCH', `${name} version ${md.signed.version}, snapshot says ${meta.version}`);
    }
    this.checkFresh(md, name);
    this.targetsMd.set(role, md);
    return md;
  }

  private verifyDelegated(role: string, delegator: string, md: Metadata<Targets>, name: string): void {
    if (delegator === 'root') {
      if (role !== 'targets') fail('TUF_METADATA_MALFORMED', `root does not delegate ${role}`);
      verifyByRoot(this.rootMd, 'targets', md, name);
      return;
    }
    const parent = this.targetsMd.get(delegator);
    this.requireState(parent !== undefined, `${role} before its delegator ${delegator}`);
    const delegations = (parent as Metadata<Targets>).signed.delegations;
    const explicit =
      delegations?.roles && Object.hasOwn(delegations.roles, role) ? delegations.roles[role] : undefined;
    const succinct = delegations?.succinctRoles;
    const spec = explicit ?? (succinct?.isDelegatedRole(role) ? succinct : undefined);
    if (!delegations || !spec) fail('TUF_METADATA_MALFORMED', `${delegator} does not delegate to ${role}`);
    verifyThreshold(delegations.keys, spec.keyIDs, spec.threshold, md, name);
  }
}

/**
 * §5.5.5: no targets metadata listed by the previous snapshot may disappear or go back in version.
 * Stricter than the specification: the snapshot's own version may not go back either (possible
 * only when the cached timestamp was dropped by §5.3.11 and the snapshot was not).
 */
function checkSnapshotRollback(previous: Metadata<Snapshot>, fresh: Metadata<Snapshot>, name: string): void {
  if (fresh.signed.version < previous.signed.version) {
    fail('TUF_ROLLBACK', `${name} version ${fresh.signed.version} < trusted ${previous.signed.version}`);
  }
  for (const [file, oldMeta] of Object.entries(previous.signed.meta)) {
    const now = Object.hasOwn(fresh.signed.meta, file) ? fresh.signed.meta[file] : undefined;
    if (!now) fail('TUF_ROLLBACK', `${name} drops ${file}`);
    if (now.version < oldMeta.version)
      fail('TUF_ROLLBACK', `${file} version ${now.version} < trusted ${oldMeta.version}`);
  }
}

/** A target as listed by trusted targets metadata. */
export interface TufTargetInfo {
  readonly path: string;
  readonly length: number;
  /** Algorithm → lowercase hex digest, exactly as the metadata lists them. */
  readonly hashes: Readonly<Record<string, string>>;
  /** The role whose metadata listed the target (`targets` or a delegated role). */
  readonly role: string;
  readonly custom: Readonly<Record<string, unknown>>;
}

/** A role to visit next in the delegation search, with the role whose metadata delegates it. */
export interface TufDelegationStep {
  readonly role: string;
  readonly delegator: string;
}

/**
 * One step of the §5.6.7 pre-order depth-first search for `path` in trusted targets metadata `md`
 * of `role`: the target when `md` lists it (refused when it lists no hashes), otherwise the roles
 * `md` delegates `path` to, in search order, up to and including the first terminating one
 * (`terminating`: the search visits nothing else after them).
 */
export function targetSearchStep(
  md: Metadata<Targets>,
  role: string,
  path: string,
):
  | { readonly target: TufTargetInfo }
  | { readonly delegations: readonly TufDelegationStep[]; readonly terminating: boolean } {
  const target = Object.hasOwn(md.signed.targets, path) ? md.signed.targets[path] : undefined;
  if (target) {
    if (Object.keys(target.hashes).length === 0) fail('TUF_METADATA_MALFORMED', `${path} lists no hashes`);
    return {
      target: {
        path,
        length: target.length,
        hashes: { ...target.hashes },
        role,
        custom: { ...target.custom },
      },
    };
  }
  const delegations: TufDelegationStep[] = [];
  for (const child of md.signed.delegations?.rolesForTarget(path) ?? []) {
    delegations.push({ role: child.role, delegator: role });
    if (child.terminating) return { delegations, terminating: true };
  }
  return { delegations, terminating: false };
}

/** Downloaded target bytes: exactly `info.length` bytes and every listed hash (unknown algorithms fail). */
export function verifyTarget(info: TufTargetInfo, bytes: Uint8Array, name: string): void {
  if (bytes.length !== info.length) {
    fail('TUF_LENGTH_OR_HASH_MISMATCH', `${name}: length ${bytes.length}, expected ${info.length}`);
  }
  verifyLengthAndHashes(
    new MetaFile({ version: 1, length: info.length, hashes: { ...info.hashes } }),
    bytes,
    name,
  );
}
