// The path to PostgreSQL (threat model: the Network attacker reads and rewrites bytes between a
// node and its database). Every answer a node's safety rests on — an admission acknowledged, a
// ledger snapshot, an idempotency record, the trust registry — crosses that path, so a database
// on another host is reached only over TLS that verifies the server's certificate and name
// (`sslmode=verify-full`). Loopback hosts and Unix sockets do not cross a network.
import { StoreError } from '@helm/store';

/** The hosts a connection string names (URL host and any `host=` parameter); '' is a Unix socket default. */
function hostsOf(url: URL): string[] {
  // No host in the URL: libpq (and pg) take PGHOST, else the local socket.
  const hosts = [decodeURIComponent(url.hostname) || (process.env.PGHOST ?? '')];
  for (const h of url.searchParams.getAll('host')) hosts.push(...h.split(','));
  return hosts.map((h) =>
    h
      .trim()
      .replace(/^\[|\]$/g, '')
      .toLowerCase(),
  );
}

/** Loopback or a local socket: the bytes never leave this machine. */
export function isLocalHost(host: string): boolean {
  if (host === '' || host.startsWith('/') || host === 'localhost' || host === '::1') return true;
  return /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Why `connectionString` may not be used, or undefined: a non-local host without
 * `sslmode=verify-full`. Weaker modes are refused on purpose: `require`/`prefer` (in libpq's
 * sense) and `no-verify` encrypt without authenticating the server, which an on-path attacker
 * answers with its own certificate.
 */
export function insecureTransport(connectionString: string): string | undefined {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    // Not a URL (a libpq keyword string): nothing proves it is local or verified.
    return 'the connection string is not a postgres:// URL, so its host and TLS mode cannot be checked';
  }
  const remote = hostsOf(url).filter((h) => !isLocalHost(h));
  if (remote.length === 0) return undefined;
  const mode = url.searchParams.get('sslmode');
  if (mode === 'verify-full') return undefined;
  return `database host ${remote.join(', ')} is not on this machine and the connection does not verify TLS (sslmode=${mode ?? 'unset'})`;
}

/** Refuse a connection string that would speak to another host without verified TLS. */
export function requireSecureTransport(connectionString: string): void {
  const why = insecureTransport(connectionString);
  if (why)
    throw new StoreError(
      'STORE_PERMISSION_DENIED',
      `${why}: refused, nothing was sent. Add \`?sslmode=verify-full\` (and \`sslrootcert=<CA file>\` for a private CA) to the database URL — docs/deployment.md "TLS to PostgreSQL"`,
    );
}
