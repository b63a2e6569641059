// Every failure that reaches a caller is a StoreError with a stable code, decided from the
// server's SQLSTATE (never from a message). Anything that is not a server error — refused or
// reset sockets, a pool that cannot connect in time, a connection that died mid-query, the
// client-side query timeout — means the database cannot be relied on right now: STORE_UNAVAILABLE.
import { StoreError, type StoreErrorCode } from '@helm/store';
import { DatabaseError } from 'pg';

/** SQLSTATE of a server error, or undefined for client/socket-level failures. */
export function sqlState(error: unknown): string | undefined {
  return error instanceof DatabaseError && typeof error.code === 'string' ? error.code : undefined;
}

export function constraintOf(error: unknown): string | undefined {
  return error instanceof DatabaseError ? error.constraint : undefined;
}

function codeFor(state: string, constraint: string | undefined): StoreErrorCode {
  switch (state) {
    case '55P03': // lock_not_available (lock_timeout)
    case '57014': // query_canceled (statement_timeout)
      return 'STORE_TIMEOUT';
    case '40001': // serialization_failure
    case '40P01': // deadlock_detected
      return 'STORE_CONFLICT';
    case '23505': // unique_violation
      return constraint === 'receipts_chain_lamport' ? 'STORE_CHAIN_CONFLICT' : 'STORE_DUPLICATE';
    case '23503': // foreign_key_violation: only the no-gap link of a chain is a foreign key
      return constraint === 'receipts_no_gap' ? 'STORE_CHAIN_CONFLICT' : 'STORE_INVALID_RECORD';
    case '57P01': // admin_shutdown (pg_terminate_backend, server shutdown)
    case '57P02': // crash_shutdown
    case '57P03': // cannot_connect_now (starting up, recovery)
    case '53300': // too_many_connections
    case '3D000': // invalid_catalog_name: the database does not exist
    case '28000': // invalid_authorization_specification
    case '28P01': // invalid_password
    case '25006': // read_only_sql_transaction: a standby (after failover) refuses writes
      return 'STORE_UNAVAILABLE';
    case '42501': // insufficient_privilege (a serving role without DDL rights migrating)
      return 'STORE_PERMISSION_DENIED';
  }
  switch (state.slice(0, 2)) {
    case '08': // connection exception
    case '53': // insufficient resources (disk full, out of memory)
    case '58': // system error (I/O)
      return 'STORE_UNAVAILABLE';
    case '22': // data exception (bad value)
    case '23': // integrity constraint violation (check, not null)
      return 'STORE_INVALID_RECORD';
  }
  return 'STORE_IO';
}

/** Map any failure of a database operation to a StoreError (StoreErrors pass through). */
export function toStoreError(error: unknown, what: string): StoreError {
  if (error instanceof StoreError) return error;
  const state = sqlState(error);
  if (state === undefined) {
    return new StoreError(
      'STORE_UNAVAILABLE',
      `${what}: the database is unreachable or the connection failed`,
      {
        cause: error,
      },
    );
  }
  const code = codeFor(state, constraintOf(error));
  return new StoreError(code, `${what}: database error ${state}`, { cause: error });
}

/** A transaction that failed this way can be retried as a whole (nothing it did was kept). */
export function retryable(error: unknown): boolean {
  const state = sqlState(error);
  return state === '40001' || state === '40P01';
}

/** After this failure the connection must not be reused (its state is unknown). */
export function connectionBroken(error: unknown): boolean {
  const state = sqlState(error);
  return state === undefined || state.startsWith('08') || state.startsWith('57P');
}
