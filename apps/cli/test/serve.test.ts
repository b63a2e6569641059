// `helmts serve`, `serve keys`, `witness` and `verify --witness` as commands (the HTTP behaviour
// itself is tested in apps/server/test): usage errors exit 2 with a hint, keys are shown once and
// listed without their secret, a revoked key is refused, the server starts and stops on SIGTERM,
// and a witness check without its checkpoint is a usage error.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataDir } from '@helm/runtime';
import { describe, expect, it } from 'vitest';
import {
  serveCommand,
  serveKeysCreate,
  serveKeysList,
  serveKeysRevoke,
  witnessCheck,
  witnessCommand,
  witnessKeygen,
} from '../src/commands/serve.ts';
import { initEchoHome, runCli, tempRoot } from './helpers.ts';

const root = tempRoot('helm-cli-serve-');

/** Run a long-running command until its first output line, then send it SIGTERM (in process). */
async function untilSigterm<T>(run: () => Promise<T>): Promise<{ first: string; result: T }> {
  const write = process.stdout.write.bind(process.stdout);
  let first = '';
  let seen: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    seen = resolve;
  });
  process.stdout.write = ((s: string | Uint8Array) => {
    first += String(s);
    seen();
    return true;
  }) as typeof process.stdout.write;
  try {
    const pending = run();
    await started;
    process.emit('SIGTERM', 'SIGTERM');
    return { first, result: await pending };
  } finally {
    process.stdout.write = write;
  }
}

describe('helmts serve keys', () => {
  it('create shows the key once; list never shows it; revoke marks it; bad scopes are usage errors', async () => {
    const { data } = await initEchoHome(root, 'keys');
    const created = await serveKeysCreate(data, {
      principal: 'local',
      scope: ['call', 'audit'],
      label: 'ci',
    });
    const key = created.json.key as string;
    expect(key).toMatch(/^helm_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(created.json.record)).not.toContain('sha256');
    const listed = await serveKeysList(data);
    expect(JSON.stringify(listed.json)).not.toContain(key.slice(18));
    expect(listed.human.join('\n')).toContain('active');
    const id = key.split('_')[1] as string;
    expect((await serveKeysRevoke(data, id)).exitCode).toBe(0);
    expect((await serveKeysList(data)).human.join('\n')).toContain('revoked');
    await expect(serveKeysRevoke(data, '000000000000')).rejects.toThrow(/no API key/);
    await expect(serveKeysCreate(data, { principal: 'local', scope: ['root'] })).rejects.toThrow(
      /unknown scope/,
    );
    await expect(serveKeysCreate(data, { principal: 'local' })).rejects.toThrow(/at least one scope/);
    await expect(serveKeysCreate(data, { principal: 'bad principal', scope: ['call'] })).rejects.toThrow(
      /principal/,
    );
    data.close();
    const viaCli = await runCli(['--data-dir', join(root, 'keys'), 'serve', 'keys', 'list', '--json']);
    expect(viaCli.code).toBe(0);
    expect(viaCli.json?.keys).toHaveLength(1);
  });
});

describe('helmts serve', () => {
  it('starts on loopback, prints where, stops on SIGTERM with exit 0', async () => {
    const { data } = await initEchoHome(root, 'serve');
    const { first, result } = await untilSigterm(() => serveCommand(data, { port: '0', json: true }));
    const line = JSON.parse(first.split('\n')[0] as string) as { listening: string; log_vkey: string };
    expect(line.listening).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(line.log_vkey).toMatch(/^helm-ts\.local\/[^+]+\+[0-9a-f]{8}\+/);
    expect(result).toMatchObject({ exitCode: 0, json: { stopped: 'SIGTERM' } });
    data.close();
  });

  it('refuses half-given OIDC and TLS options and a bad port or rate', async () => {
    const data = new DataDir(join(root, 'serve'));
    for (const opts of [
      { jwks: 'x.json' },
      { tlsCert: 'c.pem' },
      { tlsClientCa: 'ca.pem' },
      { port: '99999' },
      { rate: '-1' },
    ]) {
      await expect(serveCommand(data, opts), JSON.stringify(opts)).rejects.toThrow();
    }
    await expect(
      serveCommand(data, { port: '0', jwks: join(root, 'missing.json'), issuer: 'i', audience: 'a' }),
    ).rejects.toThrow(/JWKS/);
    data.close();
  });
});

describe('helmts witness', () => {
  it('keygen writes a 0600 key file and refuses to overwrite; the witness starts and stops', async () => {
    const out = join(root, 'w.key');
    const gen = await witnessKeygen({ name: 'witness.example/w1', out });
    expect(gen.json.vkey).toMatch(/^witness\.example\/w1\+[0-9a-f]{8}\+B/);
    expect(existsSync(out)).toBe(true);
    await expect(witnessKeygen({ name: 'witness.example/w1', out })).rejects.toThrow(/exists/);
    await expect(witnessKeygen({ name: 'bad name', out: join(root, 'w2.key') })).rejects.toThrow();
    await expect(witnessCommand({ key: out, state: join(root, 's.json') })).rejects.toThrow(/--log/);
    const bad = join(root, 'bad.key');
    writeFileSync(bad, '{"name":"x"}');
    await expect(witnessCommand({ key: bad, log: ['x'], state: join(root, 's.json') })).rejects.toThrow(
      /witness key file/,
    );
    await expect(witnessCommand({ key: join(root, 'none.key'), log: ['x'], state: 's' })).rejects.toThrow(
      /no such file/,
    );
    await expect(
      witnessCommand({ key: out, log: ['not-a-vkey'], state: join(root, 's.json'), port: '0' }),
    ).rejects.toThrow();
    const vkey = JSON.parse(readFileSync(out, 'utf8')) as { name: string };
    expect(vkey.name).toBe('witness.example/w1');
    const { first, result } = await untilSigterm(() =>
      witnessCommand({
        key: out,
        log: [gen.json.vkey as string],
        state: join(root, 's.json'),
        port: '0',
        json: true,
      }),
    );
    expect(JSON.parse(first.split('\n')[0] as string)).toMatchObject({ vkey: gen.json.vkey });
    expect(result).toMatchObject({ exitCode: 0 });
  });

  it('verify --witness without --checkpoint, or a bad quorum, is a usage error; none of them is no check', async () => {
    expect(await witnessCheck('p.tar', {})).toBeUndefined();
    await expect(witnessCheck('p.tar', { witness: ['k'] })).rejects.toThrow(/--checkpoint/);
    await expect(witnessCheck('p.tar', { checkpoint: 'c', witness: ['k'], quorum: '0' })).rejects.toThrow(
      /--quorum/,
    );
    await expect(
      witnessCheck(join(root, 'none.tar'), { checkpoint: join(root, 'none.note'), witness: ['k'] }),
    ).rejects.toThrow();
  });
});
