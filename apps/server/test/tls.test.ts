// I-SERVE-1 over TLS and mTLS: with --tls-client-ca a client without a certificate signed by that CA
// never reaches the API (refused in the handshake); with one, the bearer token is still required.
// Certificates are made with the system's openssl for this run.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HelmServer, startHelmServer } from '../src/index.ts';
import { makeHome, makeKeys, tempRoot } from './helpers.ts';

const root = tempRoot('helm-serve-tls-');
let server: HelmServer;
let keys: Awaited<ReturnType<typeof makeKeys>>;
const f = (name: string) => join(root, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

function get(path: string, opts: { cert?: boolean; token?: string }): Promise<number> {
  const url = new URL(path, server.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname: url.hostname,
        port: url.port,
        path: url.pathname,
        ca: readFileSync(f('ca.pem')),
        servername: 'localhost',
        ...(opts.cert ? { cert: readFileSync(f('client.pem')), key: readFileSync(f('client.key')) } : {}),
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=helm test CA',
  );
  for (const [name, cn] of [
    ['server', 'localhost'],
    ['client', 'agent-1'],
  ] as const) {
    openssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.csr`),
      '-subj',
      `/CN=${cn}`,
    );
    const ext = f(`${name}.ext`);
    writeFileSync(
      ext,
      name === 'server' ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' : 'extendedKeyUsage=clientAuth\n',
    );
    openssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-out',
      f(`${name}.pem`),
      '-days',
      '1',
      '-extfile',
      ext,
    );
  }
  const dir = await makeHome(root, 'home');
  keys = await makeKeys(dir);
  server = await startHelmServer({
    dataDir: dir,
    rateLimit: { rate: 0 },
    tls: { cert: f('server.pem'), key: f('server.key'), clientCa: f('ca.pem') },
  });
}, 120_000);
afterAll(() => server?.close());

describe('I-SERVE-1 TLS and mTLS', () => {
  it('serves https; a client without a certificate is refused in the handshake', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    await expect(get('/healthz', {})).rejects.toThrow();
  });

  it('a client with a CA-signed certificate reaches the API, which still wants a bearer token', async () => {
    expect(await get('/healthz', { cert: true })).toBe(200);
    expect(await get('/v1/receipts', { cert: true })).toBe(401);
    expect(await get('/v1/receipts', { cert: true, token: keys.audit })).toBe(200);
  });
});
