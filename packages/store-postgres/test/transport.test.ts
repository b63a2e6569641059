// I-FAILCLOSED-3 (Network attacker): a database on another host is reached over verified TLS only;
// the check runs before any socket is opened.
import { describe, expect, it } from 'vitest';
import { insecureTransport, isLocalHost, PostgresStore } from '../src/index.ts';

describe('transport to PostgreSQL (I-FAILCLOSED-3)', () => {
  it('loopback hosts and sockets need no TLS; another host needs sslmode=verify-full', () => {
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '', '/var/run/postgresql'])
      expect(isLocalHost(h)).toBe(true);
    expect(isLocalHost('10.0.0.5')).toBe(false);
    expect(isLocalHost('db.internal')).toBe(false);
    expect(insecureTransport('postgres://helm@127.0.0.1:5432/helm')).toBeUndefined();
    expect(insecureTransport('postgres://helm@[::1]:5432/helm')).toBeUndefined();
    expect(insecureTransport('postgres://helm@db:5432/helm?sslmode=verify-full')).toBeUndefined();
    for (const mode of ['', '?sslmode=disable', '?sslmode=require', '?sslmode=prefer', '?sslmode=no-verify'])
      expect(insecureTransport(`postgres://helm@db:5432/helm${mode}`)).toMatch(/not on this machine/);
    // A local URL host with a remote `host=` parameter is remote.
    expect(insecureTransport('postgres://helm@localhost/helm?host=10.0.0.5')).toMatch(/10\.0\.0\.5/);
    expect(insecureTransport('host=db dbname=helm')).toMatch(/not a postgres:\/\/ URL/);
  });

  it('attacker: the store refuses a clear-text remote database before connecting', () => {
    expect(
      () => new PostgresStore({ connectionString: 'postgres://helm@db.example:5432/helm', nodeId: 'n' }),
    ).toThrow(expect.objectContaining({ code: 'STORE_PERMISSION_DENIED' }));
  });
});
