// Red team — I-TUF-3: "a TUF threshold counts distinct public keys: one key under several key ids
// or encodings counts once". keyIdentity (src/tuf/keys.ts) normalises PEM and Ed25519 hex through
// a JWK, but an ECDSA key given as hex (which @tufjs/models accepts and verifies: ecdsa.hexToDER)
// is compared as `raw;<keytype>;<hex>`. One P-256 key listed twice — uncompressed and compressed
// hex, or the same hex under keytype `ecdsa` and `ecdsa-sha2-nistp256` — counts as two signers,
// so the holder of that single key meets a threshold of 2 on its own.
import { createHash, ECDH, generateKeyPairSync, sign } from 'node:crypto';
import { Key, Signature } from '@tufjs/models';
import { describe, expect, it } from 'vitest';
import { TrustError } from '../../src/index.ts';
import { keyIdentity } from '../../src/tuf/keys.ts';
import { keysRotatedOut } from '../../src/tuf/trusted-set.ts';
import {
  ecKeyEncodings,
  ed25519KeyEncodings,
  KEYS,
  type KeyEncodings,
  keyEntry,
  makeRepo,
  makeRoot,
  rsaKeyEncodings,
  type TestKey,
  verifyRepo,
} from '../tuf-fixtures.ts';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const jwk = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
const uncompressed = `04${Buffer.from(jwk.x, 'base64url').toString('hex')}${Buffer.from(jwk.y, 'base64url').toString('hex')}`;
const compressed = ECDH.convertKey(uncompressed, 'prime256v1', 'hex', 'hex', 'compressed') as string;

/** The one P-256 key, listed under `keytype` with public value `hex`. */
function ecdsaKey(keytype: string, hex: string): TestKey {
  const json = { keytype, scheme: 'ecdsa-sha2-nistp256', keyval: { public: hex } };
  const keyID = createHash('sha256').update(JSON.stringify(json)).digest('hex');
  return {
    keyID,
    json,
    signer: (data) => new Signature({ keyID, sig: sign('sha256', data, privateKey).toString('hex') }),
  };
}

const cases: [string, TestKey, TestKey][] = [
  ['uncompressed vs compressed hex', ecdsaKey('ecdsa', uncompressed), ecdsaKey('ecdsa', compressed)],
  [
    'keytype ecdsa vs ecdsa-sha2-nistp256',
    ecdsaKey('ecdsa', uncompressed),
    ecdsaKey('ecdsa-sha2-nistp256', uncompressed),
  ],
];

describe('redteam I-TUF-3: one ECDSA key in two hex encodings counts once', () => {
  for (const [label, a, b] of cases) {
    it(`targets threshold 2 is not met by one key (${label})`, async () => {
      expect(a.keyID).not.toBe(b.keyID);
      const files = makeRepo({ targetsKeys: [a, b], targetsThreshold: 2 });
      let error: unknown;
      try {
        verifyRepo(files);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TrustError);
      expect((error as TrustError).code).toBe('TUF_THRESHOLD_NOT_MET');
    });
  }

  it('control: the same key listed once meets threshold 1 (the encodings verify)', async () => {
    for (const key of [cases[0]?.[1], cases[0]?.[2], cases[1]?.[2]] as TestKey[]) {
      const files = makeRepo({ targetsKeys: [key], targetsThreshold: 1 });
      expect(verifyRepo(files).targets('targets')).toBeDefined();
    }
  });
});

/** The outcome of a refresh whose targets role lists `keys` with `threshold`. */
async function refreshTargets(keys: TestKey[], threshold: number): Promise<string> {
  const files = makeRepo({ targetsKeys: keys, targetsThreshold: threshold });
  try {
    verifyRepo(files);
    return 'accept';
  } catch (e) {
    return e instanceof TrustError ? e.code : String(e);
  }
}

const families: KeyEncodings[] = [
  ed25519KeyEncodings(11),
  ecKeyEncodings('P-256', 12),
  ecKeyEncodings('P-384', 13),
  rsaKeyEncodings(),
];

describe('I-TUF-3: one key counts once whatever its encoding, key id or keytype/scheme labels', () => {
  for (const family of families) {
    describe(family.label, () => {
      it('every encoding verifies on its own (threshold 1), so counting it once is not trivial', async () => {
        for (const { name, key } of family.entries) {
          expect(await refreshTargets([key], 1), name).toBe('accept');
        }
      });

      it('every encoding has the same identity', () => {
        const ids = family.entries.map(({ key }) => keyIdentity(Key.fromJSON(key.keyID, key.json as never)));
        expect(ids[0]).toMatch(/^30[0-9a-f]+$/);
        expect(new Set(ids)).toEqual(new Set([ids[0]]));
      });

      it('no two encodings meet a threshold of 2, nor all of them together', async () => {
        const { entries } = family;
        for (let i = 0; i < entries.length; i++) {
          for (let j = i + 1; j < entries.length; j++) {
            const a = entries[i] as (typeof entries)[number];
            const b = entries[j] as (typeof entries)[number];
            expect(await refreshTargets([a.key, b.key], 2), `${a.name} + ${b.name}`).toBe(
              'TUF_THRESHOLD_NOT_MET',
            );
          }
        }
        expect(
          await refreshTargets(
            entries.map((e) => e.key),
            2,
          ),
        ).toBe('TUF_THRESHOLD_NOT_MET');
      });
    });
  }

  it('control: distinct keys of different families meet a threshold of 4', async () => {
    const keys = families.map((f) => (f.entries[0] as KeyEncodings['entries'][number]).key);
    expect(await refreshTargets(keys, 4)).toBe('accept');
    expect(new Set(keys.map((k) => keyIdentity(Key.fromJSON(k.keyID, k.json as never)))).size).toBe(4);
  });
});

describe('I-TUF-3: a value that is no supported public key has no identity and never counts', () => {
  const sign = KEYS.targets.signer;
  const edHex = (KEYS.targets.json.keyval as { public: string }).public;
  const p256 = (ecKeyEncodings('P-256', 12).entries[0] as KeyEncodings['entries'][number]).key;
  const p256Hex = (p256.json.keyval as { public: string }).public;
  const x25519Pem = generateKeyPairSync('x25519').publicKey.export({ format: 'pem', type: 'spki' }) as string;
  const unparseable: [string, TestKey][] = [
    ['not hex', keyEntry('ed25519', 'ed25519', 'zz', (d) => Buffer.from(sign(d).sig, 'hex'))],
    ['odd-length hex', keyEntry('ed25519', 'ed25519', `${edHex}0`, (d) => Buffer.from(sign(d).sig, 'hex'))],
    [
      'ed25519 hex of 31 bytes',
      keyEntry('ed25519', 'ed25519', edHex.slice(2), (d) => Buffer.from(sign(d).sig, 'hex')),
    ],
    [
      'ed25519 hex of 300 bytes (a long DER length)',
      keyEntry('ed25519', 'ed25519', edHex.repeat(10).slice(0, 600), (d) => Buffer.from(sign(d).sig, 'hex')),
    ],
    [
      'a P-256 point under a P-384 scheme',
      keyEntry('ecdsa', 'ecdsa-sha2-nistp384', p256Hex, p256.signer as never),
    ],
    [
      'hex under keytype rsa',
      keyEntry('rsa', 'rsassa-pss-sha256', edHex, (d) => Buffer.from(sign(d).sig, 'hex')),
    ],
    [
      'hex under an unknown keytype',
      keyEntry('sphincs', 'sphincs', edHex, (d) => Buffer.from(sign(d).sig, 'hex')),
    ],
    [
      'PEM that is not a key',
      keyEntry(
        'ed25519',
        'ed25519',
        '-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n',
        (d) => Buffer.from(sign(d).sig, 'hex'),
      ),
    ],
    [
      'an X25519 key (cannot sign)',
      keyEntry('ed25519', 'ed25519', x25519Pem, (d) => Buffer.from(sign(d).sig, 'hex')),
    ],
  ];

  it.each(unparseable)('%s', (_name, key) => {
    expect(keyIdentity(Key.fromJSON(key.keyID, key.json as never))).toBeUndefined();
  });

  it('such keys add nothing to a threshold, even next to the key they resemble', async () => {
    const [, notHex] = unparseable[0] as [string, TestKey];
    const [, oddHex] = unparseable[1] as [string, TestKey];
    expect(await refreshTargets([KEYS.targets, notHex, oddHex], 2)).toBe('TUF_THRESHOLD_NOT_MET');
    expect(await refreshTargets([oddHex], 1)).toBe('TUF_THRESHOLD_NOT_MET');
  });

  it('§5.3.11: a key id re-pointed at a value that is no key rotates the role out', () => {
    const before = makeRoot({ timestampKeys: [KEYS.timestamp] });
    const after = makeRoot({ timestampKeys: [KEYS.timestamp] });
    const id = KEYS.timestamp.keyID;
    (after.signed.keys as Record<string, Key>)[id] = Key.fromJSON(id, {
      keytype: 'ed25519',
      scheme: 'ed25519',
      keyval: { public: 'zz' },
    } as never);
    expect(keysRotatedOut(before, after, 'timestamp')).toBe(true);
    expect(keysRotatedOut(before, makeRoot({ timestampKeys: [KEYS.timestamp] }), 'timestamp')).toBe(false);
  });
});
