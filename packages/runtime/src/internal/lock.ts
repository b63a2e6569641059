// One governed runtime per data directory. Opening a runtime recovers interrupted admissions and
// releases budget reservations no open admission holds (docs/cli.md §Data directory): run
// next to another live runtime on the same directory, that start-up would receipt the other
// process's in-flight call EXECUTION_INTERRUPTED and free its reservation. So the runtime holds
// `<dir>/runtime.lock` while open, and a second open fails with DATA_DIR_LOCKED.
//
// The lock file is written completely before it appears (written to a unique temporary name, then
// hard-linked into place, which fails if the lock exists), so a reader never sees a half-written
// one. A lock whose process is gone (same host, no such pid) is stale and taken over; a lock from
// another host, or one that cannot be read, is never taken over automatically.
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RuntimeError } from '../errors.js';
import { parseJson } from './json.js';

export const RUNTIME_LOCK_FILE = 'runtime.lock';

interface LockRecord {
  readonly pid: number;
  readonly host: string;
  readonly acquired_at: string;
}

export interface RuntimeLock {
  readonly path: string;
  /** Remove the lock (only if it is still ours). Idempotent. */
  release(): void;
}

function readLock(path: string): LockRecord | undefined {
  try {
    // Strict: a record with a duplicate key (e.g. two pids) is unreadable, never taken over.
    const parsed = parseJson(new Uint8Array(readFileSync(path)), path) as Partial<LockRecord>;
    return Number.isSafeInteger(parsed.pid) && typeof parsed.host === 'string'
      ? (parsed as LockRecord)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` names a live process on this host (EPERM: it exists, owned by someone else). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function locked(path: string, holder: LockRecord | undefined): RuntimeError {
  const who = holder
    ? `process ${holder.pid} on ${holder.host} (since ${holder.acquired_at})`
    : 'another process (the lock file is unreadable)';
  return new RuntimeError(
    'DATA_DIR_LOCKED',
    `the data directory is in use by ${who}`,
    `wait for it to finish; if that process is gone, remove ${path}`,
  );
}

/**
 * Remove the stale lock `holder`. It is first renamed aside (atomic), so that if another process
 * replaced it with a fresh lock meanwhile, that lock is put back instead of being deleted.
 */
function removeStale(path: string, holder: LockRecord): void {
  const aside = `${path}.stale.${process.pid}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // already gone
    throw error;
  }
  const moved = readLock(aside);
  if (moved?.pid !== holder.pid || moved.acquired_at !== holder.acquired_at) {
    try {
      linkSync(aside, path);
    } catch {
      // a third process holds the lock now; either way it is not ours
    }
    unlinkSync(aside);
    throw locked(path, moved);
  }
  unlinkSync(aside);
}

/** Take the runtime lock of data directory `dir`, or throw RuntimeError DATA_DIR_LOCKED. */
export function acquireRuntimeLock(dir: string): RuntimeLock {
  const path = join(dir, RUNTIME_LOCK_FILE);
  const host = hostname();
  const record: LockRecord = { pid: process.pid, host, acquired_at: new Date().toISOString() };
  const text = `${JSON.stringify(record)}\n`;
  const temporary = join(dir, `${RUNTIME_LOCK_FILE}.${process.pid}.${Date.now()}.tmp`);
  writeFileSync(temporary, text, { mode: 0o644 });
  try {
    // Two attempts: the second after removing a stale lock.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(temporary, path);
        let released = false;
        return {
          path,
          release() {
            if (released) return;
            released = true;
            const current = readLock(path);
            if (current?.pid === record.pid && current.acquired_at === record.acquired_at) unlinkSync(path);
          },
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = readLock(path);
      const stale = holder !== undefined && holder.host === host && !processAlive(holder.pid);
      if (!stale || attempt > 0) throw locked(path, holder);
      removeStale(path, holder);
    }
    /* c8 ignore next */
    throw locked(path, readLock(path));
  } finally {
    unlinkSync(temporary);
  }
}
