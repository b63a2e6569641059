// Differential tests: our TufClient against the tuf-js Updater (an independent implementation of
// the same TUF client workflow) on crafted repositories. Same repository + same cached state →
// same outcome: accept, or refuse with the same class. Where the outcomes differ on purpose, the
// test says so and docs/spec/tuf-client.md §"Stricter than tuf-js" explains why. Every key is
// derived from a fixed seed byte (tuf-fixtures.ts), and tuf-js reads the (faked) Date only.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metadataFileName } from '@helm/trust/tuf';
import { TrustError } from '@helm/trust/verify';
import { BaseFetcher, Updater } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  aliasKey,
  bytesOf,
  ecKeyEncodings,
  ed25519KeyEncodings,
  KEYS,
  type KeyEncodings,
  makeRepo,
  makeRoot,
  mapFetcher,
  REFERENCE_MS,
  type RepoOptions,
  rootBytes,
  rsaKeyEncodings,
  sha256hex,
  signed,
  type TestKey,
} from '../../trust/test/tuf-fixtures.ts';
import { InMemoryTufMetadataCache, TufClient, type TufLimits } from '../src/index.ts';

const BASE = 'https://tuf.invalid/';
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'helm-tuf-diff-'));
  // tuf-js judges expiry against new Date(): pin it to the reference time our clock injects
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(REFERENCE_MS);
});
afterAll(async () => {
  vi.useRealTimers();
  await rm(tmp, { recursive: true, force: true });
});

/** A tuf-js fetcher over the same map of files our mapFetcher serves. */
class MapFetcher extends BaseFetcher {
  constructor(
    private readonly files: Map<string, Uint8Array>,
    readonly log: string[],
  ) {
    super();
  }
  override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    const key = url.slice(BASE.length);
    this.log.push(key);
    const bytes = this.files.get(key);
    if (!bytes) throw new DownloadHTTPError(`${key} not found`, 404);
    return new ReadableStream({
      start(controller) {
        controller.enqueue(Uint8Array.from(bytes));
        controller.close();
      },
    });
  }
}

type Outcome =
  | 'accept'
  | 'rollback'
  | 'version'
  | 'signature'
  | 'expired'
  | 'integrity'
  | 'missing'
  | 'malformed'
  | 'rotation-limit'
  | `other: ${string}`;

function ourClass(error: unknown): Outcome {
  if (!(error instanceof TrustError)) return `other: ${String(error)}`;
  const map: Record<string, Outcome> = {
    TUF_ROLLBACK: 'rollback',
    TUF_VERSION_MISMATCH: 'version',
    TUF_THRESHOLD_NOT_MET: 'signature',
    TUF_EXPIRED: 'expired',
    TUF_LENGTH_OR_HASH_MISMATCH: 'integrity',
    TUF_METADATA_TOO_LARGE: 'integrity',
    TUF_METADATA_MISSING: 'missing',
    TUF_METADATA_MALFORMED: 'malformed',
    TUF_ROOT_ROTATION_LIMIT: 'rotation-limit',
  };
  return map[error.code] ?? `other: ${error.code}`;
}

/** tuf-js wraps snapshot/targets errors in RuntimeError with the cause's message: classify by message. */
function theirClass(error: unknown): Outcome {
  const message = String((error as Error)?.message ?? error);
  const rules: [RegExp, Outcome][] = [
    [/is less than current version|Missing file .* in new snapshot/, 'rollback'],
    [/Expected version|does not match snapshot version|doesn't match timestamp/, 'version'],
    [/was signed by \d+\/\d+ keys/, 'signature'],
    [/expired/i, 'expired'],
    [/Expected (length|hash)|Max length reached/, 'integrity'],
    [/not found/, 'missing'],
  ];
  for (const [pattern, outcome] of rules) if (pattern.test(message)) return outcome;
  return `other: ${message}`;
}

interface Run {
  outcome: Outcome;
  log: string[];
}

/** One client of each implementation sharing nothing but the trusted root; each keeps its own state. */
class Pair {
  readonly cache = new InMemoryTufMetadataCache();
  private constructor(
    readonly dir: string,
    private readonly bootstrap: Uint8Array,
    private readonly limits: Partial<TufLimits>,
    private readonly maxRootRotations: number,
  ) {}

  static async create(
    bootstrap: Uint8Array,
    options: { limits?: Partial<TufLimits>; tufjsMaxRootRotations?: number } = {},
  ): Promise<Pair> {
    const dir = await mkdtemp(join(tmp, 'pair-'));
    await writeFile(join(dir, 'root.json'), bootstrap);
    return new Pair(dir, bootstrap, options.limits ?? {}, options.tufjsMaxRootRotations ?? 32);
  }

  async ours(files: Map<string, Uint8Array>, lookup?: string): Promise<Run> {
    const log: string[] = [];
    const client = new TufClient({
      fetcher: mapFetcher(files, log),
      clock: () => REFERENCE_MS,
      trustedRoot: this.bootstrap,
      cache: this.cache,
      limits: this.limits,
    });
    try {
      await client.refresh();
      if (lookup !== undefined && !(await client.getTargetInfo(lookup))) return { outcome: 'missing', log };
      return { outcome: 'accept', log };
    } catch (error) {
      return { outcome: ourClass(error), log };
    }
  }

  async theirs(files: Map<string, Uint8Array>, lookup?: string): Promise<Run> {
    const fetcher = new MapFetcher(files, []);
    try {
      const updater = new Updater({
        metadataBaseUrl: `${BASE}metadata`,
        targetBaseUrl: `${BASE}targets`,
        metadataDir: this.dir,
        fetcher,
        config: { maxRootRotations: this.maxRootRotations },
      });
      await updater.refresh();
      if (lookup !== undefined && !(await updater.getTargetInfo(lookup))) {
        return { outcome: 'missing', log: fetcher.log };
      }
      return { outcome: 'accept', log: fetcher.log };
    } catch (error) {
      return { outcome: theirClass(error), log: fetcher.log };
    }
  }

  async both(files: Map<string, Uint8Array>, lookup?: string): Promise<{ ours: Run; theirs: Run }> {
    return { ours: await this.ours(files, lookup), theirs: await this.theirs(files, lookup) };
  }

  /** Version of the root each side persisted. */
  async rootVersions(): Promise<{ ours: number; theirs: number }> {
    const version = (bytes: Uint8Array | Buffer) =>
      JSON.parse(new TextDecoder().decode(bytes)).signed.version as number;
    return {
      ours: version(this.cache.get('root') as Uint8Array),
      theirs: version(await readFile(join(this.dir, 'root.json'))),
    };
  }
}

const at = (version: number, o: RepoOptions = {}): RepoOptions => ({
  timestampVersion: version,
  snapshotVersion: version,
  targetsVersion: version,
  ...o,
});

interface RollbackCase {
  name: string;
  /** The repository the clients trusted first (versions 5 unless overridden). */
  before?: RepoOptions;
  /** The repository they refresh against next. */
  after: RepoOptions;
  expected: Outcome;
  /** tuf-js's outcome where it differs on purpose (docs/spec/tuf-client.md §Stricter than tuf-js). */
  tufjs?: Outcome;
}

const TS = KEYS.timestamp;
const TS2 = KEYS.timestamp2;
const ROLLBACK_CASES: RollbackCase[] = [
  {
    name: 'a timestamp key added in root v2 keeps the cached timestamp: timestamp v3 after v5 is a rollback',
    after: {
      rootVersion: 2,
      ...at(5, { timestampVersion: 3 }),
      timestampKeys: [TS, TS2],
      timestampSigners: [TS],
    },
    expected: 'rollback',
  },
  {
    name: 'reordered timestamp keys rotate nothing out',
    before: { timestampKeys: [TS, TS2] },
    after: { rootVersion: 2, ...at(5, { timestampVersion: 3 }), timestampKeys: [TS2, TS] },
    expected: 'rollback',
  },
  {
    name: 'a raised timestamp threshold the cached timestamp still meets rotates nothing out',
    before: { timestampKeys: [TS, TS2] },
    after: {
      rootVersion: 2,
      ...at(5, { timestampVersion: 3 }),
      timestampKeys: [TS, TS2],
      timestampThreshold: 2,
    },
    expected: 'rollback',
  },
  {
    name: 'a raised timestamp threshold the cached timestamp does not meet still rotates nothing out',
    before: { timestampKeys: [TS, TS2], timestampSigners: [TS] },
    after: {
      rootVersion: 2,
      ...at(5, { timestampVersion: 3 }),
      timestampKeys: [TS, TS2],
      timestampThreshold: 2,
      timestampSigners: [TS, TS2],
    },
    expected: 'rollback',
    tufjs: 'accept', // §Stricter than tuf-js, item 1
  },
  {
    name: 'a snapshot key added keeps the cached snapshot: targets v3 after v5 is a rollback',
    after: {
      rootVersion: 2,
      ...at(6, { targetsVersion: 3 }),
      snapshotKeys: [KEYS.snapshot, KEYS.snapshot2],
      snapshotSigners: [KEYS.snapshot],
    },
    expected: 'rollback',
  },
  {
    name: 'a root key rotation alone keeps the cached timestamp',
    after: { rootVersion: 2, ...at(3), rootKeys: [KEYS.root2], rootSigners: [KEYS.root1, KEYS.root2] },
    expected: 'rollback',
  },
  {
    name: 'the timestamp key rotated out: a lower timestamp version is accepted (fast-forward recovery)',
    after: { rootVersion: 2, ...at(5, { timestampVersion: 3 }), timestampKeys: [TS2] },
    expected: 'accept',
  },
  {
    name: 'the timestamp key rotated out, snapshot keys kept: a targets rollback is still refused',
    after: { rootVersion: 2, ...at(6, { timestampVersion: 3, targetsVersion: 3 }), timestampKeys: [TS2] },
    expected: 'rollback',
  },
  {
    name: 'the snapshot key rotated out, timestamp key kept: the timestamp still bounds the snapshot version',
    after: { rootVersion: 2, ...at(3, { timestampVersion: 6 }), snapshotKeys: [KEYS.snapshot2] },
    expected: 'rollback',
  },
  {
    name: 'timestamp and snapshot keys rotated out: every version may restart (full recovery)',
    after: { rootVersion: 2, ...at(3), timestampKeys: [TS2], snapshotKeys: [KEYS.snapshot2] },
    expected: 'accept',
  },
  { name: 'no rotation: timestamp v4 after v5', after: at(5, { timestampVersion: 4 }), expected: 'rollback' },
  { name: 'no rotation: targets v4 after v5', after: at(6, { targetsVersion: 4 }), expected: 'rollback' },
  { name: 'no rotation: a proper update', after: at(6), expected: 'accept' },
];

describe('I-TUF-1: rollback refused unless §5.3.11 recovery applies — the same outcome as tuf-js', () => {
  it.each(ROLLBACK_CASES)('$name', async ({ before, after, expected, tufjs }) => {
    const first = at(5, before);
    const pair = await Pair.create(rootBytes(first));
    expect(await pair.both(makeRepo(first))).toEqual({
      ours: expect.objectContaining({ outcome: 'accept' }),
      theirs: expect.objectContaining({ outcome: 'accept' }),
    });
    const next = makeRepo({ ...first, ...after });
    const { ours, theirs } = await pair.both(next);
    expect(ours.outcome).toBe(expected);
    expect(theirs.outcome).toBe(tufjs ?? expected);
  });

  it('deletes the cached timestamp only when its keys were rotated out, and persists the deletion', async () => {
    const first = at(5);
    const pair = await Pair.create(rootBytes(first));
    await pair.ours(makeRepo(first));
    // root v2 rotates the timestamp key out, but the repository serves no timestamp yet
    const v2 = makeRepo({ ...first, rootVersion: 2, timestampKeys: [TS2] });
    v2.delete('metadata/timestamp.json');
    expect((await pair.ours(v2)).outcome).toBe('missing');
    expect(pair.cache.get('timestamp')).toBeUndefined();
    expect(pair.cache.get('snapshot')).toBeDefined();
  });
});

describe('I-TUF-2: delegated role names reach the fetcher and the cache URL-component encoded', () => {
  const names = ['../../escaped/role', 'a b%c?d#e/ü', '..', 'plain-name_1.x'];

  it.each(names)('role %j: both clients ask for the same encoded file and find the target', async (name) => {
    for (const consistent of [false, true]) {
      const o: RepoOptions = {
        consistent,
        delegated: [
          {
            name,
            key: KEYS.delegate,
            paths: ['policy/*'],
            terminating: false,
            targets: { 'policy/x.json': 'x' },
          },
        ],
      };
      const files = makeRepo(o);
      // an attacker-planted file at the unescaped location must never be asked for
      if (encodeURIComponent(name) !== name) {
        files.set(
          `metadata/${consistent ? '1.' : ''}${name}.json`,
          new TextEncoder().encode('{"planted":true}'),
        );
      }
      const pair = await Pair.create(rootBytes(o));
      const { ours, theirs } = await pair.both(files, 'policy/x.json');
      expect(ours.outcome).toBe('accept');
      expect(theirs.outcome).toBe('accept');
      const file = `metadata/${metadataFileName(name, consistent ? 1 : undefined)}`;
      expect(ours.log).toContain(file);
      expect(theirs.log).toContain(file);
      const metadataNames = ours.log.filter((p) => p.startsWith('metadata/')).map((p) => p.slice(9));
      for (const n of metadataNames) expect(n).toMatch(/^[A-Za-z0-9\-_.!~*'()%]+$/);
      for (const role of pair.cache.roles()) expect(role).toMatch(/^[A-Za-z0-9\-_.!~*'()%]+$/);
      expect(pair.cache.roles()).toContain(encodeURIComponent(name));
    }
  });

  it('a target path with a dot segment is refused before fetching (tuf-js resolves it as a URL)', async () => {
    const files = makeRepo({ targets: { 'a/../b.json': 'B' } });
    files.set('targets/b.json', new TextEncoder().encode('B'));
    const pair = await Pair.create(rootBytes({}));
    const log: string[] = [];
    const client = new TufClient({
      fetcher: mapFetcher(files, log),
      clock: () => REFERENCE_MS,
      trustedRoot: rootBytes({}),
      cache: pair.cache,
    });
    await client.refresh();
    await expect(client.fetchTarget('a/../b.json')).rejects.toMatchObject({ code: 'TUF_METADATA_MALFORMED' });
    expect(log.filter((p) => p.startsWith('targets/'))).toEqual([]);
    const fetcher = new MapFetcher(files, []);
    const updater = new Updater({
      metadataBaseUrl: `${BASE}metadata`,
      targetBaseUrl: `${BASE}targets`,
      metadataDir: pair.dir,
      fetcher,
    });
    const info = await updater.getTargetInfo('a/../b.json');
    await updater.downloadTarget(info as NonNullable<typeof info>, join(pair.dir, 'downloaded'));
    expect(fetcher.log).toContain('targets/b.json'); // §Stricter than tuf-js, item 4
  });

  it('encodes every role name injectively into the documented alphabet (fixed-seed sample)', () => {
    let seed = 0x2545f491;
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const alphabet = "aZ09-_.!~*'()%/\\?#: \u00fc\u4e2d\u{1f600}";
    const seen = new Map<string, string>();
    for (let i = 0; i < 2000; i++) {
      const chars = Array.from(alphabet);
      let name = '';
      for (let n = 1 + (next() % 12); n > 0; n--) name += chars[next() % chars.length];
      const file = metadataFileName(name, undefined);
      expect(file).toMatch(/^[A-Za-z0-9\-_.!~*'()%]+\.json$/);
      const other = seen.get(file);
      if (other !== undefined) expect(other).toBe(name);
      seen.set(file, name);
    }
  });
});

describe('I-TUF-3: thresholds count distinct public keys, not key ids', () => {
  const T = KEYS.targets;
  const cases: [string, RepoOptions, Outcome, Outcome][] = [
    [
      'one targets key under two ids meets no threshold of 2',
      { targetsKeys: [T, aliasKey(T, 'f'.repeat(64))], targetsThreshold: 2 },
      'signature',
      'accept', // §Stricter than tuf-js, item 2
    ],
    [
      'nor does it in uppercase hex under another id',
      { targetsKeys: [T, aliasKey(T, 'e'.repeat(64), true)], targetsThreshold: 2 },
      'signature',
      'accept', // §Stricter than tuf-js, item 2
    ],
    [
      'two distinct keys do (control)',
      { targetsKeys: [T, KEYS.delegate2], targetsThreshold: 2 },
      'accept',
      'accept',
    ],
  ];
  it.each(cases)('%s', async (_name, o, expected, tufjs) => {
    const pair = await Pair.create(rootBytes(o));
    const { ours, theirs } = await pair.both(makeRepo(o));
    expect(ours.outcome).toBe(expected);
    expect(theirs.outcome).toBe(tufjs);
  });

  it('counts distinct keys for delegations too', async () => {
    const D = KEYS.delegate;
    const o = (keys: (typeof D)[]): RepoOptions => ({
      delegated: [
        {
          name: 'd',
          key: D,
          keys,
          threshold: 2,
          paths: ['policy/*'],
          terminating: false,
          targets: { 'policy/x.json': 'x' },
        },
      ],
    });
    const dup = o([D, aliasKey(D, 'd'.repeat(64))]);
    const pair = await Pair.create(rootBytes(dup));
    const { ours, theirs } = await pair.both(makeRepo(dup), 'policy/x.json');
    expect(ours.outcome).toBe('signature');
    expect(theirs.outcome).toBe('accept'); // §Stricter than tuf-js, item 2
    const two = o([D, KEYS.delegate2]);
    const control = await Pair.create(rootBytes(two));
    const both = await control.both(makeRepo(two), 'policy/x.json');
    expect([both.ours.outcome, both.theirs.outcome]).toEqual(['accept', 'accept']);
  });

  it('and for the root role of a new root version', async () => {
    const R = KEYS.root1;
    const pair = await Pair.create(rootBytes({}));
    const files = makeRepo({});
    const v2 = { rootVersion: 2, rootKeys: [R, aliasKey(R, 'c'.repeat(64))], rootThreshold: 2 };
    files.set('metadata/2.root.json', makeRepo(v2).get('metadata/2.root.json') as Uint8Array);
    const { ours, theirs } = await pair.both(files);
    expect(ours.outcome).toBe('signature');
    expect(theirs.outcome).toBe('accept'); // §Stricter than tuf-js, item 2
  });
});

describe('I-TUF-3: one key in every encoding tuf-js verifies counts once (tuf-js counts each id)', () => {
  const families: KeyEncodings[] = [
    ed25519KeyEncodings(11),
    ecKeyEncodings('P-256', 12),
    ecKeyEncodings('P-384', 13),
    rsaKeyEncodings(),
  ];
  for (const family of families) {
    it(`${family.label}: each encoding alone is accepted by both; any two meet no threshold of 2 here`, async () => {
      const [first, ...rest] = family.entries as [
        KeyEncodings['entries'][number],
        ...KeyEncodings['entries'],
      ];
      for (const { name, key } of family.entries) {
        const o: RepoOptions = { targetsKeys: [key], targetsThreshold: 1 };
        const { ours, theirs } = await (await Pair.create(rootBytes(o))).both(makeRepo(o));
        expect([ours.outcome, theirs.outcome], name).toEqual(['accept', 'accept']);
      }
      for (const { name, key } of rest) {
        const o: RepoOptions = { targetsKeys: [first.key, key], targetsThreshold: 2 };
        const { ours, theirs } = await (await Pair.create(rootBytes(o))).both(makeRepo(o));
        // §Stricter than tuf-js, item 2
        expect([ours.outcome, theirs.outcome], `${first.name} + ${name}`).toEqual(['signature', 'accept']);
      }
    });
  }

  it('a hex value tuf-js truncates (odd length) is no key here', async () => {
    const T = KEYS.targets;
    const odd = aliasKey(T, 'a'.repeat(64));
    (odd.json as { keyval: { public: string } }).keyval = {
      public: `${(T.json.keyval as { public: string }).public}0`,
    };
    const o: RepoOptions = { targetsKeys: [odd], targetsThreshold: 1 };
    const { ours, theirs } = await (await Pair.create(rootBytes(o))).both(makeRepo(o));
    expect(ours.outcome).toBe('signature');
    expect(theirs.outcome).toBe('accept'); // §Stricter than tuf-js, item 6
  });
});

describe('I-TUF-3: a role delegated by two parents satisfies each parent', () => {
  /** targets → A (a/*) and B (b/*); A and B both delegate to `x`, with different keys. */
  function diamond(): Map<string, Uint8Array> {
    const files = makeRepo({});
    const expires = '2030-01-01T00:00:00Z';
    const content = new TextEncoder().encode('1');
    const info = { length: 1, hashes: { sha256: sha256hex(content) } };
    const delegation = (name: string, key: TestKey, path: string) => ({
      keys: { [key.keyID]: key.json },
      roles: [{ name, keyids: [key.keyID], threshold: 1, terminating: false, paths: [path] }],
    });
    const put = (name: string, body: Record<string, unknown>, signer: TestKey) => {
      const bytes = bytesOf(signed('targets', { version: 1, expires, targets: {}, ...body }, [signer]));
      files.set(`metadata/${name}.json`, bytes);
      return bytes;
    };
    put(
      'targets',
      {
        delegations: {
          keys: { [KEYS.root2.keyID]: KEYS.root2.json, [KEYS.root3.keyID]: KEYS.root3.json },
          roles: [
            { name: 'A', keyids: [KEYS.root2.keyID], threshold: 1, terminating: false, paths: ['a/*'] },
            { name: 'B', keyids: [KEYS.root3.keyID], threshold: 1, terminating: false, paths: ['b/*'] },
          ],
        },
      },
      KEYS.targets,
    );
    put('A', { delegations: delegation('x', KEYS.delegate, 'a/*') }, KEYS.root2);
    put('B', { delegations: delegation('x', KEYS.delegate2, 'b/*') }, KEYS.root3);
    // x is signed by A's delegate only, and lists a path under each parent
    put('x', { targets: { 'a/1': info, 'b/1': info } }, KEYS.delegate);
    files.set('targets/a/1', content);
    files.set('targets/b/1', content);
    const meta = Object.fromEntries(['targets', 'A', 'B', 'x'].map((r) => [`${r}.json`, { version: 1 }]));
    const snapshot = bytesOf(signed('snapshot', { version: 2, expires, meta }, [KEYS.snapshot]));
    files.set('metadata/snapshot.json', snapshot);
    const tsMeta = {
      'snapshot.json': { version: 2, length: snapshot.length, hashes: { sha256: sha256hex(snapshot) } },
    };
    files.set(
      'metadata/timestamp.json',
      bytesOf(signed('timestamp', { version: 2, expires, meta: tsMeta }, [KEYS.timestamp])),
    );
    return files;
  }

  it("x reached through B must be signed by B's key for x, also after being trusted through A", async () => {
    const files = diamond();
    const pair = await Pair.create(rootBytes({}));
    // through A alone: both accept
    expect(await pair.both(files, 'a/1')).toMatchObject({
      ours: { outcome: 'accept' },
      theirs: { outcome: 'accept' },
    });
    // through B alone: both refuse
    const fresh = await Pair.create(rootBytes({}));
    const b = await fresh.both(files, 'b/1');
    expect([b.ours.outcome, b.theirs.outcome]).toEqual(['signature', 'signature']);
    // one client looks up a/1 first (x trusted via A), then b/1 (x again, via B)
    const client = new TufClient({
      fetcher: mapFetcher(files),
      clock: () => REFERENCE_MS,
      trustedRoot: rootBytes({}),
    });
    await client.refresh();
    expect((await client.getTargetInfo('a/1'))?.role).toBe('x');
    await expect(client.getTargetInfo('b/1')).rejects.toMatchObject({ code: 'TUF_THRESHOLD_NOT_MET' });
    const updater = new Updater({
      metadataBaseUrl: `${BASE}metadata`,
      targetBaseUrl: `${BASE}targets`,
      metadataDir: (await Pair.create(rootBytes({}))).dir,
      fetcher: new MapFetcher(files, []),
    });
    await updater.refresh();
    expect(await updater.getTargetInfo('a/1')).toBeDefined();
    await expect(updater.getTargetInfo('b/1')).rejects.toThrow(/was signed by 0\/1 keys/);
  });
});

describe('I-TUF-4: the root walk is bounded per refresh and its progress persists', () => {
  function withRoots(
    last: number,
    options: (v: number) => RepoOptions = () => ({}),
  ): Map<string, Uint8Array> {
    const files = makeRepo({});
    const enc = new TextEncoder();
    for (let v = 2; v <= last; v++) {
      files.set(
        `metadata/${v}.root.json`,
        enc.encode(JSON.stringify(makeRoot({ rootVersion: v, ...options(v) }).toJSON())),
      );
    }
    return files;
  }

  it('40 newer roots: refused once at the limit with 32 persisted, then converged (tuf-js: 32 per refresh too)', async () => {
    const files = withRoots(41);
    const pair = await Pair.create(rootBytes({}), { tufjsMaxRootRotations: 32 });
    const first = await pair.both(files);
    expect(first.ours.outcome).toBe('rotation-limit');
    expect(first.theirs.outcome).toBe('accept'); // §Stricter than tuf-js, item 3
    expect(await pair.rootVersions()).toEqual({ ours: 33, theirs: 33 });
    const second = await pair.both(files);
    expect([second.ours.outcome, second.theirs.outcome]).toEqual(['accept', 'accept']);
    expect(await pair.rootVersions()).toEqual({ ours: 41, theirs: 41 });
  });

  it('never verifies under a superseded root: a timestamp key rotated out beyond the limit', async () => {
    // root v34 rotates the (compromised) timestamp key out; the repository still serves a timestamp signed by it
    const files = withRoots(34, (v) => (v === 34 ? { timestampKeys: [TS2] } : {}));
    const pair = await Pair.create(rootBytes({}), { tufjsMaxRootRotations: 32 });
    const first = await pair.both(files);
    expect(first.ours.outcome).toBe('rotation-limit');
    expect(first.theirs.outcome).toBe('accept'); // tuf-js trusted v33 and the rotated-out key for this refresh
    const second = await pair.both(files);
    expect([second.ours.outcome, second.theirs.outcome]).toEqual(['signature', 'signature']);
  });

  it('a client with the default in-memory cache converges over repeated refreshes', async () => {
    const files = withRoots(41);
    const client = new TufClient({
      fetcher: mapFetcher(files),
      clock: () => REFERENCE_MS,
      trustedRoot: rootBytes({}),
      limits: { maxRootRotations: 10 },
    });
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) {
      try {
        outcomes.push(`root ${(await client.refresh()).root}`);
      } catch (error) {
        outcomes.push((error as TrustError).code);
      }
    }
    expect(outcomes).toEqual([
      'TUF_ROOT_ROTATION_LIMIT',
      'TUF_ROOT_ROTATION_LIMIT',
      'TUF_ROOT_ROTATION_LIMIT',
      'root 41',
      'root 41',
    ]);
  });

  it('exactly the limit of newer roots is walked in one refresh', async () => {
    const pair = await Pair.create(rootBytes({}), {
      limits: { maxRootRotations: 5 },
      tufjsMaxRootRotations: 5,
    });
    const { ours, theirs } = await pair.both(withRoots(6));
    expect([ours.outcome, theirs.outcome]).toEqual(['accept', 'accept']);
    expect(await pair.rootVersions()).toEqual({ ours: 6, theirs: 6 });
  });
});
