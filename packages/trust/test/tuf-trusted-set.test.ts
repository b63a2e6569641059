// The trusted metadata set is a pure function of metadata bytes and a reference time: these tests
// drive it without any fetcher, and check the §5.3.11 rule (keysRotatedOut) case by case.
import { createECDH } from 'node:crypto';
import { Key, type Metadata, type Root } from '@tufjs/models';
import { describe, expect, it } from 'vitest';
import { TrustError } from '../src/index.ts';
import { keyIdentity } from '../src/tuf/keys.ts';
import { checkTargetPath, metadataFileName } from '../src/tuf/names.ts';
import { keysRotatedOut, TufTrustedMetadataSet } from '../src/tuf/trusted-set.ts';
import {
  aliasKey,
  KEYS,
  makeRepo,
  makeRoot,
  REFERENCE_MS,
  type RepoOptions,
  rootBytes,
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

const file = (files: Map<string, Uint8Array>, name: string) => files.get(`metadata/${name}`) as Uint8Array;

describe('TufTrustedMetadataSet (pure: bytes + reference time)', () => {
  it('verifies a whole repository without a fetcher, identically on every run', () => {
    const run = () => {
      const files = makeRepo({ timestampVersion: 3, snapshotVersion: 2, targetsVersion: 4 });
      const set = new TufTrustedMetadataSet(rootBytes({}), REFERENCE_MS);
      set.checkRootFresh();
      expect(set.updateTimestamp(file(files, 'timestamp.json'))).toBe(true);
      set.updateSnapshot(file(files, 'snapshot.json'), 'snapshot.json');
      const targets = set.updateTargets('targets', 'root', file(files, 'targets.json'), 'targets.json');
      return [
        set.root.signed.version,
        set.timestamp?.signed.version,
        set.snapshot?.signed.version,
        targets.signed.version,
      ];
    };
    expect(run()).toEqual([1, 3, 2, 4]);
    expect(run()).toEqual(run());
  });

  it('judges expiry against the reference time only (expired at the instant of expiry)', () => {
    const files = makeRepo({ timestampExpires: '2026-01-01T00:00:00Z' });
    const before = new TufTrustedMetadataSet(rootBytes({}), REFERENCE_MS - 1);
    expect(codeOf(() => before.updateTimestamp(file(files, 'timestamp.json')))).toBe('NO_ERROR');
    const at = new TufTrustedMetadataSet(rootBytes({}), REFERENCE_MS);
    expect(codeOf(() => at.updateTimestamp(file(files, 'timestamp.json')))).toBe('TUF_EXPIRED');
  });

  it('refuses updates out of the §5 order', () => {
    const files = makeRepo({});
    const set = new TufTrustedMetadataSet(rootBytes({}), REFERENCE_MS);
    expect(codeOf(() => set.updateSnapshot(file(files, 'snapshot.json'), 's'))).toBe('TUF_NOT_REFRESHED');
    expect(codeOf(() => set.updateTargets('targets', 'root', file(files, 'targets.json'), 't'))).toBe(
      'TUF_NOT_REFRESHED',
    );
    set.updateTimestamp(file(files, 'timestamp.json'));
    expect(codeOf(() => set.updateTimestamp(file(files, 'timestamp.json')))).toBe('TUF_NOT_REFRESHED');
    expect(codeOf(() => set.updateRoot(rootBytes({ rootVersion: 2 })))).toBe('TUF_NOT_REFRESHED');
    expect(codeOf(() => set.loadPrevious('timestamp', file(files, 'timestamp.json')))).toBe(
      'TUF_NOT_REFRESHED',
    );
  });

  it('leaves its state unchanged when an update is refused', () => {
    const files = makeRepo({});
    const set = new TufTrustedMetadataSet(rootBytes({}), REFERENCE_MS);
    set.updateTimestamp(file(files, 'timestamp.json'));
    expect(codeOf(() => set.updateSnapshot(new TextEncoder().encode('{}'), 'bad'))).toBe(
      'TUF_LENGTH_OR_HASH_MISMATCH',
    );
    expect(set.snapshot).toBeUndefined();
    set.updateSnapshot(file(files, 'snapshot.json'), 'snapshot.json');
    expect(set.snapshot?.signed.version).toBe(1);
  });

  it('refuses metadata of the wrong type where a role is expected', () => {
    const files = makeRepo({});
    const set = new TufTrustedMetadataSet(rootBytes({}), REFERENCE_MS);
    expect(codeOf(() => set.updateTimestamp(file(files, 'snapshot.json')))).toBe('TUF_METADATA_MALFORMED');
  });
});

describe('§5.3.11 keysRotatedOut (I-TUF-1)', () => {
  const TS = KEYS.timestamp;
  const TS2 = KEYS.timestamp2;
  const root = (o: RepoOptions): Metadata<Root> => makeRoot(o);
  const cases: [string, RepoOptions, RepoOptions, boolean][] = [
    ['unchanged', {}, {}, false],
    ['a key added', { timestampKeys: [TS] }, { timestampKeys: [TS, TS2] }, false],
    ['keys reordered', { timestampKeys: [TS, TS2] }, { timestampKeys: [TS2, TS] }, false],
    [
      'threshold raised',
      { timestampKeys: [TS, TS2] },
      { timestampKeys: [TS, TS2], timestampThreshold: 2 },
      false,
    ],
    ['a key removed', { timestampKeys: [TS, TS2] }, { timestampKeys: [TS2] }, true],
    ['a key replaced', { timestampKeys: [TS] }, { timestampKeys: [TS2] }, true],
    [
      'the same key under a new id',
      { timestampKeys: [TS] },
      { timestampKeys: [aliasKey(TS, 'a'.repeat(64))] },
      true,
    ],
    [
      'an id re-pointed at another key',
      { timestampKeys: [TS] },
      { timestampKeys: [aliasKey(TS2, TS.keyID)] },
      true,
    ],
  ];
  it.each(cases)('%s', (_name, before, after, rotated) => {
    expect(keysRotatedOut(root(before), root(after), 'timestamp')).toBe(rotated);
    expect(keysRotatedOut(root(before), root(after), 'snapshot')).toBe(false);
  });
});

describe('names handed to the ports (I-TUF-2)', () => {
  it('metadata file names', () => {
    expect(metadataFileName('targets', undefined)).toBe('targets.json');
    expect(metadataFileName('snapshot', 7)).toBe('7.snapshot.json');
    expect(metadataFileName('../../escaped/role', undefined)).toBe('..%2F..%2Fescaped%2Frole.json');
    expect(metadataFileName('a/b', 2)).toBe('2.a%2Fb.json');
  });

  it('target paths that could leave the targets base are refused', () => {
    for (const path of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a\\b', './a', 'a/.', '', 'a\u0000b']) {
      expect(
        codeOf(() => checkTargetPath(path)),
        JSON.stringify(path),
      ).toBe('TUF_METADATA_MALFORMED');
    }
    for (const path of ['a', 'a/b.json', 'policy/bundle.json', '..a', 'a..b/c']) {
      expect(
        codeOf(() => checkTargetPath(path)),
        path,
      ).toBe('NO_ERROR');
    }
  });
});

describe('key identity for thresholds (I-TUF-3)', () => {
  const key = (keytype: string, scheme: string, pub: string) =>
    Key.fromJSON('id', { keytype, scheme, keyval: { public: pub } });
  const pem = (der: Buffer) =>
    `-----BEGIN PUBLIC KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PUBLIC KEY-----\n`;
  const edHex = (KEYS.targets.json.keyval as { public: string }).public;
  const edPem = pem(
    Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(edHex, 'hex')]),
  );
  // a P-256 key from a fixed private scalar, its public point uncompressed and compressed
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(Buffer.alloc(32, 7));
  const spki = (point: Buffer) =>
    Buffer.concat([
      Buffer.from(point.length === 65 ? '3059' : '3039', 'hex'),
      Buffer.from('301306072a8648ce3d020106082a8648ce3d030107', 'hex'),
      Buffer.from([0x03, point.length + 1, 0x00]),
      point,
    ]);
  const ecUncompressed = pem(spki(ecdh.getPublicKey()));
  const ecCompressed = pem(spki(ecdh.getPublicKey(undefined, 'compressed')));

  it('is the same for one key in any encoding, and differs between keys', () => {
    const id = (k: Key) => keyIdentity(k);
    expect(id(key('ed25519', 'ed25519', edHex))).toBe(id(key('ed25519', 'ed25519', edHex.toUpperCase())));
    expect(id(key('ed25519', 'ed25519', edHex))).toBe(id(key('ed25519', 'ed25519', edPem)));
    expect(id(key('ecdsa', 'ecdsa-sha2-nistp256', ecUncompressed))).toBe(
      id(key('ecdsa', 'ecdsa-sha2-nistp256', ecCompressed)),
    );
    const raw = ecdh.getPublicKey('hex');
    expect(id(key('ecdsa', 'ecdsa-sha2-nistp256', raw))).toBe(
      id(key('ecdsa', 'ecdsa-sha2-nistp256', raw.toUpperCase())),
    );
    expect(id(key('ecdsa', 'ecdsa-sha2-nistp256', raw))).toBe(
      id(key('ecdsa', 'ecdsa-sha2-nistp256', ecCompressed)),
    );
    const others = [
      key('ed25519', 'ed25519', (KEYS.delegate.json.keyval as { public: string }).public),
      key('ecdsa', 'ecdsa-sha2-nistp256', ecUncompressed),
    ];
    const ids = new Set([id(key('ed25519', 'ed25519', edHex)), ...others.map(id)]);
    expect(ids.size).toBe(3);
    // values that are no key have no identity (they never count), rather than a raw-string one
    expect(
      id(key('ed25519', 'ed25519', '-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n')),
    ).toBe(undefined);
    expect(id(key('ed25519', 'ed25519', 'zz'))).toBe(undefined);
  });
});
