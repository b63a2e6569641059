// I-ROOT-2 — no CLI key operation trusts identity or role information read from a data-directory
// file. The attacker writes the data directory (and reads the non-root seeds in it); the root keys
// are offline (`init --root-key-dir`). Each test changes one thing the attacker controls — a key
// file's keyid, public_key, roles, status or seed, or the registry through a non-root key's own
// self-rotation — and checks that every key command acts on what the seed and the verified
// registry say, or refuses with a stable code.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSigner, fromBase64Url, toBase64Url } from '@helm/crypto';
import { DataDir } from '@helm/runtime';
import { commitTrustEvent, type TrustRegistry } from '@helm/trust';
import { describe, expect, it } from 'vitest';
import { ECHO_TOOL, runCli, tempRoot } from '../helpers.ts';

const root = tempRoot('helm-i-root-2-');
const cli = (dir: string, ...args: string[]) => runCli(['--data-dir', dir, ...args]);

type KeyJson = Record<string, unknown> & { keyid: string; public_key: string; seed: string; roles: string[] };
const keyPath = (dir: string, name: string) => join(dir, 'keys', `${name}.json`);
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as KeyJson;
const readKey = (dir: string, name: string) => readJson(keyPath(dir, name));
const editFile = (path: string, change: Partial<KeyJson>) =>
  writeFileSync(path, JSON.stringify({ ...readJson(path), ...change }, null, 2));
const editKey = (dir: string, name: string, change: Partial<KeyJson>) => editFile(keyPath(dir, name), change);
const echo = (dir: string) =>
  cli(dir, 'run', '--tool', 'echo', '--principal', 'local', '--args', '{"x":1}', '--json');
const seedId = (k: KeyJson) => createSigner(fromBase64Url(k.seed) as Uint8Array).keyId;

function registryOf(dir: string): TrustRegistry {
  const data = new DataDir(dir);
  try {
    return data.registry();
  } finally {
    data.close();
  }
}
const valid = (dir: string, keyid: string, role: string) => {
  const r = registryOf(dir);
  return r.keyValidFor(keyid, role, r.seq).ok;
};

let n = 0;
async function home(opts: { offline?: boolean } = {}) {
  const dir = join(root, `home-${++n}`);
  const offline = join(root, `offline-${n}`);
  const init = await cli(
    dir,
    'init',
    ...(opts.offline === false ? [] : ['--root-key-dir', offline]),
    '--json',
  );
  expect(init.code).toBe(0);
  const descriptor = join(root, `echo-${n}.json`);
  writeFileSync(descriptor, JSON.stringify(ECHO_TOOL));
  expect((await cli(dir, 'tool', 'register', descriptor, '--json')).code).toBe(0);
  return { dir, offline, rootArgs: opts.offline === false ? [] : ['--root-key-dir', offline] };
}

/** The attacker holding `name`'s seed self-rotates that key to a key of its own (no root needed). */
function selfRotate(dir: string, name: string, fill: number) {
  const data = new DataDir(dir);
  try {
    const own = data.localKey(name).signer;
    const attacker = createSigner(new Uint8Array(32).fill(fill));
    const registry = data.registry();
    data.appendTrustEvent(
      registry,
      commitTrustEvent(registry, { kind: 'key_rotate', keyid: own.keyId, newPublicKey: attacker.publicKey }, [
        own,
        attacker,
      ]),
    );
    return { from: own.keyId, to: attacker };
  } finally {
    data.close();
  }
}

describe('I-ROOT-2: a key file names its key only through its seed', () => {
  it('a keyid or public_key that is not the seed’s is KEY_FILE_MISMATCH for every key command, and nothing is signed', async () => {
    const { dir, rootArgs } = await home();
    const guardian = readKey(dir, 'guardian');
    const other = createSigner(new Uint8Array(32).fill(7));
    for (const change of [
      { keyid: guardian.keyid },
      { public_key: guardian.public_key },
      { public_key: toBase64Url(other.publicKey), keyid: other.keyId },
      { seed: 'not base64url!' },
      { seed: toBase64Url(new Uint8Array(31)) },
    ]) {
      const original = readKey(dir, 'executor');
      editKey(dir, 'executor', change);
      const seq = registryOf(dir).seq;
      for (const args of [
        ['keys', 'rotate', 'executor', ...rootArgs],
        ['keys', 'revoke', 'executor', ...rootArgs],
        ['run', '--tool', 'echo', '--principal', 'local', '--args', '{"x":1}'],
      ]) {
        const r = await cli(dir, ...args, '--json');
        expect(r.code, `${args.join(' ')} with ${JSON.stringify(change)}`).toBe(2);
        expect(r.json).toMatchObject({ error: { code: 'KEY_FILE_MISMATCH' } });
        expect((r.json as { error: { hint?: string } }).error.hint).toMatch(/--keyid/);
      }
      expect(registryOf(dir).seq).toBe(seq);
      // `keys list` shows the file as refused instead of believing it.
      const list = await cli(dir, 'keys', 'list', '--json');
      expect((list.json as { keys: { name: string }[] }).keys).toContainEqual(
        expect.objectContaining({ name: 'executor', keyid: null, status: 'file_mismatch', valid_now: false }),
      );
      writeFileSync(keyPath(dir, 'executor'), JSON.stringify(original));
    }
    expect(valid(dir, guardian.keyid, 'guardian')).toBe(true);
  });

  it('roles and status in a key file are never read: the registry decides', async () => {
    const { dir, rootArgs } = await home();
    const executor = readKey(dir, 'executor');
    // A file claiming root is not a root key; a file claiming a role it lacks changes nothing.
    editKey(dir, 'executor', { roles: ['root'], status: 'revoked' });
    const list = await cli(dir, 'keys', 'list', '--json');
    expect((list.json as { keys: unknown[] }).keys).toContainEqual(
      expect.objectContaining({ name: 'executor', roles: ['executor'], status: 'active', valid_now: true }),
    );
    // Still signs (the registry says executor, active), whatever the file says.
    expect((await echo(dir)).code).toBe(0);
    // Rotation passes on the registry's roles, not the file's.
    const rotated = await cli(dir, 'keys', 'rotate', 'executor', ...rootArgs, '--json');
    expect(rotated.code).toBe(0);
    expect(rotated.json).toMatchObject({ old_keyid: executor.keyid, roles: ['executor'] });
    const next = readKey(dir, 'executor');
    expect(valid(dir, seedId(next), 'executor')).toBe(true);
    expect(valid(dir, seedId(next), 'root')).toBe(false);
    expect(next.roles).toEqual(['executor']);
    // A revoked key whose file is set back to "active" does not sign.
    expect((await cli(dir, 'keys', 'revoke', 'policy', ...rootArgs, '--json')).code).toBe(0);
    editKey(dir, 'policy', { status: 'active' });
    const bundle = join(dir, 'policy', 'bundle.json');
    const sign = await cli(dir, 'policy', 'sign', bundle, '--json');
    expect(sign.json).toMatchObject({ error: { code: 'KEY_NOT_VALID' } });
  });

  it('a consistent file over a seed the registry does not give the role is KEY_NOT_VALID, never a signer', async () => {
    const { dir } = await home();
    expect((await echo(dir)).code).toBe(0); // a receipt to export later
    // The executor file now holds the guardian's seed (consistently): it may not sign receipts.
    writeFileSync(
      keyPath(dir, 'executor'),
      JSON.stringify({ ...readKey(dir, 'guardian'), name: 'executor' }),
    );
    expect((await echo(dir)).json).toMatchObject({ error: { code: 'KEY_NOT_VALID' } });
    // A fresh, unpublished seed likewise.
    const fresh = createSigner(new Uint8Array(32).fill(9));
    writeFileSync(
      keyPath(dir, 'executor'),
      JSON.stringify({
        name: 'executor',
        roles: ['executor'],
        keyid: fresh.keyId,
        public_key: toBase64Url(fresh.publicKey),
        seed: toBase64Url(new Uint8Array(32).fill(9)),
        status: 'active',
      }),
    );
    expect((await cli(dir, 'export', '--json')).json).toMatchObject({ error: { code: 'KEY_NOT_VALID' } });
  });

  it('root signers are the seeds the registry makes root, whatever a file’s roles and status say', async () => {
    const { dir, offline } = await home();
    // The operator's own root key file with its notes blanked still signs; nothing else does.
    editFile(join(offline, 'root.json'), { roles: [], status: 'revoked' });
    expect((await cli(dir, 'keys', 'revoke', 'approver-3', '--root-key-dir', offline, '--json')).code).toBe(
      0,
    );
    // A data-directory file claiming root is no root key.
    editKey(dir, 'approver-1', { roles: ['root'] });
    const r = await cli(dir, 'keys', 'revoke', 'approver-2', '--root-key-dir', join(dir, 'keys'), '--json');
    expect(r.json).toMatchObject({ error: { code: 'ROOT_KEYS_INSUFFICIENT' } });
  });
});

describe('I-ROOT-2: rotate and revoke never target a root key', () => {
  it('KEY_IS_ROOT for a root key named by file, by a file holding a root seed, or by --keyid; nothing is signed', async () => {
    const { dir } = await home({ offline: false });
    const rootKey = readKey(dir, 'root');
    // The default data directory holds root: a data-directory file consistent with the root seed.
    writeFileSync(
      keyPath(dir, 'executor'),
      JSON.stringify({ ...rootKey, name: 'executor', roles: ['executor'] }),
    );
    const seq = registryOf(dir).seq;
    // `keys rotate root` is the root ceremony: without --confirm it only explains it.
    expect((await cli(dir, 'keys', 'rotate', 'root', '--json')).json).toMatchObject({ performed: false });
    for (const args of [
      ['keys', 'revoke', 'root'],
      ['keys', 'rotate', 'executor'],
      ['keys', 'revoke', 'executor'],
      ['keys', 'revoke', '--keyid', rootKey.keyid],
    ]) {
      const r = await cli(dir, ...args, '--json');
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.json).toMatchObject({ error: { code: 'KEY_IS_ROOT' } });
    }
    expect(registryOf(dir).seq).toBe(seq);
    expect(valid(dir, rootKey.keyid, 'root')).toBe(true);
  });
});

describe('I-ROOT-2: revoke and rotate act on the live key the registry holds', () => {
  it('`keys revoke <name>` follows a self-rotation chain to the live successor', async () => {
    const { dir, rootArgs } = await home();
    const first = selfRotate(dir, 'executor', 0x61);
    // The attacker rotates its successor once more (it holds that seed too).
    const data = new DataDir(dir);
    const registry = data.registry();
    const last = createSigner(new Uint8Array(32).fill(0x62));
    data.appendTrustEvent(
      registry,
      commitTrustEvent(
        registry,
        { kind: 'key_rotate', keyid: first.to.keyId, newPublicKey: last.publicKey },
        [first.to, last],
      ),
    );
    data.close();
    const list = await cli(dir, 'keys', 'list', '--json');
    expect(list.json).toMatchObject({
      keys: expect.arrayContaining([
        expect.objectContaining({ name: 'executor', status: 'rotated', rotated_to: first.to.keyId }),
      ]),
      unnamed: expect.arrayContaining([expect.objectContaining({ keyid: last.keyId, roles: ['executor'] })]),
    });
    const r = await cli(dir, 'keys', 'revoke', 'executor', ...rootArgs, '--json');
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ keyid: last.keyId, followed: [first.from, first.to.keyId, last.keyId] });
    expect(valid(dir, last.keyId, 'executor')).toBe(false);
    // The chain now ends revoked: a second revoke or a rotate refuses clearly, nothing is signed.
    const seq = registryOf(dir).seq;
    for (const verb of ['revoke', 'rotate']) {
      const again = await cli(dir, 'keys', verb, 'executor', ...rootArgs, '--json');
      expect(again.json).toMatchObject({ error: { code: 'KEY_NOT_VALID' } });
      expect((again.json as { error: { message: string } }).error.message).toContain(last.keyId);
    }
    expect(registryOf(dir).seq).toBe(seq);
  });

  it('`keys rotate <name>` replaces the live successor and writes the new seed to the file', async () => {
    const { dir, rootArgs } = await home();
    const { from, to } = selfRotate(dir, 'executor', 0x63);
    const r = await cli(dir, 'keys', 'rotate', 'executor', ...rootArgs, '--json');
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ old_keyid: to.keyId, followed: [from, to.keyId], roles: ['executor'] });
    expect(valid(dir, to.keyId, 'executor')).toBe(false);
    const now = readKey(dir, 'executor');
    expect(seedId(now)).toBe((r.json as { new_keyid: string }).new_keyid);
    expect(valid(dir, seedId(now), 'executor')).toBe(true);
    // The operator's runtime signs with it again.
    expect((await echo(dir)).code).toBe(0);
  });

  it('`keys revoke --keyid` names any non-root registry key directly, and only a live one', async () => {
    const { dir, rootArgs } = await home();
    const { from, to } = selfRotate(dir, 'guardian', 0x64);
    const seq = registryOf(dir).seq;
    // A rotated key is not revoked again: the hint names its successor.
    const stale = await cli(dir, 'keys', 'revoke', '--keyid', from, ...rootArgs, '--json');
    expect(stale.json).toMatchObject({
      error: { code: 'KEY_NOT_VALID', hint: expect.stringContaining(to.keyId) },
    });
    for (const args of [
      ['--keyid', `ed25519:${'0'.repeat(64)}`], // not in the registry
      ['--keyid', 'guardian'], // not a key id
      ['guardian', '--keyid', to.keyId], // both
      [], // neither
    ]) {
      const r = await cli(dir, 'keys', 'revoke', ...args, ...rootArgs, '--json');
      expect(r.code, args.join(' ')).toBe(2);
      expect(['KEY_NOT_VALID', 'USAGE']).toContain((r.json as { error: { code: string } }).error.code);
    }
    expect(registryOf(dir).seq).toBe(seq);
    const r = await cli(dir, 'keys', 'revoke', '--keyid', to.keyId, ...rootArgs, '--json');
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ keyid: to.keyId, roles: ['guardian'] });
    expect(valid(dir, to.keyId, 'guardian')).toBe(false);
    // --keyid of a key with a file marks that file (a note) and revokes exactly it.
    const approver = readKey(dir, 'approver-2');
    expect((await cli(dir, 'keys', 'revoke', '--keyid', approver.keyid, ...rootArgs, '--json')).code).toBe(0);
    expect(valid(dir, approver.keyid, 'approver')).toBe(false);
    expect(readKey(dir, 'approver-2').status).toBe('revoked');
    expect(valid(dir, readKey(dir, 'approver-1').keyid, 'approver')).toBe(true);
  });
});
