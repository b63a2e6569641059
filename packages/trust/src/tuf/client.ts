// A TUF 1.0 client (specification §5 "Detailed client workflow") over injected ports: the root
// rotation chain with thresholds, timestamp → snapshot → targets, delegations (pre-order DFS with
// terminating roles), expiry against an injected clock, rollback and freeze refusal, and target
// length/hash checks. Metadata parsing and signature verification (TUF canonical JSON, ed25519 /
// ECDSA / RSA-PSS) come from @tufjs/models. Normative notes: packages/trust/README.md.
import {
  type Key,
  Metadata,
  type MetadataKind,
  MetaFile,
  type Root,
  type Snapshot,
  type Targets,
  type Timestamp,
} from '@tufjs/models';
import { TrustError, type TufErrorCode } from '../errors.js';
import type { TufClock, TufFetcher, TufMetadataCache } from './ports.js';
import { InMemoryTufMetadataCache } from './ports.js';

export interface TufLimits {
  readonly rootMaxLength: number;
  readonly timestampMaxLength: number;
  /** Used when timestamp/snapshot metadata carry no length. */
  readonly snapshotMaxLength: number;
  readonly targetsMaxLength: number;
  readonly maxRootRotations: number;
  readonly maxDelegations: number;
}

export const DEFAULT_TUF_LIMITS: TufLimits = {
  rootMaxLength: 512 * 1024,
  timestampMaxLength: 16 * 1024,
  snapshotMaxLength: 2 * 1024 * 1024,
  targetsMaxLength: 5 * 1024 * 1024,
  maxRootRotations: 32,
  maxDelegations: 32,
};

export interface TufClientOptions {
  readonly fetcher: TufFetcher;
  /** Unix epoch ms; every expiry is judged against it. */
  readonly clock: TufClock;
  /** Bytes of the root metadata trusted out of band (used when the cache holds no root). */
  readonly trustedRoot: Uint8Array;
  readonly cache?: TufMetadataCache;
  readonly limits?: Partial<TufLimits>;
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

/** Versions of the trusted top-level metadata after a refresh. */
export interface TufRefreshResult {
  readonly root: number;
  readonly timestamp: number;
  readonly snapshot: number;
  readonly targets: number;
}

type AnyMeta = Metadata<Root | Timestamp | Snapshot | Targets>;

const decoder = new TextDecoder('utf-8', { fatal: true });

function fail(code: TufErrorCode, message: string): never {
  throw new TrustError(code, message);
}

function parse<T extends Root | Timestamp | Snapshot | Targets>(
  kind: 'root' | 'timestamp' | 'snapshot' | 'targets',
  bytes: Uint8Array,
  name: string,
): Metadata<T> {
  try {
    const json = JSON.parse(decoder.decode(bytes));
    return Metadata.fromJSON(kind as MetadataKind.Root, json) as unknown as Metadata<T>;
  } catch (error) {
    return fail('TUF_METADATA_MALFORMED', `${name}: ${(error as Error).message}`);
  }
}

/** Count distinct keys of `keyIDs` (resolved in `keys`) whose signature over `meta` verifies. */
function verifyThreshold(
  keys: Record<string, Key>,
  keyIDs: readonly string[],
  threshold: number,
  meta: AnyMeta,
  name: string,
): void {
  const good = new Set<string>();
  for (const keyID of keyIDs) {
    const key = keys[keyID];
    if (!key || good.has(keyID)) continue;
    try {
      key.verifySignature(meta);
      good.add(keyID);
    } catch {
      // an invalid or missing signature simply does not count
    }
  }
  if (!(threshold >= 1) || good.size < threshold) {
    fail('TUF_THRESHOLD_NOT_MET', `${name}: ${good.size} valid signatures, threshold ${threshold}`);
  }
}

function verifyByRoot(root: Metadata<Root>, role: string, meta: AnyMeta, name: string): void {
  const r = root.signed.roles[role];
  if (!r) fail('TUF_METADATA_MALFORMED', `root has no ${role} role`);
  verifyThreshold(root.signed.keys, r.keyIDs, r.threshold, meta, name);
}

function verifyBytes(meta: MetaFile, bytes: Uint8Array, name: string): void {
  try {
    meta.verify(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    fail('TUF_LENGTH_OR_HASH_MISMATCH', `${name}: ${(error as Error).message}`);
  }
}

function roleKeysEqual(a: Metadata<Root>, b: Metadata<Root>, role: string): boolean {
  const ra = a.signed.roles[role];
  const rb = b.signed.roles[role];
  return !!ra && !!rb && ra.threshold === rb.threshold && ra.keyIDs.join(',') === rb.keyIDs.join(',');
}

export class TufClient {
  private readonly fetcher: TufFetcher;
  private readonly clock: TufClock;
  private readonly cache: TufMetadataCache;
  private readonly limits: TufLimits;
  private readonly bootstrap: Uint8Array;
  private root: Metadata<Root> | undefined;
  private snapshot: Metadata<Snapshot> | undefined;
  private targets = new Map<string, Metadata<Targets>>();

  constructor(options: TufClientOptions) {
    this.fetcher = options.fetcher;
    this.clock = options.clock;
    this.cache = options.cache ?? new InMemoryTufMetadataCache();
    this.limits = { ...DEFAULT_TUF_LIMITS, ...options.limits };
    this.bootstrap = Uint8Array.from(options.trustedRoot);
  }

  private expired(meta: AnyMeta): boolean {
    const expires = Date.parse(meta.signed.expires);
    if (Number.isNaN(expires)) fail('TUF_METADATA_MALFORMED', `unparseable expiry ${meta.signed.expires}`);
    return this.clock() >= expires;
  }

  private checkFresh(meta: AnyMeta, name: string): void {
    if (this.expired(meta)) fail('TUF_EXPIRED', `${name} expired at ${meta.signed.expires} (freeze attack?)`);
  }

  private async fetch(
    kind: 'metadata' | 'target',
    name: string,
    maxLength: number,
  ): Promise<Uint8Array | undefined> {
    let bytes: Uint8Array | undefined;
    try {
      bytes =
        kind === 'metadata'
          ? await this.fetcher.fetchMetadata(name, maxLength)
          : await this.fetcher.fetchTarget(name, maxLength);
    } catch (error) {
      return fail('TUF_FETCH_FAILED', `${name}: ${(error as Error)?.message ?? String(error)}`);
    }
    if (bytes !== undefined && !(bytes instanceof Uint8Array))
      fail('TUF_FETCH_FAILED', `${name}: fetcher returned no bytes`);
    if (bytes && bytes.length > maxLength) {
      fail(
        kind === 'metadata' ? 'TUF_METADATA_TOO_LARGE' : 'TUF_LENGTH_OR_HASH_MISMATCH',
        `${name}: more than ${maxLength} bytes`,
      );
    }
    return bytes;
  }

  private async fetchRequired(name: string, maxLength: number): Promise<Uint8Array> {
    const bytes = await this.fetch('metadata', name, maxLength);
    if (!bytes) fail('TUF_METADATA_MISSING', `${name} is not in the repository`);
    return bytes;
  }

  /** §5.3: load the trusted root and walk the root rotation chain. */
  private async updateRoot(): Promise<Metadata<Root>> {
    const cached = this.cache.get('root');
    let trusted = parse<Root>('root', cached ?? this.bootstrap, 'trusted root');
    verifyByRoot(trusted, 'root', trusted, 'trusted root');
    if (!cached) this.cache.set('root', this.bootstrap);
    const initial = trusted;
    let rotations = 0;
    for (;;) {
      const next = trusted.signed.version + 1;
      const name = `${next}.root.json`;
      const bytes = await this.fetch('metadata', name, this.limits.rootMaxLength);
      if (!bytes) break;
      if (++rotations > this.limits.maxRootRotations) {
        fail('TUF_ROOT_ROTATION_LIMIT', `more than ${this.limits.maxRootRotations} root rotations`);
      }
      const candidate = parse<Root>('root', bytes, name);
      verifyByRoot(trusted, 'root', candidate, `${name} (by trusted root)`);
      if (candidate.signed.version !== next) {
        fail('TUF_VERSION_MISMATCH', `${name} carries version ${candidate.signed.version}`);
      }
      verifyByRoot(candidate, 'root', candidate, `${name} (by itself)`);
      trusted = candidate;
      this.cache.set('root', bytes);
    }
    this.checkFresh(trusted, 'root');
    if (trusted !== initial) {
      // §5.3.11: rotated timestamp/snapshot keys invalidate the cached metadata (fast-forward recovery)
      if (!roleKeysEqual(initial, trusted, 'timestamp')) this.cache.delete('timestamp');
      if (!roleKeysEqual(initial, trusted, 'snapshot')) this.cache.delete('snapshot');
    }
    return trusted;
  }

  /** Cached metadata that still verifies under the current root, or undefined. */
  private cachedVerified<T extends Timestamp | Snapshot>(
    root: Metadata<Root>,
    kind: 'timestamp' | 'snapshot',
  ): Metadata<T> | undefined {
    const bytes = this.cache.get(kind);
    if (!bytes) return undefined;
    try {
      const meta = parse<T>(kind, bytes, `cached ${kind}`);
      verifyByRoot(root, kind, meta, `cached ${kind}`);
      return meta;
    } catch {
      return undefined;
    }
  }

  /** §5.4 */
  private async updateTimestamp(root: Metadata<Root>): Promise<Metadata<Timestamp>> {
    const old = this.cachedVerified<Timestamp>(root, 'timestamp');
    const bytes = await this.fetchRequired('timestamp.json', this.limits.timestampMaxLength);
    const fresh = parse<Timestamp>('timestamp', bytes, 'timestamp.json');
    verifyByRoot(root, 'timestamp', fresh, 'timestamp.json');
    let trusted = fresh;
    if (old) {
      if (fresh.signed.version < old.signed.version) {
        fail('TUF_ROLLBACK', `timestamp version ${fresh.signed.version} < trusted ${old.signed.version}`);
      }
      if (fresh.signed.snapshotMeta.version < old.signed.snapshotMeta.version) {
        fail(
          'TUF_ROLLBACK',
          `snapshot version ${fresh.signed.snapshotMeta.version} < trusted ${old.signed.snapshotMeta.version}`,
        );
      }
      if (fresh.signed.version === old.signed.version) trusted = old;
    }
    this.checkFresh(trusted, 'timestamp');
    if (trusted === fresh) this.cache.set('timestamp', bytes);
    return trusted;
  }

  private snapshotName(root: Metadata<Root>, version: number): string {
    return root.signed.consistentSnapshot ? `${version}.snapshot.json` : 'snapshot.json';
  }

  /** §5.5 */
  private async updateSnapshot(
    root: Metadata<Root>,
    timestamp: Metadata<Timestamp>,
  ): Promise<Metadata<Snapshot>> {
    const meta = timestamp.signed.snapshotMeta;
    const old = this.cachedVerified<Snapshot>(root, 'snapshot');
    if (old && old.signed.version === meta.version) {
      const cachedBytes = this.cache.get('snapshot') as Uint8Array;
      verifyBytes(meta, cachedBytes, 'cached snapshot');
      this.checkFresh(old, 'snapshot');
      return old;
    }
    const name = this.snapshotName(root, meta.version);
    const bytes = await this.fetchRequired(name, meta.length ?? this.limits.snapshotMaxLength);
    verifyBytes(meta, bytes, name);
    const fresh = parse<Snapshot>('snapshot', bytes, name);
    verifyByRoot(root, 'snapshot', fresh, name);
    if (fresh.signed.version !== meta.version) {
      fail('TUF_VERSION_MISMATCH', `${name} version ${fresh.signed.version}, timestamp says ${meta.version}`);
    }
    if (old) {
      for (const [file, oldMeta] of Object.entries(old.signed.meta)) {
        const now = fresh.signed.meta[file];
        if (!now) fail('TUF_ROLLBACK', `${name} drops ${file}`);
        if (now.version < oldMeta.version)
          fail('TUF_ROLLBACK', `${file} version ${now.version} < trusted ${oldMeta.version}`);
      }
    }
    this.checkFresh(fresh, name);
    this.cache.set('snapshot', bytes);
    return fresh;
  }

  /** §5.6: load the top-level targets role or a delegated one, verified by its delegator. */
  private async loadTargets(
    role: string,
    delegator: Metadata<Root> | Metadata<Targets>,
  ): Promise<Metadata<Targets>> {
    const known = this.targets.get(role);
    if (known) return known;
    const root = this.root as Metadata<Root>;
    const snapshot = this.snapshot as Metadata<Snapshot>;
    const meta = snapshot.signed.meta[`${role}.json`];
    if (!meta) fail('TUF_METADATA_MISSING', `snapshot does not list ${role}.json`);
    const name = root.signed.consistentSnapshot ? `${meta.version}.${role}.json` : `${role}.json`;
    let bytes = this.cache.get(role);
    let fromCache = true;
    let md: Metadata<Targets> | undefined;
    if (bytes) {
      try {
        verifyBytes(meta, bytes, name);
        md = parse<Targets>('targets', bytes, name);
        if (md.signed.version !== meta.version) md = undefined;
      } catch {
        md = undefined;
      }
    }
    if (!md) {
      fromCache = false;
      bytes = await this.fetchRequired(name, meta.length ?? this.limits.targetsMaxLength);
      verifyBytes(meta, bytes, name);
      md = parse<Targets>('targets', bytes, name);
    }
    if (delegator.signed.type === 'root') {
      verifyByRoot(delegator as Metadata<Root>, 'targets', md, name);
    } else {
      const delegations = (delegator as Metadata<Targets>).signed.delegations;
      const r = delegations?.roles?.[role];
      const succinct = delegations?.succinctRoles;
      const spec = r ?? (succinct?.isDelegatedRole(role) ? succinct : undefined);
      if (!delegations || !spec) fail('TUF_METADATA_MALFORMED', `no delegation to ${role}`);
      verifyThreshold(delegations.keys, spec.keyIDs, spec.threshold, md, name);
    }
    if (md.signed.version !== meta.version) {
      fail('TUF_VERSION_MISMATCH', `${name} version ${md.signed.version}, snapshot says ${meta.version}`);
    }
    this.checkFresh(md, name);
    if (!fromCache) this.cache.set(role, bytes as Uint8Array);
    this.targets.set(role, md);
    return md;
  }

  /** Run the §5 update: root chain, timestamp, snapshot, top-level targets. */
  async refresh(): Promise<TufRefreshResult> {
    this.root = undefined;
    this.snapshot = undefined;
    this.targets = new Map();
    const root = await this.updateRoot();
    const timestamp = await this.updateTimestamp(root);
    this.root = root;
    const snapshot = await this.updateSnapshot(root, timestamp);
    this.snapshot = snapshot;
    const targets = await this.loadTargets('targets', root);
    return {
      root: root.signed.version,
      timestamp: timestamp.signed.version,
      snapshot: snapshot.signed.version,
      targets: targets.signed.version,
    };
  }

  private requireRefreshed(): void {
    if (!this.snapshot) fail('TUF_NOT_REFRESHED', 'call refresh() successfully first');
  }

  /** §5.6.7: pre-order depth-first search of the delegation graph for `path`; undefined when absent. */
  async getTargetInfo(path: string): Promise<TufTargetInfo | undefined> {
    this.requireRefreshed();
    const root = this.root as Metadata<Root>;
    const stack: { role: string; delegator: Metadata<Root> | Metadata<Targets> }[] = [
      { role: 'targets', delegator: root },
    ];
    const visited = new Set<string>();
    while (stack.length > 0) {
      if (visited.size >= this.limits.maxDelegations) {
        fail('TUF_DELEGATION_LIMIT', `more than ${this.limits.maxDelegations} roles visited for ${path}`);
      }
      const { role, delegator } = stack.pop() as (typeof stack)[number];
      if (visited.has(role)) continue;
      const md = await this.loadTargets(role, delegator);
      const target = md.signed.targets[path];
      if (target) {
        if (Object.keys(target.hashes).length === 0)
          fail('TUF_METADATA_MALFORMED', `${path} lists no hashes`);
        return {
          path,
          length: target.length,
          hashes: { ...target.hashes },
          role,
          custom: { ...target.custom },
        };
      }
      visited.add(role);
      const delegations = md.signed.delegations;
      if (!delegations) continue;
      const children: { role: string; delegator: Metadata<Targets> }[] = [];
      for (const child of delegations.rolesForTarget(path)) {
        children.push({ role: child.role, delegator: md });
        if (child.terminating) {
          stack.length = 0;
          break;
        }
      }
      stack.push(...children.reverse());
    }
    return undefined;
  }

  /** Download `info`'s target through the fetcher and verify its length and every listed hash. */
  async downloadTarget(info: TufTargetInfo): Promise<Uint8Array> {
    this.requireRefreshed();
    const root = this.root as Metadata<Root>;
    let name = info.path;
    if (root.signed.consistentSnapshot) {
      const hash = info.hashes.sha256 ?? Object.values(info.hashes)[0];
      const slash = info.path.lastIndexOf('/');
      name = `${info.path.slice(0, slash + 1)}${hash}.${info.path.slice(slash + 1)}`;
    }
    const bytes = await this.fetch('target', name, info.length);
    if (!bytes) fail('TUF_TARGET_NOT_FOUND', `${name} is not served`);
    // the same check as for metadata: exact length and every listed hash (unknown algorithms fail)
    if (bytes.length !== info.length) {
      fail('TUF_LENGTH_OR_HASH_MISMATCH', `${name}: length ${bytes.length}, expected ${info.length}`);
    }
    verifyBytes(new MetaFile({ version: 1, length: info.length, hashes: { ...info.hashes } }), bytes, name);
    return bytes;
  }

  /** Look up (after `refresh`) and download a verified target; TUF_TARGET_NOT_FOUND when no role lists it. */
  async fetchTarget(path: string): Promise<Uint8Array> {
    const info = await this.getTargetInfo(path);
    if (!info) fail('TUF_TARGET_NOT_FOUND', `no trusted targets metadata lists ${path}`);
    return this.downloadTarget(info);
  }
}
