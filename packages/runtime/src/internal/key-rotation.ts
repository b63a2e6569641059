// Key rotation of a data directory (docs/cli.md §Key rotation): `helmts keys rotate <name>` and
// the root key ceremony `helmts keys rotate root` are thin shells over these functions.
//
// A rotation ends the old key's validity at the new trust seq, so whatever it signed that the
// runtime verifies at every open must be signed again by its successor, or every later command
// fails: for a `policy` key, the P1 bundle in force and the receipt policies. Only what verifies
// under the rotated key *before* the rotation is re-signed, byte for byte the same body: a bundle
// a data-directory writer planted (signed by some other key) is never laundered by the new key.
//
// The root keys are rotated only in a ceremony: every root key found (in `rootKeyDir` or keys/) is
// replaced by a new one in a `key_rotate` event signed by the root quorum and the new key, the new
// seed written first under `<name>.next.json` so that a crash never loses the only copy of a root key.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { resolve } from 'node:path';
import { POLICY_BUNDLE_TYPE, type SignedEnvelope } from '@helm/contracts';
import { createSigner, fromBase64Url, openVerifiedEnvelope, type Signer } from '@helm/crypto';
import { commitTrustEvent, type TrustRegistry } from '@helm/trust';
import { RuntimeError } from '../errors.js';
import { type DataDir, writeKeyFile } from './datadir.js';
import { parseJson } from './json.js';
import { keyOfFile, liveKey, openRoles, refuseRootTarget } from './keys.js';
import { namedPath } from './names.js';
import { RECEIPT_POLICIES_TYPE, resignReceiptPolicies } from './receipt-policy.js';

/** What `rotateKey` did. */
export interface KeyRotation {
  readonly name: string;
  readonly old_keyid: string;
  readonly new_keyid: string;
  readonly roles: readonly string[];
  /** The rotation chain followed from the file's key to the live one (one entry: not followed). */
  readonly followed: readonly string[];
  /** The policy files re-signed by the successor. */
  readonly resigned: readonly PolicyArtifact[];
  readonly trust_seq: number;
  readonly trust_head: string;
}

/**
 * Root-signed `key_rotate` of the key `keys/<name>.json` stands for: its seed's key, followed
 * along the registry's rotation chain to the live successor; never a key holding root (I-ROOT-2).
 * The new seed replaces the file; its roles are the ones the registry passes on. A `policy` key's
 * signatures on the bundle and receipt policies in force are renewed by its successor.
 */
export function rotateKey(data: DataDir, name: string, rootKeyDir?: string): KeyRotation {
  data.requireInitialized();
  const registry = data.registry();
  return rotateKeyIn(data, registry, name, rootKeyDir, (env) => data.appendTrustEvent(registry, env));
}

/**
 * `rotateKey` against `registry` (the data directory's, or a shared database's): the signed event
 * is committed to `registry` in memory and handed to `append` (which stores it at `registry.seq`)
 * before the new seed replaces the key file.
 */
export function rotateKeyIn(
  data: DataDir,
  registry: TrustRegistry,
  name: string,
  rootKeyDir: string | undefined,
  append: (envelope: SignedEnvelope) => void,
): KeyRotation {
  const planned = planKeyRotation(data, registry, name, rootKeyDir);
  append(planned.event);
  return planned.commit();
}

/** A key rotation signed but not yet written anywhere: its trust event, and the local writes. */
export interface PlannedKeyRotation {
  readonly event: SignedEnvelope;
  /** Write the new seed to the key file and re-sign the old key's policy files; call only once the event is the registry's. */
  commit(): KeyRotation;
}

/**
 * rotateKeyIn's signing half: nothing is written until `commit()`, so a rotation whose event does
 * not become the registry's (another writer reached its seq first on a shared database) leaves the
 * key file and the policy files as they were.
 */
export function planKeyRotation(
  data: DataDir,
  registry: TrustRegistry,
  name: string,
  rootKeyDir: string | undefined,
): PlannedKeyRotation {
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
  const event = commitTrustEvent(
    registry,
    { kind: 'key_rotate', keyid: oldKeyid, newPublicKey: signer.publicKey },
    [...roots, signer], // root authorizes; the new key proves possession
  );
  const trust_seq = registry.seq;
  const trust_head = registry.head;
  return {
    event,
    commit: () => {
      data.writeKey(name, roles, seed);
      const resigned = resign(data, signedByOld, signer);
      return {
        name,
        old_keyid: oldKeyid,
        new_keyid: signer.keyId,
        roles,
        followed: target.chain,
        resigned,
        trust_seq,
        trust_head,
      };
    },
  };
}

export type PolicyArtifact = 'policy/bundle.signed.json' | 'policy/receipt-policies.signed.json';

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

/** The root keys a ceremony would rotate: the directory, the quorum, the root key files found. */
export interface RootCeremonyPlan {
  readonly dir: string;
  readonly threshold: number;
  readonly total: number;
  readonly found: readonly { readonly name: string; readonly keyid: string }[];
}

/** What `rotateRootKeys` would do (nothing is changed). */
export function planRootRotation(data: DataDir, rootKeyDir?: string): RootCeremonyPlan {
  data.requireInitialized();
  const registry = data.registry();
  const dir = rootKeyDir === undefined ? data.path('keys') : resolve(rootKeyDir);
  const state = registry.stateAt();
  return {
    dir,
    threshold: state.root_threshold,
    total: state.keys.filter((k) => openRoles(k).includes('root')).length,
    found: rootKeyFiles(registry, dir).map((k) => ({ name: k.name, keyid: k.signer.keyId })),
  };
}

/** The root key ceremony: every root key found in `rootKeyDir` (or keys/) replaced by a new one. */
export function rotateRootKeys(
  data: DataDir,
  rootKeyDir?: string,
): {
  readonly dir: string;
  readonly rotated: readonly { name: string; old_keyid: string; new_keyid: string }[];
  readonly trust_seq: number;
  readonly trust_head: string;
} {
  data.requireInitialized();
  const registry = data.registry();
  const dir = rootKeyDir === undefined ? data.path('keys') : resolve(rootKeyDir);
  const found = rootKeyFiles(registry, dir);
  // Fewer root keys than the threshold: nothing is signed (ROOT_KEYS_INSUFFICIENT).
  data.rootSigners(registry, rootKeyDir);
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
    const quorum = data.rootSigners(registry, rootKeyDir);
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
  return { dir, rotated, trust_seq: registry.seq, trust_head: registry.head };
}
