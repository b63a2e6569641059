// The TUF workflow decisions of the TCB (docs/spec/tuf-client.md), driven on generated repositories
// through the trusted metadata set alone: every accept and refuse here is the set's, the target
// search step's or the target check's — the fetch loop (`@helm/tuf-client`, outside the TCB) only
// chooses which bytes to hand over. Its own tests run the same repositories through the loop and
// against the tuf-js Updater.
import { describe, expect, it } from 'vitest';
import { TrustError } from '../src/index.ts';
import { checkVersionForName, targetFileName, targetSearchStep, verifyTarget } from '../src/tuf.ts';
import {
  findTarget,
  KEYS,
  makeRepo,
  REFUSED_ROTATIONS,
  type RepoOptions,
  rootBytes,
  verifyRepo,
} from './tuf-fixtures.ts';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    if (error instanceof TrustError) return error.code;
    throw error;
  }
  return 'NO_ERROR';
}

const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString();
const meta = (files: Map<string, Uint8Array>, name: string) => files.get(`metadata/${name}`) as Uint8Array;

describe('root chain (§5.3)', () => {
  it('follows a rotation to new keys and thresholds, and verifies the rest under the new root', () => {
    const files = makeRepo({});
    const v2 = makeRepo({
      rootVersion: 2,
      rootKeys: [KEYS.root2, KEYS.root3],
      rootThreshold: 2,
      rootSigners: [KEYS.root1, KEYS.root2, KEYS.root3],
      timestampKey: KEYS.timestamp2,
    });
    files.set('metadata/2.root.json', meta(v2, '2.root.json'));
    files.set('metadata/timestamp.json', meta(v2, 'timestamp.json'));
    const previous = { timestamp: meta(makeRepo({}), 'timestamp.json') };
    const set = verifyRepo(files, { previous });
    expect(set.root.signed.version).toBe(2);
    expect(text(findTarget(set, files, 'trust-root.json')?.bytes)).toBe('{"hello":"trust"}');
    // the timestamp signed by the rotated-out key is no longer trusted under root v2
    const stale = makeRepo({});
    stale.set('metadata/2.root.json', meta(v2, '2.root.json'));
    expect(codeOf(() => verifyRepo(stale))).toBe('TUF_THRESHOLD_NOT_MET');
  });

  it('refuses a next root not signed by the old quorum, not self-signed, or of the wrong version', () => {
    for (const [o, expected] of REFUSED_ROTATIONS) {
      const files = makeRepo({});
      files.set('metadata/2.root.json', meta(makeRepo(o), `${o.rootVersion}.root.json`));
      expect(
        codeOf(() => verifyRepo(files)),
        JSON.stringify(o),
      ).toBe(expected);
    }
  });

  it('refuses an expired final root, timestamp or snapshot (freeze)', () => {
    expect(codeOf(() => verifyRepo(makeRepo({ timestampExpires: '2025-12-31T00:00:00Z' })))).toBe(
      'TUF_EXPIRED',
    );
    expect(codeOf(() => verifyRepo(makeRepo({ snapshotExpires: '2025-12-31T00:00:00Z' })))).toBe(
      'TUF_EXPIRED',
    );
    const trustedRoot = rootBytes({ rootExpires: '2025-01-01T00:00:00Z' });
    expect(codeOf(() => verifyRepo(makeRepo({}), { trustedRoot }))).toBe('TUF_EXPIRED');
  });
});

describe('I-TUF-1: rollback references (§5.4.3, §5.5.5)', () => {
  const newer = makeRepo({ timestampVersion: 5, snapshotVersion: 5, targetsVersion: 5 });
  const previous = { timestamp: meta(newer, 'timestamp.json'), snapshot: meta(newer, 'snapshot.json') };

  it('refuses a lower timestamp, snapshot or targets version, and accepts a proper update', () => {
    const run = (o: RepoOptions) => codeOf(() => verifyRepo(makeRepo(o), { previous }));
    expect(run({ timestampVersion: 4, snapshotVersion: 5, targetsVersion: 5 })).toBe('TUF_ROLLBACK');
    expect(run({ timestampVersion: 6, snapshotVersion: 4, targetsVersion: 5 })).toBe('TUF_ROLLBACK');
    expect(run({ timestampVersion: 6, snapshotVersion: 6, targetsVersion: 4 })).toBe('TUF_ROLLBACK');
    expect(run({ timestampVersion: 7, snapshotVersion: 7, targetsVersion: 7 })).toBe('NO_ERROR');
  });

  it('keeps the trusted timestamp when the version is unchanged', () => {
    const set = verifyRepo(newer, { previous });
    expect(set.timestamp?.signed.version).toBe(5);
  });

  it('refuses a snapshot that drops a role listed before', () => {
    const delegated = [
      {
        name: 'policies',
        key: KEYS.delegate,
        paths: ['policy/*'],
        terminating: false,
        targets: { 'policy/x.json': 'x' },
      },
    ];
    const before = { snapshot: meta(makeRepo({ delegated }), 'snapshot.json') };
    const dropped = makeRepo({ timestampVersion: 2, snapshotVersion: 2 });
    expect(codeOf(() => verifyRepo(dropped, { previous: before }))).toBe('TUF_ROLLBACK');
  });

  it('refuses snapshot bytes other than those the timestamp lists', () => {
    const files = makeRepo({ timestampVersion: 3, snapshotVersion: 2 });
    files.set(
      'metadata/snapshot.json',
      meta(makeRepo({ timestampVersion: 3, snapshotVersion: 3 }), 'snapshot.json'),
    );
    expect(codeOf(() => verifyRepo(files))).toBe('TUF_LENGTH_OR_HASH_MISMATCH');
  });
});

describe('target search and target bytes (§5.6.7, §5.7)', () => {
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

  it('searches pre-order, stops at a terminating role, and checks consistent-snapshot names', () => {
    const files = makeRepo({ consistent: true, delegated });
    const set = verifyRepo(files);
    const a = findTarget(set, files, 'policy/a.json');
    expect([a?.info.role, text(a?.bytes)]).toEqual(['a', 'A']);
    // 'a' is terminating for policy/*: 'b' is never consulted
    expect(findTarget(set, files, 'policy/b.json')).toBeUndefined();
    expect(set.targets('b')).toBeUndefined();
    expect(text(findTarget(set, files, 'policy/bundle.json')?.bytes)).toBe('{"rules":[]}');
  });

  it('lists delegations up to and including the first terminating one, in metadata order', () => {
    const files = makeRepo({ delegated: [{ ...delegated[1]!, name: 'first' }, ...delegated] });
    const set = verifyRepo(files);
    const step = targetSearchStep(set.targets('targets')!, 'targets', 'policy/z.json');
    expect(step).toEqual({
      delegations: [
        { role: 'first', delegator: 'targets' },
        { role: 'a', delegator: 'targets' },
      ],
      terminating: true,
    });
    expect(targetSearchStep(set.targets('targets')!, 'targets', 'other/z.json')).toEqual({
      delegations: [],
      terminating: false,
    });
  });

  it('refuses a delegated role signed by the wrong key', () => {
    const files = makeRepo({ delegated });
    files.set(
      'metadata/a.json',
      meta(makeRepo({ delegated: [{ ...delegated[0]!, key: KEYS.delegate2 }] }), 'a.json'),
    );
    expect(codeOf(() => findTarget(verifyRepo(files), files, 'policy/a.json'))).toBe('TUF_THRESHOLD_NOT_MET');
  });

  it('refuses target bytes of another length or content, and a target that lists no hashes', () => {
    const files = makeRepo({});
    const set = verifyRepo(files);
    const { info, bytes } = findTarget(set, files, 'trust-root.json')!;
    const longer = Uint8Array.from([...bytes, 0x20]);
    const flipped = Uint8Array.from(bytes);
    flipped[0] = (flipped[0] as number) ^ 1;
    expect(codeOf(() => verifyTarget(info, longer, 'x'))).toBe('TUF_LENGTH_OR_HASH_MISMATCH');
    expect(codeOf(() => verifyTarget(info, flipped, 'x'))).toBe('TUF_LENGTH_OR_HASH_MISMATCH');
    expect(codeOf(() => verifyTarget({ ...info, hashes: { md5: '0'.repeat(32) } }, bytes, 'x'))).toBe(
      'TUF_LENGTH_OR_HASH_MISMATCH',
    );
    const md = set.targets('targets')!;
    const listed = md.signed.targets['trust-root.json']!;
    (listed as unknown as { hashes: Record<string, string> }).hashes = {};
    expect(codeOf(() => targetSearchStep(md, 'targets', 'trust-root.json'))).toBe('TUF_METADATA_MALFORMED');
  });
});

describe('names from signed metadata (I-TUF-2)', () => {
  const sha256 = 'ab'.repeat(32);

  it('builds consistent-snapshot target names from a well-formed hash only', () => {
    expect(targetFileName('a/b.json', { sha256 }, true)).toBe(`a/${sha256}.b.json`);
    expect(targetFileName('b.json', { sha512: 'cd'.repeat(64) }, true)).toBe(`${'cd'.repeat(64)}.b.json`);
    expect(targetFileName('a/b.json', {}, false)).toBe('a/b.json');
    for (const hashes of [{}, { md5: 'ab'.repeat(16) }, { sha256: 'AB'.repeat(32) }, { sha256: 'ab' }]) {
      expect(
        codeOf(() => targetFileName('b.json', hashes, true)),
        JSON.stringify(hashes),
      ).toBe('TUF_METADATA_MALFORMED');
    }
  });

  it('prints versions as decimal digits only', () => {
    expect(checkVersionForName(7)).toBe(7);
    for (const v of [0, -1, 1.5, 1e21, Number.NaN]) {
      expect(
        codeOf(() => checkVersionForName(v)),
        String(v),
      ).toBe('TUF_METADATA_MALFORMED');
    }
  });
});
