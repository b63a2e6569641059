// The update loop's own duties next to the trusted-metadata set (docs/spec/tuf-client.md): what it
// persists across refreshes, and that it asks the fetcher for nothing the set's names refuse.

import type { TrustError } from '@helm/trust/verify';
import { describe, expect, it } from 'vitest';
import {
  KEYS,
  makeRepo,
  mapFetcher,
  REFERENCE_MS,
  type RepoOptions,
  rootBytes,
} from '../../trust/test/tuf-fixtures.ts';
import { InMemoryTufMetadataCache, TufClient } from '../src/index.ts';

describe('the cache across refreshes (§5.2, §5.3.11)', () => {
  const TS = KEYS.timestamp;
  const TS2 = KEYS.timestamp2;

  it('keeps a reference the raised threshold no longer verifies across a failed refresh', async () => {
    const cache = new InMemoryTufMetadataCache();
    const v1: RepoOptions = { timestampKeys: [TS, TS2], timestampSigners: [TS], timestampVersion: 5 };
    const refresh = (files: Map<string, Uint8Array>) =>
      new TufClient({
        fetcher: mapFetcher(files),
        clock: () => REFERENCE_MS,
        trustedRoot: rootBytes(v1),
        cache,
      })
        .refresh()
        .then(
          () => 'NO_ERROR',
          (e: TrustError) => e.code,
        );
    expect(await refresh(makeRepo(v1))).toBe('NO_ERROR');
    const v2: RepoOptions = { ...v1, rootVersion: 2, timestampThreshold: 2, timestampSigners: [TS, TS2] };
    const noTimestamp = makeRepo(v2);
    noTimestamp.delete('metadata/timestamp.json');
    expect(await refresh(noTimestamp)).toBe('TUF_METADATA_MISSING');
    // the next refresh starts at root v2, where the cached timestamp has 1 of 2 signatures: still the reference
    expect(await refresh(makeRepo({ ...v2, timestampVersion: 3 }))).toBe('TUF_ROLLBACK');
    expect(await refresh(makeRepo({ ...v2, timestampVersion: 6 }))).toBe('NO_ERROR');
  });
});

describe('names handed to the ports (I-TUF-2)', () => {
  it('a target path that could leave the targets base never reaches the fetcher', async () => {
    const log: string[] = [];
    const client = new TufClient({
      fetcher: mapFetcher(makeRepo({}), log),
      clock: () => REFERENCE_MS,
      trustedRoot: rootBytes({}),
    });
    await client.refresh();
    log.length = 0;
    const info = {
      path: '../../outside',
      length: 1,
      hashes: { sha256: '0'.repeat(64) },
      role: 'targets',
      custom: {},
    };
    await expect(client.downloadTarget(info)).rejects.toMatchObject({ code: 'TUF_METADATA_MALFORMED' });
    expect(log).toEqual([]);
  });
});
