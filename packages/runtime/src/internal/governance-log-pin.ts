// The governance log a node's data directory is bound to, per database schema
// (docs/spec/multi-node.md §3.1).
//
// The database names its one governance log at random at the registry's first publication, in a
// document row (`meta/governance-log`). That row is not signed, and a signature would not help:
// a staging deployment made from the same data directory has the same keys, so the database
// writer could copy staging's signed name and events into production. What the writer cannot
// change is the node's own disk: the data directory that publishes the registry, and every node
// that attaches, records the log name it found for that schema, and a node refuses a database
// whose log name differs from its record (DATABASE_TRUST_MISMATCH). Node directories copied from
// the publishing directory after publication carry the record; a directory that never saw the
// database records what it finds at its first attach (trust on first use).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RuntimeError } from '../errors.js';
import { type DataDir, writeWhole } from './datadir.js';

const PIN_FILE = 'governance-logs.json';

interface LogPins {
  readonly type: 'helm.runtime.governance_logs.v1';
  /** schema -> governance log name. */
  readonly logs: Record<string, string>;
}

function readPins(data: DataDir): LogPins {
  const path = join(data.dir, PIN_FILE);
  if (!existsSync(path)) return { type: 'helm.runtime.governance_logs.v1', logs: {} };
  let pins: Partial<LogPins> | undefined;
  try {
    pins = JSON.parse(readFileSync(path, 'utf8')) as Partial<LogPins>;
  } catch {
    pins = undefined;
  }
  const logs = pins?.logs;
  if (
    pins?.type !== 'helm.runtime.governance_logs.v1' ||
    typeof logs !== 'object' ||
    logs === null ||
    Array.isArray(logs) ||
    Object.values(logs).some((v) => typeof v !== 'string')
  )
    throw new RuntimeError(
      'DATABASE_TRUST_MISMATCH',
      `${path} is not a governance-log record this runtime wrote; nothing was done`,
      'restore the file from a backup of this node (docs/deployment.md)',
    );
  return pins as LogPins;
}

function writePin(data: DataDir, schema: string, log: string): void {
  const pins = readPins(data);
  if (pins.logs[schema] === log) return;
  const next: LogPins = { ...pins, logs: { ...pins.logs, [schema]: log } };
  writeWhole(join(data.dir, PIN_FILE), `${JSON.stringify(next, null, 2)}\n`);
}

/** The schema a store handle works in (a PostgreSQL store), or undefined. */
export function schemaOf(store: unknown): string | undefined {
  const schema = (store as { schema?: unknown } | null)?.schema;
  return typeof schema === 'string' ? schema : undefined;
}

/**
 * A node attaching: the database's log name must be the one this directory recorded for the
 * schema; with none recorded, it is recorded now.
 */
export function checkGovernanceLogPin(data: DataDir, schema: string, log: string): void {
  const pinned = readPins(data).logs[schema];
  if (pinned !== undefined && pinned !== log)
    throw new RuntimeError(
      'DATABASE_TRUST_MISMATCH',
      `the shared database (schema ${schema}) names governance log ${log}, but this data directory belongs to log ${pinned}: nothing was done`,
      "the database's governance-log row was changed outside helm (or this node is pointed at another deployment's database): restore the row, or point the node at its own database — docs/deployment.md",
    );
  if (pinned === undefined) writePin(data, schema, log);
}

/**
 * The publishing directory: a log the database already names must be the recorded one; a log
 * named by this publication (`fresh`) replaces the record for the schema.
 */
export function pinPublishedLog(data: DataDir, schema: string, log: string, fresh: boolean): void {
  if (fresh) writePin(data, schema, log);
  else checkGovernanceLogPin(data, schema, log);
}
