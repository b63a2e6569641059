// Red team — I-ROOT-1 against the data-directory writer: `helmts keys rotate|revoke <name>` take the
// key id (and the "is it a root key" guard) from `keys/<name>.json`, a file the writer controls,
// and have the operator's offline root keys sign an event about *that* key id.
//
//   rotate: the writer sets keys/executor.json's keyid to the root key's id (roles left
//   ["executor"], so the CLI's root guard passes). The operator's routine
//   `helmts keys rotate executor --root-key-dir <offline>` rotates the ROOT key; the successor (which
//   inherits `root` in the registry) has its seed written to keys/executor.json inside the data
//   directory. The offline root keys are now powerless, the data directory holds root.
//
//   revoke: the writer sets keys/executor.json's keyid to the guardian's. The operator's
//   `helmts keys revoke executor --root-key-dir <offline>` revokes the guardian; the (compromised)
//   executor key stays valid.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSigner, fromBase64Url } from '@helm/crypto';
import { DataDir } from '@helm/runtime';
import { describe, expect, it } from 'vitest';
import { runCli, tempRoot } from '../helpers.ts';

const root = tempRoot('helm-redteam-keyid-');
const cli = (dir: string, ...args: string[]) => runCli(['--data-dir', dir, ...args]);

interface KeyFileJson {
  keyid: string;
  seed: string;
  roles: string[];
}
const readKey = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as KeyFileJson;
/** The key id a key file's seed really is. */
const seedKeyId = (k: KeyFileJson) => createSigner(fromBase64Url(k.seed) as Uint8Array).keyId;

function redirect(dir: string, name: string, keyid: string): void {
  const path = join(dir, 'keys', `${name}.json`);
  const file = readKey(path);
  writeFileSync(path, JSON.stringify({ ...file, keyid }, null, 2));
}

async function setup(name: string) {
  const dir = join(root, name);
  const offline = join(root, `${name}-offline`);
  const init = await cli(dir, 'init', '--root-key-dir', offline, '--json');
  expect(init.code).toBe(0);
  return { dir, offline, rootKey: readKey(join(offline, 'root.json')) };
}

function registryOf(dir: string) {
  const data = new DataDir(dir);
  try {
    return data.registry();
  } finally {
    data.close();
  }
}

describe('I-ROOT-2 (redteam, I-ROOT-1): a data-dir writer chooses the key the offline root keys rotate or revoke', () => {
  it('a redirected `keys rotate executor` never rotates the root key nor writes a root key into the data directory', async () => {
    const { dir, offline, rootKey } = await setup('rotate');
    redirect(dir, 'executor', rootKey.keyid);
    await cli(dir, 'keys', 'rotate', 'executor', '--root-key-dir', offline, '--json');
    const registry = registryOf(dir);
    // The offline root key must still be root…
    expect(registry.keyValidFor(rootKey.keyid, 'root', registry.seq).ok).toBe(true);
    // …and no key whose seed sits in the data directory may hold root.
    const rootInDataDir = readdirSync(join(dir, 'keys'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => seedKeyId(readKey(join(dir, 'keys', f))))
      .filter((id) => registry.keyValidFor(id, 'root', registry.seq).ok);
    expect(rootInDataDir).toEqual([]);
    // The operator can still run root operations with the offline keys.
    const after = await cli(
      dir,
      'keys',
      'generate',
      'extra',
      '--role',
      'guardian',
      '--root-key-dir',
      offline,
      '--json',
    );
    expect(after.code).toBe(0);
  });

  it('a redirected `keys revoke executor` revokes the executor key, not another key', async () => {
    const { dir, offline } = await setup('revoke');
    const executor = seedKeyId(readKey(join(dir, 'keys', 'executor.json')));
    const guardian = seedKeyId(readKey(join(dir, 'keys', 'guardian.json')));
    redirect(dir, 'executor', guardian);
    const revoked = await cli(dir, 'keys', 'revoke', 'executor', '--root-key-dir', offline, '--json');
    const registry = registryOf(dir);
    // The guardian was never named by the operator: it must stay valid.
    expect(registry.keyValidFor(guardian, 'guardian', registry.seq).ok).toBe(true);
    // Refusing the tampered file is fine; reporting success while the executor key stays valid is not.
    const executorValid = registry.keyValidFor(executor, 'executor', registry.seq).ok;
    expect({ succeeded: revoked.code === 0, executorValid }).not.toEqual({
      succeeded: true,
      executorValid: true,
    });
  });
});
