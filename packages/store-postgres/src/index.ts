export { MIGRATIONS, type PostgresMigration, SCHEMA_VERSION } from './internal/migrations.js';
export { insecureTransport, isLocalHost } from './internal/transport.js';
export {
  type Leadership,
  openPostgresStore,
  PostgresStore,
  type PostgresStoreOptions,
} from './postgres-store.js';
