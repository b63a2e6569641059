import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openSqliteStore } from '../src/index.ts';
import { describeStoreContract } from './contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'helm-store-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

describeStoreContract('SQLite', async () => {
  const path = join(dir, `c${++n}.db`);
  return { store: openSqliteStore(path), peer: async () => openSqliteStore(path) };
});
