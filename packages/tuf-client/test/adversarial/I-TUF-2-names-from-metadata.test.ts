// Red team — I-TUF-2 against a malicious repository (or a delegated targets key): under
// consistent snapshots the client builds the target's file name as `<dir>/<hash>.<basename>`
// from the hash *value* in the signed targets metadata, and only the target path is checked
// (`checkTargetPath`). @tufjs/models accepts any string as a hash value, so a hash of
// `../../../../escape` hands the fetcher a name with `..` segments — a name outside the
// documented alphabet reaches the fetcher before any check refuses it.

import { metadataFileName, targetFileName } from '@helm/trust/tuf';
import { TrustError } from '@helm/trust/verify';
import type { Snapshot, Targets, Timestamp } from '@tufjs/models';
import { describe, expect, it } from 'vitest';
import {
  bytesOf,
  KEYS,
  makeRepo,
  makeRoot,
  mapFetcher,
  REFERENCE_MS,
  signed,
} from '../../../trust/test/tuf-fixtures.ts';
import { TufClient } from '../../src/index.ts';

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

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    if (error instanceof TrustError) return error.code;
    throw error;
  }
  return 'NO_ERROR';
}

const HEX64 = 'ab'.repeat(32);

describe('I-TUF-2: a consistent-snapshot target name takes only a hash of the exact hex alphabet and length', () => {
  const bad: [string, Record<string, string>][] = [
    ['traversal', { sha256: '../../../../escape' }],
    ['a slash inside hex', { sha256: `${HEX64.slice(0, 30)}/${HEX64.slice(31)}` }],
    ['uppercase hex', { sha256: HEX64.toUpperCase() }],
    ['one digit short', { sha256: HEX64.slice(1) }],
    ['one digit long', { sha256: `${HEX64}0` }],
    ['empty', { sha256: '' }],
    ['a non-hex letter', { sha256: `g${HEX64.slice(1)}` }],
    ['a sha512 of sha256 length', { sha512: HEX64 }],
    ['only an algorithm without a defined length', { md5: 'ab'.repeat(16) }],
    ['no hash at all', {}],
  ];
  it.each(bad)('%s → TUF_METADATA_MALFORMED', (_name, hashes) => {
    expect(codeOf(() => targetFileName('app/config.json', hashes, true))).toBe('TUF_METADATA_MALFORMED');
  });

  it('well-formed hashes build the name (sha256 preferred), and without consistent snapshots none is used', () => {
    expect(targetFileName('app/config.json', { sha256: HEX64 }, true)).toBe(`app/${HEX64}.config.json`);
    expect(targetFileName('config.json', { sha512: 'cd'.repeat(64), sha256: HEX64 }, true)).toBe(
      `${HEX64}.config.json`,
    );
    expect(targetFileName('a/b/c', { sha512: 'cd'.repeat(64) }, true)).toBe(`a/b/${'cd'.repeat(64)}.c`);
    expect(targetFileName('app/config.json', { sha256: '../x' }, false)).toBe('app/config.json');
    expect(codeOf(() => targetFileName('../config.json', { sha256: HEX64 }, true))).toBe(
      'TUF_METADATA_MALFORMED',
    );
  });

  it.each(bad.filter(([, h]) => Object.keys(h).length > 0))(
    'end to end, %s: refused before the fetcher sees any target name',
    async (_name, hashes) => {
      const files = repo(Object.values(hashes)[0] as string);
      if (!('sha256' in hashes)) {
        // the repo helper lists a sha256 hash: rebuild with exactly these hashes
        const targets = signed<Targets>(
          'targets',
          { version: 1, expires: EXPIRES, targets: { 'app/config.json': { length: 5, hashes } } },
          [KEYS.targets],
        );
        files.set('metadata/1.targets.json', bytesOf(targets));
      }
      const log: string[] = [];
      const client = new TufClient({
        fetcher: mapFetcher(files, log),
        clock: () => REFERENCE_MS,
        trustedRoot: bytesOf(makeRoot({ consistent: true })),
      });
      await client.refresh();
      await expect(client.fetchTarget('app/config.json')).rejects.toMatchObject({
        code: 'TUF_METADATA_MALFORMED',
      });
      expect(log.filter((p) => p.startsWith('targets/'))).toEqual([]);
    },
  );
});

describe('I-TUF-2: a version becomes part of a metadata file name only as decimal digits', () => {
  it.each([1.5, 1e21, 0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])(
    'metadataFileName(_, %s) refuses',
    (v) => {
      expect(codeOf(() => metadataFileName('snapshot', v))).toBe('TUF_METADATA_MALFORMED');
    },
  );

  it.each([1e21, 2 ** 53])(
    'a timestamp listing snapshot version %s is refused before any snapshot fetch',
    async (v) => {
      const files = makeRepo({ consistent: true, snapshotVersion: v });
      const log: string[] = [];
      const client = new TufClient({
        fetcher: mapFetcher(files, log),
        clock: () => REFERENCE_MS,
        trustedRoot: files.get('metadata/1.root.json') as Uint8Array,
      });
      await expect(client.refresh()).rejects.toMatchObject({ code: 'TUF_METADATA_MALFORMED' });
      expect(log.filter((p) => p.includes('snapshot'))).toEqual([]);
    },
  );

  // (a fractional version cannot even be signed: TUF canonical JSON refuses to encode it)
  it('a trusted root whose version does not print as digits asks for no next root', async () => {
    const files = makeRepo({ consistent: true });
    const log: string[] = [];
    const client = new TufClient({
      fetcher: mapFetcher(files, log),
      clock: () => REFERENCE_MS,
      trustedRoot: bytesOf(makeRoot({ rootVersion: 1e21 })),
    });
    await expect(client.refresh()).rejects.toMatchObject({ code: 'TUF_METADATA_MALFORMED' });
    expect(log).toEqual([]);
  });

  it('control: integer versions are fetched as N.snapshot.json', async () => {
    const files = makeRepo({ consistent: true, snapshotVersion: 3 });
    const log: string[] = [];
    const client = new TufClient({
      fetcher: mapFetcher(files, log),
      clock: () => REFERENCE_MS,
      trustedRoot: files.get('metadata/1.root.json') as Uint8Array,
    });
    await client.refresh();
    expect(log).toContain('metadata/3.snapshot.json');
  });
});
