// The data directory's runtime lock: one live governed runtime per directory, because opening one
// recovers "interrupted" admissions and frees reservations no admission holds — run beside another
// live runtime, that would receipt its in-flight call EXECUTION_INTERRUPTED.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { acquireRuntimeLock, GovernedRuntime, RUNTIME_LOCK_FILE, RuntimeError } from '@helm/runtime';
import { describe, expect, it } from 'vitest';
import { runCall } from '../src/commands/index.ts';
import { initEchoHome, tempRoot } from './helpers.ts';

const root = tempRoot('helm-cli-lock-');
let n = 0;
function freshDir(): string {
  const dir = join(root, `d${n++}`);
  mkdirSync(dir);
  return dir;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof RuntimeError ? error.code : `not a RuntimeError: ${String(error)}`;
  }
}

/** The pid of a process that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid as number;
}

function writeLock(dir: string, record: unknown): void {
  writeFileSync(join(dir, RUNTIME_LOCK_FILE), typeof record === 'string' ? record : JSON.stringify(record));
}

describe('acquireRuntimeLock', () => {
  it('admits one holder at a time; release is idempotent and frees the directory', () => {
    const dir = freshDir();
    const first = acquireRuntimeLock(dir);
    const held = JSON.parse(readFileSync(first.path, 'utf8'));
    expect(held).toMatchObject({ pid: process.pid, host: hostname() });
    expect(codeOf(() => acquireRuntimeLock(dir))).toBe('DATA_DIR_LOCKED');
    first.release();
    first.release();
    expect(existsSync(first.path)).toBe(false);
    const second = acquireRuntimeLock(dir);
    second.release();
    // no temporary files are left behind
    expect(readdirSync(dir)).toEqual([]);
  });

  it('takes over a lock whose process is gone (same host)', () => {
    const dir = freshDir();
    writeLock(dir, { pid: deadPid(), host: hostname(), acquired_at: '2026-01-01T00:00:00.000Z' });
    const lock = acquireRuntimeLock(dir);
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('never takes over a lock of a live process, of another host, or one it cannot read', () => {
    for (const record of [
      { pid: process.pid, host: hostname(), acquired_at: 'x' },
      { pid: deadPid(), host: `not-${hostname()}`, acquired_at: 'x' },
      '{"pid":',
      '',
      { pid: 'twelve', host: hostname() },
    ]) {
      const dir = freshDir();
      writeLock(dir, record);
      let message = '';
      try {
        acquireRuntimeLock(dir);
      } catch (error) {
        expect(error).toBeInstanceOf(RuntimeError);
        expect((error as RuntimeError).code).toBe('DATA_DIR_LOCKED');
        expect((error as RuntimeError).hint).toContain(RUNTIME_LOCK_FILE);
        message = (error as RuntimeError).message;
      }
      expect(message).toMatch(/in use by/);
      expect(readdirSync(dir)).toEqual([RUNTIME_LOCK_FILE]);
    }
  });

  it('release leaves a lock that is no longer its own in place', () => {
    const dir = freshDir();
    const lock = acquireRuntimeLock(dir);
    const other = { pid: process.pid, host: hostname(), acquired_at: 'someone else' };
    writeLock(dir, other);
    lock.release();
    expect(JSON.parse(readFileSync(lock.path, 'utf8'))).toEqual(other);
  });
});

describe('GovernedRuntime and the lock', () => {
  it('a second runtime (or command) on the same data directory is refused until the first closes', async () => {
    const { dir, data } = await initEchoHome(root, 'home');
    const first = await GovernedRuntime.open(data, { clock: { now: () => Date.now() } });
    await expect(GovernedRuntime.open(data, { clock: { now: () => Date.now() } })).rejects.toMatchObject({
      code: 'DATA_DIR_LOCKED',
    });
    await expect(runCall(data, { tool: 'echo', principal: 'local', args: '{"x":1}' })).rejects.toMatchObject({
      code: 'DATA_DIR_LOCKED',
    });
    await first.close();
    expect(existsSync(join(dir, RUNTIME_LOCK_FILE))).toBe(false);
    expect((await runCall(data, { tool: 'echo', principal: 'local', args: '{"x":1}' })).exitCode).toBe(0);
    expect(existsSync(join(dir, RUNTIME_LOCK_FILE))).toBe(false);
  });
});
