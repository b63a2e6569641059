// Test-only helpers: fetchers over a folder, a map and loopback HTTP, and a generator of small TUF
// repositories signed with our own deterministic Ed25519 keys (for rotation / rollback cases).
import {
  constants,
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Metadata, type Root, Signature, type Snapshot, type Targets, type Timestamp } from '@tufjs/models';
import {
  metadataFileName,
  type TufDelegationStep,
  type TufTargetInfo,
  TufTrustedMetadataSet,
  targetFileName,
  targetSearchStep,
  verifyTarget,
} from '../src/tuf.ts';

/** The fetcher port of `@helm/tuf-client` (structurally), for its tests that share these fixtures. */
export interface TufFetcher {
  fetchMetadata(name: string, maxLength: number): Promise<Uint8Array | undefined>;
  fetchTarget(path: string, maxLength: number): Promise<Uint8Array | undefined>;
}

export const SHARED_REPO = fileURLToPath(
  new URL('../../../../shared/testdata/tuf/repository', import.meta.url),
);
/** A reference time before every expiry in the shared repository (2030-01-01). */
export const REFERENCE_MS = Date.UTC(2026, 0, 1);
export const AFTER_EXPIRY_MS = Date.UTC(2030, 0, 1, 0, 0, 1);

export function fileFetcher(dir: string, log: string[] = []): TufFetcher {
  const read = async (path: string, max: number) => {
    log.push(path);
    try {
      const bytes = new Uint8Array(await readFile(join(dir, path)));
      return bytes.length > max ? bytes.subarray(0, max + 1) : bytes;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  };
  return {
    fetchMetadata: (name, max) => read(join('metadata', name), max),
    fetchTarget: (path, max) => read(join('targets', path), max),
  };
}

export function mapFetcher(files: Map<string, Uint8Array>, log: string[] = []): TufFetcher {
  return {
    fetchMetadata: async (name) => {
      log.push(`metadata/${name}`);
      return files.get(`metadata/${name}`);
    },
    fetchTarget: async (path) => {
      log.push(`targets/${path}`);
      return files.get(`targets/${path}`);
    },
  };
}

/** Serve `dir` on 127.0.0.1 (test only). */
export async function serveFolder(dir: string): Promise<{ server: Server; base: string }> {
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      if (path.includes('..')) throw new Error('no');
      const body = await readFile(join(dir, path));
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return { server, base: `http://127.0.0.1:${address.port}` };
}

export function httpFetcher(base: string): TufFetcher {
  const get = async (path: string, max: number) => {
    const res = await fetch(`${base}/${path}`);
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    return bytes.length > max ? bytes.subarray(0, max + 1) : bytes;
  };
  return {
    fetchMetadata: (name, max) => get(`metadata/${name}`, max),
    fetchTarget: (path, max) => get(`targets/${path}`, max),
  };
}

// ---- a generated repository -------------------------------------------------------------------

const PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface TestKey {
  readonly keyID: string;
  readonly json: Record<string, unknown>;
  signer(data: Buffer): Signature;
}

export function tufKey(seedByte: number): TestKey {
  const priv = createPrivateKey({
    key: Buffer.concat([PKCS8, Buffer.alloc(32, seedByte)]),
    format: 'der',
    type: 'pkcs8',
  });
  const pub = createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(12).toString('hex');
  const json = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: pub } };
  const keyID = sha256hex(Buffer.from(JSON.stringify(json)));
  return {
    keyID,
    json,
    signer: (data) => new Signature({ keyID, sig: sign(null, data, priv).toString('hex') }),
  };
}

export function sha256hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const enc = new TextEncoder();
export function bytesOf(md: Metadata<Root | Timestamp | Snapshot | Targets>): Uint8Array {
  return enc.encode(JSON.stringify(md.toJSON(), null, 1));
}

export function signed<T extends Root | Timestamp | Snapshot | Targets>(
  kind: 'root' | 'timestamp' | 'snapshot' | 'targets',
  body: Record<string, unknown>,
  signers: TestKey[],
): Metadata<T> {
  const md = Metadata.fromJSON(
    kind as never,
    { signed: { _type: kind, spec_version: '1.0.0', ...body }, signatures: [] } as never,
  ) as unknown as Metadata<T>;
  for (const s of signers) md.sign(s.signer, true);
  return md;
}

export interface RepoOptions {
  rootVersion?: number;
  /** Keys of the timestamp role (default [KEYS.timestamp], or [timestampKey]) and who signs. */
  timestampKeys?: TestKey[];
  timestampThreshold?: number;
  timestampSigners?: TestKey[];
  snapshotKeys?: TestKey[];
  snapshotThreshold?: number;
  snapshotSigners?: TestKey[];
  targetsKeys?: TestKey[];
  targetsThreshold?: number;
  targetsSigners?: TestKey[];
  /** Versions of the delegated roles' metadata (default 1). */
  delegatedVersion?: number;
  rootKeys?: TestKey[];
  rootThreshold?: number;
  rootSigners?: TestKey[];
  timestampKey?: TestKey;
  timestampVersion?: number;
  snapshotVersion?: number;
  targetsVersion?: number;
  expires?: string;
  rootExpires?: string;
  timestampExpires?: string;
  snapshotExpires?: string;
  consistent?: boolean;
  targets?: Record<string, string>;
  delegated?: {
    name: string;
    key: TestKey;
    /** Extra delegation keys / threshold / signers (default: `key`, 1, [key]). */
    keys?: TestKey[];
    threshold?: number;
    signers?: TestKey[];
    paths: string[];
    terminating: boolean;
    targets: Record<string, string>;
  }[];
}

export const KEYS = {
  root1: tufKey(1),
  root2: tufKey(2),
  root3: tufKey(3),
  timestamp: tufKey(4),
  snapshot: tufKey(5),
  targets: tufKey(6),
  delegate: tufKey(7),
  delegate2: tufKey(8),
  timestamp2: tufKey(9),
  snapshot2: tufKey(10),
};

/**
 * The same key under another key id (and, with `upper`, its public value in uppercase hex): one
 * signer that a client counting key ids would count twice.
 */
/**
 * Next roots a client must refuse, with the code: signed only by the new key, signed by the old
 * key but below the new threshold, and a version that skips one. Shared by the trusted-set tests
 * (`@helm/trust`) and the client tests (`@helm/tuf-client`), so both layers refuse the same set.
 */
export const REFUSED_ROTATIONS: readonly (readonly [RepoOptions & { rootVersion: number }, string])[] = [
  [{ rootVersion: 2, rootKeys: [KEYS.root2], rootSigners: [KEYS.root2] }, 'TUF_THRESHOLD_NOT_MET'],
  [
    {
      rootVersion: 2,
      rootKeys: [KEYS.root2, KEYS.root3],
      rootThreshold: 2,
      rootSigners: [KEYS.root1, KEYS.root2],
    },
    'TUF_THRESHOLD_NOT_MET',
  ],
  [{ rootVersion: 3, rootKeys: [KEYS.root1], rootSigners: [KEYS.root1] }, 'TUF_VERSION_MISMATCH'],
];

export function aliasKey(key: TestKey, alias: string, upper = false): TestKey {
  const keyval = key.json.keyval as { public: string };
  const json = { ...key.json, keyval: { public: upper ? keyval.public.toUpperCase() : keyval.public } };
  return {
    keyID: alias,
    json,
    signer: (data) => new Signature({ keyID: alias, sig: key.signer(data).sig }),
  };
}

/** Root metadata (signed) for the options. */
export function makeRoot(o: RepoOptions): Metadata<Root> {
  const rootKeys = o.rootKeys ?? [KEYS.root1];
  const ts = o.timestampKeys ?? [o.timestampKey ?? KEYS.timestamp];
  const snap = o.snapshotKeys ?? [KEYS.snapshot];
  const tgt = o.targetsKeys ?? [KEYS.targets];
  const keys: Record<string, unknown> = {};
  for (const k of [...rootKeys, ...ts, ...snap, ...tgt]) keys[k.keyID] = k.json;
  const role = (ks: TestKey[], threshold = 1) => ({ keyids: ks.map((k) => k.keyID), threshold });
  return signed<Root>(
    'root',
    {
      version: o.rootVersion ?? 1,
      expires: o.rootExpires ?? o.expires ?? '2030-01-01T00:00:00Z',
      consistent_snapshot: o.consistent ?? false,
      keys,
      roles: {
        root: role(rootKeys, o.rootThreshold ?? 1),
        timestamp: role(ts, o.timestampThreshold),
        snapshot: role(snap, o.snapshotThreshold),
        targets: role(tgt, o.targetsThreshold),
      },
    },
    o.rootSigners ?? rootKeys,
  );
}

export function rootBytes(o: RepoOptions): Uint8Array {
  return bytesOf(makeRoot(o));
}

/** A complete repository as a map of `metadata/…` and `targets/…` paths to bytes. */
export function makeRepo(o: RepoOptions = {}): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const expires = o.expires ?? '2030-01-01T00:00:00Z';
  const consistent = o.consistent ?? false;
  const root = makeRoot(o);
  const rb = bytesOf(root);
  files.set(`metadata/${root.signed.version}.root.json`, rb);
  files.set('metadata/root.json', rb);

  const targetFiles = (entries: Record<string, string>) => {
    const out: Record<string, unknown> = {};
    for (const [path, content] of Object.entries(entries)) {
      const data = Buffer.from(content);
      const sha256 = sha256hex(data);
      out[path] = {
        length: data.length,
        hashes: { sha256, sha512: createHash('sha512').update(data).digest('hex') },
      };
      const slash = path.lastIndexOf('/');
      const name = consistent ? `${path.slice(0, slash + 1)}${sha256}.${path.slice(slash + 1)}` : path;
      files.set(`targets/${name}`, new Uint8Array(data));
    }
    return out;
  };
  const meta: Record<string, unknown> = {};
  const targetsVersion = o.targetsVersion ?? 1;
  const delegated = o.delegated ?? [];
  const targets = signed<Targets>(
    'targets',
    {
      version: targetsVersion,
      expires,
      targets: targetFiles(
        o.targets ?? { 'trust-root.json': '{"hello":"trust"}', 'policy/bundle.json': '{"rules":[]}' },
      ),
      ...(delegated.length > 0
        ? {
            delegations: {
              keys: Object.fromEntries(
                delegated.flatMap((d) => (d.keys ?? [d.key]).map((k) => [k.keyID, k.json])),
              ),
              roles: delegated.map((d) => ({
                name: d.name,
                keyids: (d.keys ?? [d.key]).map((k) => k.keyID),
                threshold: d.threshold ?? 1,
                terminating: d.terminating,
                paths: d.paths,
              })),
            },
          }
        : {}),
    },
    o.targetsSigners ?? o.targetsKeys ?? [KEYS.targets],
  );
  const tb = bytesOf(targets);
  files.set(consistent ? `metadata/${targetsVersion}.targets.json` : 'metadata/targets.json', tb);
  meta['targets.json'] = { version: targetsVersion, length: tb.length, hashes: { sha256: sha256hex(tb) } };
  const dv = o.delegatedVersion ?? 1;
  for (const d of delegated) {
    const md = signed<Targets>(
      'targets',
      { version: dv, expires, targets: targetFiles(d.targets) },
      d.signers ?? d.keys ?? [d.key],
    );
    // file names carry the role name URL-component encoded (docs/spec/tuf-client.md §Ports)
    const encoded = encodeURIComponent(d.name);
    files.set(consistent ? `metadata/${dv}.${encoded}.json` : `metadata/${encoded}.json`, bytesOf(md));
    meta[`${d.name}.json`] = { version: dv };
  }
  const snapshotVersion = o.snapshotVersion ?? 1;
  const snapshot = signed<Snapshot>(
    'snapshot',
    { version: snapshotVersion, expires: o.snapshotExpires ?? expires, meta },
    o.snapshotSigners ?? o.snapshotKeys ?? [KEYS.snapshot],
  );
  const sb = bytesOf(snapshot);
  files.set(consistent ? `metadata/${snapshotVersion}.snapshot.json` : 'metadata/snapshot.json', sb);
  const timestamp = signed<Timestamp>(
    'timestamp',
    {
      version: o.timestampVersion ?? 1,
      expires: o.timestampExpires ?? expires,
      meta: {
        'snapshot.json': { version: snapshotVersion, length: sb.length, hashes: { sha256: sha256hex(sb) } },
      },
    },
    o.timestampSigners ?? o.timestampKeys ?? [o.timestampKey ?? KEYS.timestamp],
  );
  files.set('metadata/timestamp.json', bytesOf(timestamp));
  return files;
}

// ---- one key in many encodings (I-TUF-3) --------------------------------------------------------

/** A key entry `{keytype, scheme, keyval: {public}}` under its canonical-JSON-ish key id, signing with `sign`. */
export function keyEntry(
  keytype: string,
  scheme: string,
  pub: string,
  signBytes: (data: Buffer) => Buffer,
): TestKey {
  const json = { keytype, scheme, keyval: { public: pub } };
  const keyID = sha256hex(Buffer.from(JSON.stringify(json)));
  return { keyID, json, signer: (data) => new Signature({ keyID, sig: signBytes(data).toString('hex') }) };
}

function pemOf(der: Buffer): string {
  return `-----BEGIN PUBLIC KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PUBLIC KEY-----\n`;
}

const EC_SPKI_ALGORITHM = {
  'P-256': '301306072a8648ce3d020106082a8648ce3d030107',
  'P-384': '301006072a8648ce3d020106052b81040022',
} as const;

/** An EC public point wrapped as SPKI DER in exactly the form given (compressed, hybrid …). */
function ecSpki(curve: 'P-256' | 'P-384', point: Buffer): Buffer {
  const alg = Buffer.from(EC_SPKI_ALGORITHM[curve], 'hex');
  const bits = Buffer.concat([Buffer.from([0x03, point.length + 1, 0]), point]);
  return Buffer.concat([Buffer.from([0x30, alg.length + bits.length]), alg, bits]);
}

export interface KeyEncodings {
  readonly label: string;
  /** Every entry holds the same public key; each verifies the signatures of that key on its own. */
  readonly entries: readonly { readonly name: string; readonly key: TestKey }[];
}

/**
 * A deterministic EC key (private scalar = `seed` repeated) as every TUF entry @tufjs/models
 * verifies: hex points uncompressed / compressed / hybrid / uppercase under keytype `ecdsa` and
 * the scheme-named keytype, PEM in uncompressed and compressed point form, and PEM under keytype
 * `rsa` (Node ignores the PSS padding option for an EC key, so that entry verifies too).
 */
export function ecKeyEncodings(curve: 'P-256' | 'P-384', seed: number): KeyEncodings {
  const ecdh = createECDH(curve === 'P-256' ? 'prime256v1' : 'secp384r1');
  const size = curve === 'P-256' ? 32 : 48;
  ecdh.setPrivateKey(Buffer.alloc(size, seed));
  const uncompressed = ecdh.getPublicKey();
  const compressed = ecdh.getPublicKey(undefined, 'compressed');
  const hybrid = ecdh.getPublicKey(undefined, 'hybrid');
  const jwk = {
    kty: 'EC',
    crv: curve,
    d: Buffer.alloc(size, seed).toString('base64url'),
    x: uncompressed.subarray(1, 1 + size).toString('base64url'),
    y: uncompressed.subarray(1 + size).toString('base64url'),
  };
  const priv = createPrivateKey({ key: jwk, format: 'jwk' });
  const hash = curve === 'P-256' ? 'sha256' : 'sha384';
  const scheme = curve === 'P-256' ? 'ecdsa-sha2-nistp256' : 'ecdsa-sha2-nistp384';
  const s = (data: Buffer) => sign(hash, data, priv);
  return {
    label: curve,
    entries: [
      { name: 'hex uncompressed', key: keyEntry('ecdsa', scheme, uncompressed.toString('hex'), s) },
      { name: 'hex compressed', key: keyEntry('ecdsa', scheme, compressed.toString('hex'), s) },
      { name: 'hex hybrid', key: keyEntry('ecdsa', scheme, hybrid.toString('hex'), s) },
      {
        name: 'HEX uppercase',
        key: keyEntry('ecdsa', scheme, uncompressed.toString('hex').toUpperCase(), s),
      },
      { name: `hex under keytype ${scheme}`, key: keyEntry(scheme, scheme, uncompressed.toString('hex'), s) },
      { name: 'PEM uncompressed', key: keyEntry('ecdsa', scheme, pemOf(ecSpki(curve, uncompressed)), s) },
      { name: 'PEM compressed', key: keyEntry(scheme, scheme, pemOf(ecSpki(curve, compressed)), s) },
      {
        name: 'PEM under keytype rsa',
        key: keyEntry('rsa', `rsassa-pss-${hash}`, pemOf(ecSpki(curve, uncompressed)), s),
      },
    ],
  };
}

/** The Ed25519 key of `tufKey(seed)` as hex, uppercase hex and PEM. */
export function ed25519KeyEncodings(seed: number): KeyEncodings {
  const priv = createPrivateKey({
    key: Buffer.concat([PKCS8, Buffer.alloc(32, seed)]),
    format: 'der',
    type: 'pkcs8',
  });
  const der = createPublicKey(priv).export({ format: 'der', type: 'spki' });
  const hex = der.subarray(12).toString('hex');
  const s = (data: Buffer) => sign(null, data, priv);
  return {
    label: 'Ed25519',
    entries: [
      { name: 'hex', key: keyEntry('ed25519', 'ed25519', hex, s) },
      { name: 'HEX uppercase', key: keyEntry('ed25519', 'ed25519', hex.toUpperCase(), s) },
      { name: 'PEM', key: keyEntry('ed25519', 'ed25519', pemOf(der), s) },
    ],
  };
}

/** One RSA key as rsaEncryption SPKI PEM and as RSASSA-PSS SPKI PEM (same n, e), PSS-SHA256 signing. */
export function rsaKeyEncodings(): KeyEncodings {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsaDer = publicKey.export({ format: 'der', type: 'spki' });
  // RSASSA-PSS SPKI: AlgorithmIdentifier { id-RSASSA-PSS } without parameters, same BIT STRING
  const bits = rsaDer.subarray(rsaDer.indexOf(Buffer.from('0500', 'hex'), 4) + 2);
  const alg = Buffer.from('300b06092a864886f70d01010a', 'hex');
  const body = Buffer.concat([alg, bits]);
  const pssDer = Buffer.concat([Buffer.from([0x30, 0x82, body.length >> 8, body.length & 0xff]), body]);
  const s = (data: Buffer) =>
    sign('sha256', data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING });
  return {
    label: 'RSA',
    entries: [
      { name: 'PEM rsaEncryption', key: keyEntry('rsa', 'rsassa-pss-sha256', pemOf(rsaDer), s) },
      { name: 'PEM RSASSA-PSS', key: keyEntry('rsa', 'rsassa-pss-sha256', pemOf(pssDer), s) },
    ],
  };
}

/** Rollback references and the reference time of a `verifyRepo` run. */
export interface VerifyRepoOptions {
  readonly referenceMs?: number;
  /** Bytes of the root trusted before the run (default: the repository's `1.root.json`). */
  readonly trustedRoot?: Uint8Array;
  /** Previously trusted timestamp / snapshot bytes, loaded as rollback references (§5.2). */
  readonly previous?: { readonly timestamp?: Uint8Array; readonly snapshot?: Uint8Array };
}

/**
 * Verify an in-memory repository (`makeRepo`) with the trusted metadata set alone, in the order
 * `@helm/tuf-client`'s update loop drives it (without its cache and limits): rollback references,
 * the root chain, the final root's expiry, timestamp, snapshot, top-level targets. Throws the
 * set's TrustError.
 */
export function verifyRepo(files: Map<string, Uint8Array>, o: VerifyRepoOptions = {}): TufTrustedMetadataSet {
  const get = (name: string) => files.get(`metadata/${name}`) as Uint8Array;
  const set = new TufTrustedMetadataSet(o.trustedRoot ?? get('1.root.json'), o.referenceMs ?? REFERENCE_MS);
  if (o.previous?.timestamp) set.loadPrevious('timestamp', o.previous.timestamp);
  if (o.previous?.snapshot) set.loadPrevious('snapshot', o.previous.snapshot);
  for (let v = set.root.signed.version + 1; files.has(`metadata/${v}.root.json`); v++)
    set.updateRoot(get(`${v}.root.json`));
  set.checkRootFresh();
  set.updateTimestamp(get('timestamp.json'));
  const consistent = set.root.signed.consistentSnapshot;
  const version = (role: string) =>
    consistent ? set.snapshot?.signed.meta[`${role}.json`]?.version : undefined;
  const snapshotName = metadataFileName(
    'snapshot',
    consistent ? set.timestamp?.signed.snapshotMeta.version : undefined,
  );
  set.updateSnapshot(get(snapshotName), snapshotName);
  const targetsName = metadataFileName('targets', version('targets'));
  set.updateTargets('targets', 'root', get(targetsName), targetsName);
  return set;
}

/**
 * The §5.6.7 search for `path` over a verified set, loading delegated roles' metadata from `files`
 * (as the loop does, without its limit), then the target's bytes checked by `verifyTarget`.
 */
export function findTarget(
  set: TufTrustedMetadataSet,
  files: Map<string, Uint8Array>,
  path: string,
): { info: TufTargetInfo; bytes: Uint8Array } | undefined {
  const consistent = set.root.signed.consistentSnapshot;
  const stack: TufDelegationStep[] = [{ role: 'targets', delegator: 'root' }];
  while (stack.length > 0) {
    const { role, delegator } = stack.pop() as TufDelegationStep;
    let md = set.trustedTargetsVia(role, delegator);
    if (!md) {
      const listed = set.snapshot?.signed.meta[`${role}.json`];
      const name = metadataFileName(role, consistent ? listed?.version : undefined);
      md = set.updateTargets(role, delegator, files.get(`metadata/${name}`) ?? new Uint8Array(), name);
    }
    const step = targetSearchStep(md, role, path);
    if ('target' in step) {
      const name = targetFileName(path, step.target.hashes, consistent);
      const bytes = files.get(`targets/${name}`) ?? new Uint8Array();
      verifyTarget(step.target, bytes, name);
      return { info: step.target, bytes };
    }
    if (step.terminating) stack.length = 0;
    stack.push(...[...step.delegations].reverse());
  }
  return undefined;
}
