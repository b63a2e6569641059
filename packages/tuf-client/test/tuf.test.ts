import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  commitTrustEvent,
  createGenesisEvent,
  exportTrustSnapshot,
  TrustError,
  TrustRegistry,
  trustEventDigest,
} from '@helm/trust';
import { Updater } from 'tuf-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signer } from '../../trust/test/helpers.ts';
import {
  AFTER_EXPIRY_MS,
  fileFetcher,
  httpFetcher,
  KEYS,
  makeRepo,
  mapFetcher,
  REFERENCE_MS,
  REFUSED_ROTATIONS,
  type RepoOptions,
  rootBytes,
  SHARED_REPO,
  serveFolder,
} from '../../trust/test/tuf-fixtures.ts';
import {
  InMemoryTufMetadataCache,
  TrustDistribution,
  TufClient,
  type TufClientOptions,
  type TufFetcher,
} from '../src/index.ts';

const clock = () => REFERENCE_MS;
let trustedRoot: Uint8Array;
let tmp: string;

beforeAll(async () => {
  trustedRoot = new Uint8Array(await readFile(join(SHARED_REPO, 'metadata/1.root.json')));
  tmp = await mkdtemp(join(tmpdir(), 'helm-tuf-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The tuf-js reference client on `base`, starting from the shared repository's first root. */
async function tufjsUpdater(base: string, label: string): Promise<{ updater: Updater; targetDir: string }> {
  const metadataDir = join(tmp, `tufjs-meta-${label}`);
  const targetDir = join(tmp, `tufjs-targets-${label}`);
  await cp(join(SHARED_REPO, 'metadata/1.root.json'), join(metadataDir, 'root.json'));
  await mkdir(targetDir, { recursive: true });
  const updater = new Updater({
    metadataBaseUrl: `${base}/metadata`,
    targetBaseUrl: `${base}/targets`,
    metadataDir,
    targetDir,
  });
  return { updater, targetDir };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    if (error instanceof TrustError) return error.code;
    throw error;
  }
  return 'NO_ERROR';
}

let copies = 0;
/** A mutable copy of the shared repository. */
async function repoCopy(): Promise<string> {
  const dir = join(tmp, `copy-${copies++}`);
  await cp(SHARED_REPO, dir, { recursive: true });
  return dir;
}

// biome-ignore lint/suspicious/noExplicitAny: tests mutate arbitrary metadata JSON
async function patchJson(path: string, patch: (json: Record<string, any>) => void): Promise<void> {
  const json = JSON.parse(await readFile(path, 'utf8'));
  patch(json);
  await writeFile(path, JSON.stringify(json, null, 1));
}

function client(fetcher: TufFetcher, extra: Partial<TufClientOptions> = {}): TufClient {
  return new TufClient({ fetcher, clock, trustedRoot, ...extra });
}

describe('TUF client on the shared test repository', () => {
  it('refreshes from a folder and resolves targets, including through the delegation to role1', async () => {
    const cache = new InMemoryTufMetadataCache();
    const log: string[] = [];
    const c = client(fileFetcher(SHARED_REPO, log), { cache });
    expect(await c.refresh()).toEqual({ root: 1, timestamp: 1, snapshot: 1, targets: 1 });
    const info1 = await c.getTargetInfo('file1.txt');
    expect(info1).toMatchObject({
      path: 'file1.txt',
      length: 31,
      role: 'targets',
      custom: { file_permissions: '0644' },
    });
    const info3 = await c.getTargetInfo('file3.txt');
    expect(info3?.role).toBe('role1');
    expect(await c.getTargetInfo('nope.txt')).toBeUndefined();
    for (const name of ['file1.txt', 'file2.txt', 'file3.txt']) {
      const bytes = await c.fetchTarget(name);
      expect(Buffer.from(bytes).equals(await readFile(join(SHARED_REPO, 'targets', name)))).toBe(true);
    }
    expect(cache.roles()).toEqual(['role1', 'root', 'snapshot', 'targets', 'timestamp']);
    expect(log).toContain('metadata/2.root.json'); // probed the next root version
    expect(await codeOf(c.fetchTarget('nope.txt'))).toBe('TUF_TARGET_NOT_FOUND');
  });

  it('serves the same through a loopback HTTP server (TrustDistribution)', async () => {
    const { server, base } = await serveFolder(SHARED_REPO);
    try {
      const dist = new TrustDistribution({ fetcher: httpFetcher(base), clock, trustedRoot });
      const bytes = await dist.fetchVerifiedTarget('file3.txt');
      expect(Buffer.from(bytes).equals(await readFile(join(SHARED_REPO, 'targets/file3.txt')))).toBe(true);
      expect(await dist.refresh()).toEqual({ root: 1, timestamp: 1, snapshot: 1, targets: 1 });
      expect((await dist.fetchVerifiedTarget('file1.txt')).length).toBe(31);
    } finally {
      server.close();
    }
  });

  it('agrees with the tuf-js Updater (independent cross-check)', async () => {
    const { server, base } = await serveFolder(SHARED_REPO);
    const { updater, targetDir } = await tufjsUpdater(base, 'honest');
    try {
      await updater.refresh();
      const ours = client(httpFetcher(base));
      await ours.refresh();
      for (const name of ['file1.txt', 'file2.txt', 'file3.txt', 'missing.txt']) {
        const theirs = await updater.getTargetInfo(name);
        const mine = await ours.getTargetInfo(name);
        expect(mine?.length, name).toBe(theirs?.length);
        expect(mine?.hashes, name).toEqual(theirs?.hashes);
        if (theirs) {
          const path = await updater.downloadTarget(theirs, join(targetDir, name));
          expect(Buffer.from(await ours.fetchTarget(name)).equals(await readFile(path))).toBe(true);
        }
      }
    } finally {
      server.close();
    }
  });

  it('refuses a tampered target exactly when the tuf-js Updater does', async () => {
    const dir = await repoCopy();
    await writeFile(join(dir, 'targets/file1.txt'), 'tampered, same story, other bytes');
    const { server, base } = await serveFolder(dir);
    const { updater, targetDir } = await tufjsUpdater(base, 'tampered');
    try {
      await updater.refresh();
      const info = await updater.getTargetInfo('file1.txt');
      await expect(
        updater.downloadTarget(info as NonNullable<typeof info>, join(targetDir, 'file1.txt')),
      ).rejects.toThrow();
      const ours = client(httpFetcher(base));
      await ours.refresh();
      expect(await codeOf(ours.fetchTarget('file1.txt'))).toBe('TUF_LENGTH_OR_HASH_MISMATCH');
      // the untouched targets still pass both
      const ok = await updater.getTargetInfo('file2.txt');
      await updater.downloadTarget(ok as NonNullable<typeof ok>, join(targetDir, 'file2.txt'));
      expect((await ours.fetchTarget('file2.txt')).length).toBe(39);
    } finally {
      server.close();
    }
  });

  it('refuses expired metadata (freeze) against the injected clock', async () => {
    expect(await codeOf(client(fileFetcher(SHARED_REPO), { clock: () => AFTER_EXPIRY_MS }).refresh())).toBe(
      'TUF_EXPIRED',
    );
  });

  it('refuses a tampered target (appended byte, same-length change)', async () => {
    const dir = await repoCopy();
    await writeFile(
      join(dir, 'targets/file1.txt'),
      `${await readFile(join(dir, 'targets/file1.txt'), 'utf8')}!`,
    );
    const c = client(fileFetcher(dir));
    await c.refresh();
    expect(await codeOf(c.fetchTarget('file1.txt'))).toBe('TUF_LENGTH_OR_HASH_MISMATCH');
    const original = await readFile(join(SHARED_REPO, 'targets/file2.txt'));
    const flipped = Buffer.from(original);
    flipped[0] = (flipped[0] as number) ^ 1;
    await writeFile(join(dir, 'targets/file2.txt'), flipped);
    expect(await codeOf(c.fetchTarget('file2.txt'))).toBe('TUF_LENGTH_OR_HASH_MISMATCH');
    await rm(join(dir, 'targets/file3.txt'));
    expect(await codeOf(c.fetchTarget('file3.txt'))).toBe('TUF_TARGET_NOT_FOUND');
  });

  it('refuses tampered metadata (signatures, snapshot hash against the timestamp)', async () => {
    const dir = await repoCopy();
    await patchJson(join(dir, 'metadata/targets.json'), (j) => {
      j.signed.targets['file1.txt'].hashes.sha256 = '0'.repeat(64);
    });
    expect(await codeOf(client(fileFetcher(dir)).refresh())).toBe('TUF_THRESHOLD_NOT_MET');
    const dir2 = await repoCopy();
    await patchJson(join(dir2, 'metadata/timestamp.json'), (j) => {
      j.signed.version = 2;
    });
    expect(await codeOf(client(fileFetcher(dir2)).refresh())).toBe('TUF_THRESHOLD_NOT_MET');
    const dir3 = await repoCopy();
    const snap = await readFile(join(dir3, 'metadata/snapshot.json'), 'utf8');
    await writeFile(join(dir3, 'metadata/snapshot.json'), snap.replace(' "signed"', '\t"signed"'));
    expect(await codeOf(client(fileFetcher(dir3)).refresh())).toBe('TUF_LENGTH_OR_HASH_MISMATCH');
    await writeFile(join(dir3, 'metadata/snapshot.json'), `${snap}\n`);
    expect(await codeOf(client(fileFetcher(dir3)).refresh())).toBe('TUF_METADATA_TOO_LARGE');
    const dir4 = await repoCopy();
    await patchJson(join(dir4, 'metadata/role1.json'), (j) => {
      j.signed.targets['file3.txt'].length = 1;
    });
    const c4 = client(fileFetcher(dir4));
    await c4.refresh();
    expect(await codeOf(c4.getTargetInfo('file3.txt'))).toBe('TUF_THRESHOLD_NOT_MET');
  });

  it('refuses a wrong threshold: a next root not signed by the trusted root, or a trusted root that does not self-verify', async () => {
    const dir = await repoCopy();
    const root = JSON.parse(await readFile(join(dir, 'metadata/root.json'), 'utf8'));
    root.signed.version = 2;
    await writeFile(join(dir, 'metadata/2.root.json'), JSON.stringify(root));
    expect(await codeOf(client(fileFetcher(dir)).refresh())).toBe('TUF_THRESHOLD_NOT_MET');
    const raised = JSON.parse(new TextDecoder().decode(trustedRoot));
    raised.signed.roles.root.threshold = 2;
    const bad = new TextEncoder().encode(JSON.stringify(raised));
    expect(await codeOf(client(fileFetcher(SHARED_REPO), { trustedRoot: bad }).refresh())).toBe(
      'TUF_THRESHOLD_NOT_MET',
    );
    const zero = JSON.parse(new TextDecoder().decode(trustedRoot));
    delete zero.signed.roles.timestamp;
    expect(
      await codeOf(
        client(fileFetcher(SHARED_REPO), {
          trustedRoot: new TextEncoder().encode(JSON.stringify(zero)),
        }).refresh(),
      ),
    ).toBe('TUF_METADATA_MALFORMED');
  });

  it('refuses malformed, missing, oversized and unreachable metadata', async () => {
    const dir = await repoCopy();
    await writeFile(join(dir, 'metadata/timestamp.json'), '{"not":');
    expect(await codeOf(client(fileFetcher(dir)).refresh())).toBe('TUF_METADATA_MALFORMED');
    await rm(join(dir, 'metadata/timestamp.json'));
    expect(await codeOf(client(fileFetcher(dir)).refresh())).toBe('TUF_METADATA_MISSING');
    expect(
      await codeOf(client(fileFetcher(SHARED_REPO), { limits: { timestampMaxLength: 100 } }).refresh()),
    ).toBe('TUF_METADATA_TOO_LARGE');
    const broken: TufFetcher = {
      fetchMetadata: async () => {
        throw new Error('connection refused');
      },
      fetchTarget: async () => undefined,
    };
    expect(await codeOf(client(broken).refresh())).toBe('TUF_FETCH_FAILED');
    const liar: TufFetcher = {
      fetchMetadata: async () => 'text' as unknown as Uint8Array,
      fetchTarget: async () => undefined,
    };
    expect(await codeOf(client(liar).refresh())).toBe('TUF_FETCH_FAILED');
    expect(await codeOf(client(fileFetcher(SHARED_REPO)).getTargetInfo('file1.txt'))).toBe(
      'TUF_NOT_REFRESHED',
    );
    const weird = JSON.parse(new TextDecoder().decode(trustedRoot));
    weird.signed.expires = 'never';
    // an unparseable expiry fails closed
    expect(
      await codeOf(
        client(fileFetcher(SHARED_REPO), {
          trustedRoot: new TextEncoder().encode(JSON.stringify(weird)),
        }).refresh(),
      ),
    ).toBe('TUF_METADATA_MALFORMED');
  });
});

describe('TUF client on generated repositories', () => {
  function gen(o: RepoOptions = {}, extra: Partial<TufClientOptions> = {}, log: string[] = []) {
    const files = makeRepo(o);
    return {
      files,
      client: new TufClient({ fetcher: mapFetcher(files, log), clock, trustedRoot: rootBytes(o), ...extra }),
    };
  }

  it('follows a root rotation chain with thresholds and new keys', async () => {
    const files = makeRepo({});
    const v2 = makeRepo({
      rootVersion: 2,
      rootKeys: [KEYS.root2, KEYS.root3],
      rootThreshold: 2,
      rootSigners: [KEYS.root1, KEYS.root2, KEYS.root3],
      timestampKey: KEYS.timestamp2,
    });
    files.set('metadata/2.root.json', v2.get('metadata/2.root.json') as Uint8Array);
    for (const name of ['timestamp.json'])
      files.set(`metadata/${name}`, v2.get(`metadata/${name}`) as Uint8Array);
    const cache = new InMemoryTufMetadataCache();
    cache.set('timestamp', makeRepo({}).get('metadata/timestamp.json') as Uint8Array);
    const c = new TufClient({ fetcher: mapFetcher(files), clock, trustedRoot: rootBytes({}), cache });
    expect((await c.refresh()).root).toBe(2);
    expect(new TextDecoder().decode(cache.get('root'))).toContain('"version": 2');
    expect(Buffer.from(await c.fetchTarget('trust-root.json')).toString()).toBe('{"hello":"trust"}');
  });

  it('refuses a rotation not signed by the old root quorum, not self-signed, or with a wrong version', async () => {
    for (const [o, expected] of REFUSED_ROTATIONS) {
      const files = makeRepo({});
      const next = makeRepo(o).get(`metadata/${o.rootVersion}.root.json`) as Uint8Array;
      files.set('metadata/2.root.json', next);
      const c = new TufClient({ fetcher: mapFetcher(files), clock, trustedRoot: rootBytes({}) });
      expect(await codeOf(c.refresh()), JSON.stringify(o.rootVersion)).toBe(expected);
    }
  });

  it('limits the root rotation chain', async () => {
    const files = makeRepo({});
    files.set('metadata/2.root.json', makeRepo({ rootVersion: 2 }).get('metadata/2.root.json') as Uint8Array);
    files.set('metadata/3.root.json', makeRepo({ rootVersion: 3 }).get('metadata/3.root.json') as Uint8Array);
    const c = new TufClient({
      fetcher: mapFetcher(files),
      clock,
      trustedRoot: rootBytes({}),
      limits: { maxRootRotations: 1 },
    });
    expect(await codeOf(c.refresh())).toBe('TUF_ROOT_ROTATION_LIMIT');
  });

  it('refuses rollback of timestamp, snapshot and targets versions', async () => {
    const cache = new InMemoryTufMetadataCache();
    const newer = makeRepo({ timestampVersion: 5, snapshotVersion: 5, targetsVersion: 5 });
    await new TufClient({ fetcher: mapFetcher(newer), clock, trustedRoot: rootBytes({}), cache }).refresh();
    const tryRepo = (o: RepoOptions) =>
      codeOf(
        new TufClient({
          fetcher: mapFetcher(makeRepo(o)),
          clock,
          trustedRoot: rootBytes({}),
          cache,
        }).refresh(),
      );
    expect(await tryRepo({ timestampVersion: 4, snapshotVersion: 5, targetsVersion: 5 })).toBe(
      'TUF_ROLLBACK',
    );
    expect(await tryRepo({ timestampVersion: 6, snapshotVersion: 4, targetsVersion: 5 })).toBe(
      'TUF_ROLLBACK',
    );
    expect(await tryRepo({ timestampVersion: 6, snapshotVersion: 6, targetsVersion: 4 })).toBe(
      'TUF_ROLLBACK',
    );
    // a proper update still works afterwards
    expect(await tryRepo({ timestampVersion: 7, snapshotVersion: 7, targetsVersion: 7 })).toBe('NO_ERROR');
  });

  it('refuses a snapshot that drops a role listed before, and a version that differs from the timestamp', async () => {
    const cache = new InMemoryTufMetadataCache();
    const delegated = [
      {
        name: 'policies',
        key: KEYS.delegate,
        paths: ['policy/*'],
        terminating: false,
        targets: { 'policy/x.json': 'x' },
      },
    ];
    await new TufClient({
      fetcher: mapFetcher(makeRepo({ delegated })),
      clock,
      trustedRoot: rootBytes({}),
      cache,
    }).refresh();
    const dropped = makeRepo({ timestampVersion: 2, snapshotVersion: 2 });
    expect(
      await codeOf(
        new TufClient({ fetcher: mapFetcher(dropped), clock, trustedRoot: rootBytes({}), cache }).refresh(),
      ),
    ).toBe('TUF_ROLLBACK');
    // snapshot v3 served where the timestamp announces v2 (hash/length are checked first) → use a no-hash timestamp
    const mismatch = makeRepo({ timestampVersion: 3, snapshotVersion: 3, delegated });
    const ts = JSON.parse(new TextDecoder().decode(mismatch.get('metadata/timestamp.json')));
    expect(ts.signed.meta['snapshot.json'].version).toBe(3);
    const stale = makeRepo({ timestampVersion: 3, snapshotVersion: 2, delegated });
    stale.set('metadata/snapshot.json', mismatch.get('metadata/snapshot.json') as Uint8Array);
    expect(
      await codeOf(
        new TufClient({
          fetcher: mapFetcher(stale),
          clock,
          trustedRoot: rootBytes({}),
          cache: new InMemoryTufMetadataCache(),
        }).refresh(),
      ),
    ).toBe('TUF_LENGTH_OR_HASH_MISMATCH');
  });

  it('refuses an expired timestamp, snapshot or root (freeze attack)', async () => {
    expect(await codeOf(gen({ timestampExpires: '2025-12-31T00:00:00Z' }).client.refresh())).toBe(
      'TUF_EXPIRED',
    );
    expect(await codeOf(gen({ snapshotExpires: '2025-12-31T00:00:00Z' }).client.refresh())).toBe(
      'TUF_EXPIRED',
    );
    const { files } = gen({});
    const c = new TufClient({
      fetcher: mapFetcher(files),
      clock,
      trustedRoot: rootBytes({ rootExpires: '2025-01-01T00:00:00Z' }),
    });
    expect(await codeOf(c.refresh())).toBe('TUF_EXPIRED');
  });

  it('keeps the trusted timestamp when the version is unchanged and reuses the cached snapshot', async () => {
    const cache = new InMemoryTufMetadataCache();
    const log: string[] = [];
    const files = makeRepo({});
    const c = new TufClient({ fetcher: mapFetcher(files, log), clock, trustedRoot: rootBytes({}), cache });
    await c.refresh();
    log.length = 0;
    await c.refresh();
    expect(log).toEqual(['metadata/2.root.json', 'metadata/timestamp.json']);
    // a cached snapshot whose bytes were tampered with is not trusted
    cache.set('snapshot', new TextEncoder().encode('garbage'));
    log.length = 0;
    await c.refresh();
    expect(log).toContain('metadata/snapshot.json');
    // tampered cached targets are re-fetched too
    cache.set('targets', new TextEncoder().encode('{}'));
    log.length = 0;
    await c.refresh();
    expect(log).toContain('metadata/targets.json');
  });

  it('uses consistent snapshots and delegations with terminating roles', async () => {
    const delegated = [
      {
        name: 'a',
        key: KEYS.delegate,
        paths: ['policy/*'],
        terminating: true,
        targets: { 'policy/a.json': 'A' },
      },
      {
        name: 'b',
        key: KEYS.delegate2,
        paths: ['policy/*'],
        terminating: false,
        targets: { 'policy/b.json': 'B' },
      },
    ];
    const log: string[] = [];
    const { client: c } = gen({ consistent: true, delegated }, {}, log);
    await c.refresh();
    expect(log).toContain('metadata/1.snapshot.json');
    expect(log).toContain('metadata/1.targets.json');
    expect(Buffer.from(await c.fetchTarget('policy/a.json')).toString()).toBe('A');
    expect(log.some((p) => /^targets\/policy\/[0-9a-f]{64}\.a\.json$/.test(p))).toBe(true);
    expect(log).toContain('metadata/1.a.json');
    // 'a' is terminating: 'b' is never consulted for policy/*
    expect(await c.getTargetInfo('policy/b.json')).toBeUndefined();
    expect(log).not.toContain('metadata/1.b.json');
    expect(Buffer.from(await c.fetchTarget('policy/bundle.json')).toString()).toBe('{"rules":[]}');
  });

  it('bounds the delegation search', async () => {
    const delegated = [
      {
        name: 'a',
        key: KEYS.delegate,
        paths: ['policy/*'],
        terminating: false,
        targets: { 'policy/a.json': 'A' },
      },
    ];
    const { client: c } = gen({ delegated }, { limits: { maxDelegations: 1 } });
    await c.refresh();
    expect(await codeOf(c.getTargetInfo('policy/a.json'))).toBe('TUF_DELEGATION_LIMIT');
  });

  it('refuses a delegated role signed by the wrong key or missing from the snapshot', async () => {
    const delegated = [
      {
        name: 'a',
        key: KEYS.delegate,
        paths: ['policy/*'],
        terminating: false,
        targets: { 'policy/a.json': 'A' },
      },
    ];
    const files = makeRepo({ delegated });
    const wrong = makeRepo({ delegated: [{ ...delegated[0]!, key: KEYS.delegate2 }] });
    files.set('metadata/a.json', wrong.get('metadata/a.json') as Uint8Array);
    const c = new TufClient({ fetcher: mapFetcher(files), clock, trustedRoot: rootBytes({}) });
    await c.refresh();
    expect(await codeOf(c.getTargetInfo('policy/a.json'))).toBe('TUF_THRESHOLD_NOT_MET');
    files.delete('metadata/a.json');
    const c2 = new TufClient({ fetcher: mapFetcher(files), clock, trustedRoot: rootBytes({}) });
    await c2.refresh();
    expect(await codeOf(c2.getTargetInfo('policy/a.json'))).toBe('TUF_METADATA_MISSING');
  });

  it('distributes a trust registry snapshot as a TUF target', async () => {
    const roots = [signer(1), signer(2)];
    const genesis = createGenesisEvent(
      { registry: 'dist', rootKeys: roots.map((r) => r.publicKey), rootThreshold: 2 },
      roots,
    );
    const registry = TrustRegistry.fromGenesis(genesis);
    commitTrustEvent(
      registry,
      { kind: 'key_publish', publicKey: signer(10).publicKey, roles: ['executor'] },
      [roots[0]!],
    );
    const snapshot = JSON.stringify(exportTrustSnapshot(registry));
    const files = makeRepo({ targets: { 'trust/registry.json': snapshot, 'junk.json': '{' } });
    const dist = new TrustDistribution({ fetcher: mapFetcher(files), clock, trustedRoot: rootBytes({}) });
    const loaded = await dist.fetchTrustRegistry('trust/registry.json', trustEventDigest(genesis));
    expect(loaded.keyValidFor(signer(10).keyId, 'executor', 2).ok).toBe(true);
    expect(await codeOf(dist.fetchTrustRegistry('junk.json', trustEventDigest(genesis)))).toBe(
      'TRUST_SNAPSHOT_MALFORMED',
    );
    expect(await codeOf(dist.fetchTrustRegistry('trust/registry.json', `sha256:${'0'.repeat(64)}`))).toBe(
      'TRUST_ANCHOR_MISMATCH',
    );
    // a failed refresh is not remembered: the next call retries
    const flaky = new Map(files);
    flaky.delete('metadata/timestamp.json');
    const d2 = new TrustDistribution({ fetcher: mapFetcher(flaky), clock, trustedRoot: rootBytes({}) });
    expect(await codeOf(d2.fetchVerifiedTarget('junk.json'))).toBe('TUF_METADATA_MISSING');
    flaky.set('metadata/timestamp.json', files.get('metadata/timestamp.json') as Uint8Array);
    expect(new TextDecoder().decode(await d2.fetchVerifiedTarget('junk.json'))).toBe('{');
  });
});
