// The TUF client's update loop (TUF specification §5 "Detailed client workflow"), outside the TCB:
// it drives the fetcher port, hands every byte string to the trusted metadata set of the TCB
// (`@helm/trust/tuf`) for verification, and persists what the set accepted through the cache port.
// What is trusted is decided only there — metadata by `TufTrustedMetadataSet`, each step of a
// target search by `targetSearchStep`, downloaded bytes by `verifyTarget`; this loop decides which
// bytes to ask for, and the limits on how many. Rules, refusal codes and where we are stricter than
// tuf-js: docs/spec/tuf-client.md.
import {
  checkVersionForName,
  encodeRoleName,
  metadataFileName,
  type TufDelegationStep,
  type TufTargetInfo,
  TufTrustedMetadataSet,
  targetFileName,
  targetSearchStep,
  verifyTarget,
} from '@helm/trust/tuf';
import { TrustError, type TrustErrorCode } from '@helm/trust/verify';
import type { TufClock, TufFetcher, TufMetadataCache } from './ports.js';
import { InMemoryTufMetadataCache } from './ports.js';

export interface TufLimits {
  readonly rootMaxLength: number;
  readonly timestampMaxLength: number;
  /** Used when timestamp/snapshot metadata carry no length. */
  readonly snapshotMaxLength: number;
  readonly targetsMaxLength: number;
  /** Root versions accepted per refresh; progress is persisted, the next refresh continues. */
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
  /** Unix epoch ms; read once per refresh, every expiry of that refresh is judged against it. */
  readonly clock: TufClock;
  /** Bytes of the root metadata trusted out of band (used when the cache holds no root). */
  readonly trustedRoot: Uint8Array;
  /** Defaults to an in-memory cache owned by this client (progress persists across its refreshes). */
  readonly cache?: TufMetadataCache;
  readonly limits?: Partial<TufLimits>;
}

/** Versions of the trusted top-level metadata after a refresh. */
export interface TufRefreshResult {
  readonly root: number;
  readonly timestamp: number;
  readonly snapshot: number;
  readonly targets: number;
}

function fail(code: TrustErrorCode, message: string): never {
  throw new TrustError(code, message);
}

export class TufClient {
  private readonly fetcher: TufFetcher;
  private readonly clock: TufClock;
  private readonly cache: TufMetadataCache;
  private readonly limits: TufLimits;
  private readonly bootstrap: Uint8Array;
  /** The set of the last successful refresh (undefined before one, and while a refresh runs). */
  private trusted: TufTrustedMetadataSet | undefined;

  constructor(options: TufClientOptions) {
    this.fetcher = options.fetcher;
    this.clock = options.clock;
    this.cache = options.cache ?? new InMemoryTufMetadataCache();
    this.limits = { ...DEFAULT_TUF_LIMITS, ...options.limits };
    this.bootstrap = Uint8Array.from(options.trustedRoot);
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

  /** §5.2: the trusted root, and the previously trusted timestamp and snapshot as rollback references. */
  private loadTrusted(referenceTimeMs: number): TufTrustedMetadataSet {
    const cached = this.cache.get('root');
    const set = new TufTrustedMetadataSet(cached ?? this.bootstrap, referenceTimeMs);
    if (!cached) this.cache.set('root', this.bootstrap);
    for (const kind of ['timestamp', 'snapshot'] as const) {
      const bytes = this.cache.get(kind);
      if (!bytes) continue;
      try {
        set.loadPrevious(kind, bytes);
      } catch {
        // metadata that does not verify under the trusted root was never trusted: no reference
      }
    }
    return set;
  }

  /**
   * §5.3: walk the root chain, at most `maxRootRotations` versions per refresh. Every accepted
   * version is persisted at once (so a refresh that stops at the limit, or fails later, leaves the
   * progress for the next one), and §5.3.11 deletes the cached timestamp / snapshot whose keys the
   * version rotated out. More versions beyond the limit refuse this refresh: metadata is never
   * verified under a root known to be superseded.
   */
  private async updateRoot(set: TufTrustedMetadataSet): Promise<void> {
    for (let walked = 0; ; walked++) {
      const name = `${checkVersionForName(set.root.signed.version) + 1}.root.json`;
      const bytes = await this.fetch('metadata', name, this.limits.rootMaxLength);
      if (!bytes) break;
      if (walked >= this.limits.maxRootRotations) {
        fail(
          'TUF_ROOT_ROTATION_LIMIT',
          `more than ${this.limits.maxRootRotations} root versions in one refresh`,
        );
      }
      const step = set.updateRoot(bytes);
      if (step.timestampKeysRotatedOut) this.cache.delete('timestamp');
      if (step.snapshotKeysRotatedOut) this.cache.delete('snapshot');
      this.cache.set('root', bytes);
    }
    set.checkRootFresh();
  }

  /** §5.4 */
  private async updateTimestamp(set: TufTrustedMetadataSet): Promise<void> {
    const bytes = await this.fetchRequired('timestamp.json', this.limits.timestampMaxLength);
    if (set.updateTimestamp(bytes)) this.cache.set('timestamp', bytes);
  }

  /** §5.5: the cached snapshot when it is the one the timestamp names, otherwise fetched. */
  private async updateSnapshot(set: TufTrustedMetadataSet): Promise<void> {
    const cached = this.cache.get('snapshot');
    if (cached && tryUpdate(() => set.updateSnapshot(cached, 'cached snapshot'))) return;
    const meta = (set.timestamp as NonNullable<typeof set.timestamp>).signed.snapshotMeta;
    const version = set.root.signed.consistentSnapshot ? meta.version : undefined;
    const name = metadataFileName('snapshot', version);
    const bytes = await this.fetchRequired(name, meta.length ?? this.limits.snapshotMaxLength);
    set.updateSnapshot(bytes, name);
    this.cache.set('snapshot', bytes);
  }

  /** §5.6: targets metadata of `role` (cached when it matches the snapshot, otherwise fetched). */
  private async loadTargets(
    set: TufTrustedMetadataSet,
    role: string,
    delegator: string,
  ): Promise<ReturnType<TufTrustedMetadataSet['updateTargets']>> {
    const known = set.trustedTargetsVia(role, delegator);
    if (known) return known;
    const snapshot = set.snapshot as NonNullable<typeof set.snapshot>;
    const meta = Object.hasOwn(snapshot.signed.meta, `${role}.json`)
      ? snapshot.signed.meta[`${role}.json`]
      : undefined;
    if (!meta) fail('TUF_METADATA_MISSING', `snapshot does not list ${role}.json`);
    const name = metadataFileName(role, set.root.signed.consistentSnapshot ? meta.version : undefined);
    const cacheKey = encodeRoleName(role);
    const cached = this.cache.get(cacheKey);
    let md: ReturnType<TufTrustedMetadataSet['updateTargets']> | undefined;
    if (cached && tryUpdate(() => (md = set.updateTargets(role, delegator, cached, name))))
      return md as NonNullable<typeof md>;
    const bytes = await this.fetchRequired(name, meta.length ?? this.limits.targetsMaxLength);
    md = set.updateTargets(role, delegator, bytes, name);
    this.cache.set(cacheKey, bytes);
    return md;
  }

  /** Run the §5 update: root chain, timestamp, snapshot, top-level targets. */
  async refresh(): Promise<TufRefreshResult> {
    this.trusted = undefined;
    const set = this.loadTrusted(this.clock());
    await this.updateRoot(set);
    await this.updateTimestamp(set);
    await this.updateSnapshot(set);
    const targets = await this.loadTargets(set, 'targets', 'root');
    this.trusted = set;
    return {
      root: set.root.signed.version,
      timestamp: (set.timestamp as NonNullable<typeof set.timestamp>).signed.version,
      snapshot: (set.snapshot as NonNullable<typeof set.snapshot>).signed.version,
      targets: targets.signed.version,
    };
  }

  private requireRefreshed(): TufTrustedMetadataSet {
    if (!this.trusted) fail('TUF_NOT_REFRESHED', 'call refresh() successfully first');
    return this.trusted;
  }

  /** §5.6.7: pre-order depth-first search of the delegation graph for `path`; undefined when absent. */
  async getTargetInfo(path: string): Promise<TufTargetInfo | undefined> {
    const set = this.requireRefreshed();
    const stack: TufDelegationStep[] = [{ role: 'targets', delegator: 'root' }];
    const visited = new Set<string>();
    while (stack.length > 0) {
      if (visited.size >= this.limits.maxDelegations) {
        fail('TUF_DELEGATION_LIMIT', `more than ${this.limits.maxDelegations} roles visited for ${path}`);
      }
      const { role, delegator } = stack.pop() as TufDelegationStep;
      if (visited.has(role)) continue;
      const step = targetSearchStep(await this.loadTargets(set, role, delegator), role, path);
      if ('target' in step) return step.target;
      visited.add(role);
      if (step.terminating) stack.length = 0;
      stack.push(...[...step.delegations].reverse());
    }
    return undefined;
  }

  /** Download `info`'s target through the fetcher and verify its length and every listed hash. */
  async downloadTarget(info: TufTargetInfo): Promise<Uint8Array> {
    const root = this.requireRefreshed().root;
    const name = targetFileName(info.path, info.hashes, root.signed.consistentSnapshot);
    const bytes = await this.fetch('target', name, info.length);
    if (!bytes) fail('TUF_TARGET_NOT_FOUND', `${name} is not served`);
    verifyTarget(info, bytes, name);
    return bytes;
  }

  /** Look up (after `refresh`) and download a verified target; TUF_TARGET_NOT_FOUND when no role lists it. */
  async fetchTarget(path: string): Promise<Uint8Array> {
    const info = await this.getTargetInfo(path);
    if (!info) fail('TUF_TARGET_NOT_FOUND', `no trusted targets metadata lists ${path}`);
    return this.downloadTarget(info);
  }
}

/** Run a set update on cached bytes; false (state unchanged) when the cached bytes do not qualify. */
function tryUpdate(update: () => unknown): boolean {
  try {
    update();
    return true;
  } catch (error) {
    if (error instanceof TrustError) return false;
    throw error;
  }
}
