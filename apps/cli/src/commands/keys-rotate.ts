// `helmts keys rotate <name>` and `helmts keys rotate root` (docs/cli.md §Key rotation).
//
// A rotation ends the old key's validity at the new trust seq, so whatever it signed that the
// runtime verifies at every open must be signed again by its successor, or every later command
// fails: for a `policy` key, the P1 bundle in force and the receipt policies. Only what verifies
// under the rotated key *before* the rotation is re-signed, byte for byte the same body: a bundle
// a data-directory writer planted (signed by some other key) is never laundered by the new key.
//
// The root keys are rotated only in a ceremony: `keys rotate root` explains it, and performs it
// with `--confirm` — every root key found (in `--root-key-dir` or keys/) is replaced by a new one in
// a `key_rotate` event signed by the root quorum and the new key, the new seed written first under
// `<name>.next.json` so that a crash never loses the only copy of a root key.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { resolve } from 'node:path';
import { POLICY_BUNDLE_TYPE, type SignedEnvelope } from '@helm/contracts';
import { createSigner, fromBase64Url, openVerifiedEnvelope, type Signer } from '@helm/crypto';
import {
  type DataDir,
  keyOfFile,
  liveKey,
  namedPath,
  openRoles,
  parseJson,
  RECEIPT_POLICIES_TYPE,
  RuntimeError,
  refuseRootTarget,
  resignReceiptPolicies,
  writeKeyFile,
} from '@helm/runtime';
import { commitTrustEvent, type TrustRegistry } from '@helm/trust';
import { type CommandResult, ok } from '../errors.js';

export function followedLines(name: string, chain: readonly string[]): string[] {
  return chain.length > 1
    ? [
        `keys/${name}.json holds ${chain[0]}, which the registry rotated to ${chain.slice(1).join(' → ')} (not through this file): acting on ${chain[chain.length - 1]}.`,
      ]
    : [];
}

/**
 * Root-signed `key_rotate` of the key `keys/<name>.json` stands for: its seed's key, followed
 * along the registry's rotation chain to the live successor; never a key holding root (I-ROOT-2).
 * The new seed replaces the file; its roles are the ones the registry passes on. A `policy` key's
 * signatures on the bundle and receipt policies in force are renewed by its successor.
 */
export function keysRotate(data: DataDir, name: string, rootKeyDir?: string): CommandResult {
  data.requireInitialized();
  const registry = data.registry();
  const own = data.localKey(name);
  const target = liveKey(registry, own.signer.keyId, 'follow');
  refuseRootTarget(target, `helmts keys rotate ${name}`);
  const roots = data.rootSigners(registry, rootKeyDir);
  const oldKeyid = target.record.keyid;
  const roles = openRoles(target.record);
  // What the old key signs that the runtime checks at every open, verified while it is valid.
  const signedByOld = roles.includes('policy') ? policyArtifactsSignedBy(data, registry, oldKeyid) : [];
  const seed = new Uint8Array(randomBytes(32));
  const signer = createSigner(seed);
  const env = commitTrustEvent(
    registry,
    { kind: 'key_rotate', keyid: oldKeyid, newPublicKey: signer.publicKey },
    [...roots, signer], // root authorizes; the new key proves possession
  );
  data.appendTrustEvent(registry, env);
  data.writeKey(name, roles, seed);
  const resigned = resign(data, signedByOld, signer);
  return ok(
    {
      name,
      old_keyid: oldKeyid,
      new_keyid: signer.keyId,
      roles,
      followed: target.chain,
      resigned,
      trust_seq: registry.seq,
      trust_head: registry.head,
    },
    [
      ...followedLines(name, target.chain),
      `Rotated ${name} (${roles.join(',') || 'no roles'}): ${oldKeyid} → ${signer.keyId} at trust seq ${registry.seq}.`,
      ...resigned.map(
        (f) =>
          `Re-signed ${f} with the new key (same content; the old key's signature is no longer accepted).`,
      ),
      'Receipts signed earlier still verify: each names the trust seq it was signed under, before the rotation.',
      `Verifiers refuse packs that hide this rotation behind an older registry copy when they pin freshness: --trust-head ${registry.seq}:${registry.head}`,
    ],
  );
}

type PolicyArtifact = 'policy/bundle.signed.json' | 'policy/receipt-policies.signed.json';

/** The policy files in force whose signature verifies under `keyid` now (before it is rotated). */
function policyArtifactsSignedBy(data: DataDir, registry: TrustRegistry, keyid: string): PolicyArtifact[] {
  const lookup = registry.lookupFor('policy', registry.seq);
  const only = (id: string) => (id === keyid ? lookup(id) : undefined);
  const out: PolicyArtifact[] = [];
  const candidates: [PolicyArtifact, string][] = [
    ['policy/bundle.signed.json', POLICY_BUNDLE_TYPE],
    ['policy/receipt-policies.signed.json', RECEIPT_POLICIES_TYPE],
  ];
  for (const [file, type] of candidates) {
    const path = data.path(file);
    if (!existsSync(path)) continue;
    try {
      openVerifiedEnvelope(readEnvelope(path, file), type, only);
      out.push(file);
    } catch {
      // Not (only) the rotated key's signature: left as it is; the runtime judges it at open.
    }
  }
  return out;
}

function readEnvelope(path: string, where: string): SignedEnvelope {
  return parseJson(new Uint8Array(readFileSync(path)), where) as SignedEnvelope;
}

function resign(data: DataDir, files: readonly PolicyArtifact[], signer: Signer): PolicyArtifact[] {
  for (const file of files) {
    if (file === 'policy/bundle.signed.json') {
      const envelope = readEnvelope(data.path(file), file);
      const body = parseJson(fromBase64Url(envelope.payload) ?? new Uint8Array(), `${file} payload`);
      data.writePolicy(data.p0(), body as { type: string }, signer);
    } else resignReceiptPolicies(data, signer);
  }
  return [...files];
}

export interface RotateRootOpts {
  rootKeyDir?: string;
  confirm?: boolean;
}

interface RootKeyFile {
  readonly name: string;
  readonly signer: Signer;
}

/** The files of `dir` whose seeds are keys holding root in the registry at its head, by name. */
function rootKeyFiles(registry: TrustRegistry, dir: string): RootKeyFile[] {
  if (!existsSync(dir)) return [];
  const out: RootKeyFile[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.json')) continue;
    const name = f.slice(0, -'.json'.length);
    try {
      const path = namedPath(dir, 'key', name, '.json');
      const { signer } = keyOfFile(parseJson(new Uint8Array(readFileSync(path)), f), f);
      if (registry.keyValidFor(signer.keyId, 'root', registry.seq).ok) out.push({ name, signer });
    } catch (error) {
      if (!(error instanceof RuntimeError)) throw error; // a file that is no key file: not a root key
    }
  }
  // One file per key; a copy under another name (say a seed pasted into executor.json) yields to
  // the file named like a root key.
  const rootName = (k: RootKeyFile): number => (/^root(-[0-9]+)?$/.test(k.name) ? 0 : 1);
  out.sort((a, b) => rootName(a) - rootName(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out.filter((k, i) => out.findIndex((o) => o.signer.keyId === k.signer.keyId) === i);
}

const CEREMONY = (dir: string, threshold: number, found: number, total: number): string[] => [
  'Root key rotation ceremony (docs/cli.md §Root keys):',
  `  1. Bring at least ${threshold} of the ${total} root key(s) online in one directory (found ${found} in ${dir}).`,
  '  2. `helmts keys rotate root --root-key-dir <dir> --confirm` replaces every root key found there: for each, a',
  `     key_rotate event signed by ${threshold} current root key(s) and by the new key; the new seed is written`,
  '     to <dir>/<name>.next.json first, then renamed over <name>.json (after a crash, a .next.json file',
  '     holding a valid root key is picked up as is: rename it).',
  '  3. The trust anchor (genesis digest) does not change: verifiers keep their --trust-anchor. Receipts and',
  '     packs signed before stay valid. Record the new head (`helmts trust head`) out of band and have',
  '     verifiers pin it with --trust-head: an old root seed can still sign a fork of the registry as it',
  '     was before this rotation, which only a head pin refuses.',
  '  4. Move the new root key files offline again, and destroy every copy of the old seeds.',
  'Root keys not in that directory keep holding root; rotate them in a later ceremony with their custodians.',
];

/** `helmts keys rotate root`: explain the ceremony; with `confirm`, perform it. */
export function keysRotateRoot(data: DataDir, opts: RotateRootOpts = {}): CommandResult {
  data.requireInitialized();
  const registry = data.registry();
  const dir = opts.rootKeyDir === undefined ? data.path('keys') : resolve(opts.rootKeyDir);
  const threshold = registry.stateAt().root_threshold;
  const total = registry.stateAt().keys.filter((k) => openRoles(k).includes('root')).length;
  const found = rootKeyFiles(registry, dir);
  if (!opts.confirm) {
    return ok(
      {
        performed: false,
        root_key_dir: dir,
        root_threshold: threshold,
        root_keys: total,
        found: found.map((k) => ({ name: k.name, keyid: k.signer.keyId })),
        next: `helmts keys rotate root${opts.rootKeyDir === undefined ? '' : ` --root-key-dir ${dir}`} --confirm`,
      },
      [
        ...CEREMONY(dir, threshold, found.length, total),
        `Nothing was changed. To perform it: helmts keys rotate root${opts.rootKeyDir === undefined ? '' : ` --root-key-dir ${dir}`} --confirm`,
      ],
    );
  }
  // Fewer root keys than the threshold: nothing is signed (ROOT_KEYS_INSUFFICIENT).
  data.rootSigners(registry, opts.rootKeyDir);
  const names = new Set(found.map((k) => k.name));
  for (const key of found) {
    if (names.has(`${key.name}.next`))
      throw new RuntimeError(
        'USAGE',
        `${dir} holds both ${key.name}.json and ${key.name}.next.json as valid root keys (an earlier ceremony stopped midway?)`,
        `keep one per name: move ${key.name}.next.json aside or rename it, then run the ceremony again`,
      );
  }
  const rotated: { name: string; old_keyid: string; new_keyid: string }[] = [];
  for (const key of found) {
    const seed = new Uint8Array(randomBytes(32));
    const next = createSigner(seed);
    writeKeyFile(dir, `${key.name}.next`, ['root'], seed);
    // The quorum as it is now (rotated keys' successors included, the rotated ones not).
    const quorum = data.rootSigners(registry, opts.rootKeyDir);
    data.appendTrustEvent(
      registry,
      commitTrustEvent(
        registry,
        { kind: 'key_rotate', keyid: key.signer.keyId, newPublicKey: next.publicKey },
        [...quorum, next],
      ),
    );
    renameSync(namedPath(dir, 'key', `${key.name}.next`, '.json'), namedPath(dir, 'key', key.name, '.json'));
    rotated.push({ name: key.name, old_keyid: key.signer.keyId, new_keyid: next.keyId });
  }
  return ok(
    { performed: true, root_key_dir: dir, rotated, trust_seq: registry.seq, trust_head: registry.head },
    [
      ...rotated.map((r) => `Rotated root key ${r.name}: ${r.old_keyid} → ${r.new_keyid}.`),
      `Trust registry at seq ${registry.seq}, head ${registry.head}; the trust anchor is unchanged.`,
      `Record and pin the new head: --trust-head ${registry.seq}:${registry.head}`,
      `Move the new key files in ${dir} offline again and destroy every copy of the old root seeds.`,
    ],
  );
}

/** `helmts keys rotate <name>`: the root ceremony for `root`, a root-signed rotation otherwise. */
export function keysRotateCommand(data: DataDir, name: string, opts: RotateRootOpts = {}): CommandResult {
  if (name === 'root') return keysRotateRoot(data, opts);
  if (opts.confirm)
    throw new RuntimeError('USAGE', '--confirm belongs to `keys rotate root`', `helmts keys rotate ${name}`);
  return keysRotate(data, name, opts.rootKeyDir);
}
