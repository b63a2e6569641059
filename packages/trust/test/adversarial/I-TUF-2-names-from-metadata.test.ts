// Red team — I-TUF-2 against a malicious repository (or a delegated targets key): under
// consistent snapshots the client builds the target's file name as `<dir>/<hash>.<basename>`
// from the hash *value* in the signed targets metadata, and only the target path is checked
// (`checkTargetPath`). @tufjs/models accepts any string as a hash value, so a hash of
// `../../../../escape` hands the fetcher a name with `..` segments — a name outside the
// documented alphabet reaches the fetcher before any check refuses it.
import type { Snapshot, Targets, Timestamp } from '@tufjs/models';
import { describe, expect, it } from 'vitest';
import { TrustError, TufClient } from '../../src/index.ts';
import { bytesOf, KEYS, makeRoot, mapFetcher, REFERENCE_MS, signed } from '../tuf-fixtures.ts';

const EXPIRES = '2030-01-01T00:00:00Z';

function repo(hash: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const root = makeRoot({ consistent: true });
  files.set('metadata/1.root.json', bytesOf(root));
  const targets = signed<Targets>(
    'targets',
    {
      version: 1,
      expires: EXPIRES,
      targets: { 'app/config.json': { length: 5, hashes: { sha256: hash } } },
    },
    [KEYS.targets],
  );
  files.set('metadata/1.targets.json', bytesOf(targets));
  const snapshot = signed<Snapshot>(
    'snapshot',
    { version: 1, expires: EXPIRES, meta: { 'targets.json': { version: 1 } } },
    [KEYS.snapshot],
  );
  files.set('metadata/1.snapshot.json', bytesOf(snapshot));
  const timestamp = signed<Timestamp>(
    'timestamp',
    { version: 1, expires: EXPIRES, meta: { 'snapshot.json': { version: 1 } } },
    [KEYS.timestamp],
  );
  files.set('metadata/timestamp.json', bytesOf(timestamp));
  return files;
}

describe('redteam I-TUF-2: a hash value from targets metadata never smuggles a path into the fetcher', () => {
  it('refuses a traversal hash with TUF_METADATA_MALFORMED before fetching the target', async () => {
    const files = repo('../../../../escape');
    files.set('targets/escape.config.json', new TextEncoder().encode('hello'));
    const log: string[] = [];
    const client = new TufClient({
      fetcher: mapFetcher(files, log),
      clock: () => REFERENCE_MS,
      trustedRoot: bytesOf(makeRoot({ consistent: true })),
    });
    await client.refresh();
    const error = await client.fetchTarget('app/config.json').then(
      () => undefined,
      (e: unknown) => e,
    );
    const fetched = log.filter((p) => p.startsWith('targets/'));
    // No name with an empty, `.` or `..` segment may ever reach the fetcher.
    expect(fetched.filter((p) => p.split('/').some((s) => s === '..' || s === '.' || s === ''))).toEqual([]);
    expect(error).toBeInstanceOf(TrustError);
    expect((error as TrustError).code).toBe('TUF_METADATA_MALFORMED');
  });
});
