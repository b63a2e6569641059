export { MIGRATIONS, type PostgresMigration, SCHEMA_VERSION } from './internal/migrations.js';
export { openPostgresStore, PostgresStore, type PostgresStoreOptions } from './postgres-store.js';
