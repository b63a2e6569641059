// Shared fixtures of the CLI tests.
import { createHash } from 'node:crypto';
import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDir } from '@helm/runtime';
import { afterAll } from 'vitest';
import { initCommand, toolRegister } from '../src/commands/index.ts';

/** A temp directory for this test file, removed after its tests. */
export function tempRoot(prefix: string): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

/** Descriptor of the built-in `echo` function tool (`builtin.echo`, returns its args). */
export const ECHO_TOOL = {
  type: 'helm.tool.v1',
  name: 'echo',
  description: 'echo',
  input_schema: { type: 'object', properties: { x: { type: 'integer' } }, additionalProperties: false },
  output_schema: { type: 'object' },
  effect_type: 'compute',
  risk_tier: 'LOW',
  action: 'echo',
  driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 1000 },
};

/**
 * Rewrites a data directory's P0 budgets to a `fixed` window (init's default is hourly), optionally
 * with another per-principal cap: for tests that count one principal's spending across calls made
 * at different clocks (or across an hour boundary of the real clock), which a window would split.
 */
export function fixedBudgetWindow(dir: string, principalMax?: number): void {
  const path = join(dir, 'policy', 'p0.json');
  const p0 = JSON.parse(readFileSync(path, 'utf8'));
  const budgets = { ...p0.budgets, window: 'fixed' };
  if (principalMax !== undefined) budgets.default_principal_max = principalMax;
  writeFileSync(path, JSON.stringify({ ...p0, budgets }));
}

/** A fresh data directory `<root>/<name>` (helmts init) with the echo tool registered. */
export async function initEchoHome(root: string, name: string): Promise<{ dir: string; data: DataDir }> {
  const dir = join(root, name);
  initCommand(dir);
  const data = new DataDir(dir);
  const descriptor = join(root, `${name}-echo.json`);
  writeFileSync(descriptor, JSON.stringify(ECHO_TOOL));
  await toolRegister(data, descriptor, undefined);
  return { dir, data };
}

/** What one in-process `helm` run printed, its exit code, and (with --json) its parsed document. */
export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly json: Record<string, unknown> | undefined;
}

/** Run `helm <args>` in this process (no spawn), capturing stdout and stderr. */
export async function runCli(args: readonly string[]): Promise<CliRun> {
  const { main } = await import('../src/main.ts');
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const ewrite = process.stderr.write.bind(process.stderr);
  const capture = ((s: string | Uint8Array) => chunks.push(String(s)) > 0) as typeof process.stdout.write;
  process.stdout.write = capture;
  process.stderr.write = capture;
  let code: number;
  try {
    code = await main(['node', 'helm', ...args]);
  } finally {
    process.stdout.write = write;
    process.stderr.write = ewrite;
  }
  const out = chunks.join('');
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(out) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { code, out, json };
}

/**
 * Every entry under `dir` (recursively, symlinks not followed) with its type, mode and the
 * SHA-256 of its contents: two equal snapshots mean nothing on disk changed.
 */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (path: string, rel: string): void => {
    const st = lstatSync(path);
    if (st.isDirectory()) {
      out[`${rel}/`] = `dir ${(st.mode & 0o7777).toString(8)}`;
      for (const entry of readdirSync(path).sort()) walk(join(path, entry), `${rel}/${entry}`);
    } else if (st.isSymbolicLink()) {
      out[rel] = `link ${readlinkSync(path)}`;
    } else {
      const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
      out[rel] = `file ${(st.mode & 0o7777).toString(8)} ${st.size} ${sha}`;
    }
  };
  walk(dir, '');
  return out;
}
