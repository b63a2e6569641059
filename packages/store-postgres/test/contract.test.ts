import { afterAll } from 'vitest';
import { describeStoreContract } from '../../store/test/contract.ts';
import { openPostgresStore } from '../src/index.ts';
import { createTestDatabase, emptySchema } from './harness.ts';

const db = await createTestDatabase('contract');
afterAll(() => db.drop());
const schema = 'helm';

// One migrated schema in this file's database, emptied before each test; the peer is a second
// pool with another node id (as another runtime node would have).
describeStoreContract('PostgreSQL', async () => {
  await emptySchema(db.url, schema);
  const store = await openPostgresStore({ connectionString: db.url, nodeId: 'node-a', schema });
  return {
    store,
    peer: () => openPostgresStore({ connectionString: db.url, nodeId: 'node-b', schema }),
  };
});
