// Runs the BUILT CLI (`apps/cli/dist/bin.cjs`, what the `helmts` and `helm` bins point at) in a
// separate Node process, as a user's shell would. The build must be current: a source file newer
// than its compiled output fails the test with "run pnpm build" instead of testing stale code.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(REPO, 'apps/cli/dist/bin.cjs');

/** Newest mtime of the .ts/.cts files under `dir` (recursively). */
function newest(dir: string, ext: RegExp): number {
  let max = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) max = Math.max(max, newest(path, ext));
    else if (ext.test(name)) max = Math.max(max, st.mtimeMs);
  }
  return max;
}

let checked = false;
/** Throws unless dist/ of the CLI and the runtime are at least as new as their sources. */
export function requireCurrentBuild(): void {
  if (checked) return;
  for (const pkg of ['apps/cli', 'packages/runtime', 'packages/driver-http']) {
    const src = newest(join(REPO, pkg, 'src'), /\.c?ts$/);
    const dist = existsSync(join(REPO, pkg, 'dist')) ? newest(join(REPO, pkg, 'dist'), /\.c?js$/) : 0;
    if (dist < src) throw new Error(`${pkg}/dist is older than its sources: run \`pnpm build\` first`);
  }
  checked = true;
}

export interface ProcessRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON, when it is one document. */
  readonly json: Record<string, unknown> | undefined;
}

export interface SpawnOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string | undefined>;
  /** The Node binary (default: this one). */
  readonly node?: string;
  /** The entry script (default: the built bin). */
  readonly entry?: string;
}

/** `helmts <args>` in a child process; resolves when it exits. */
export function spawnHelmts(args: readonly string[], options: SpawnOptions = {}): Promise<ProcessRun> {
  if (options.entry === undefined) requireCurrentBuild();
  return new Promise((resolve, reject) => {
    const merged: Record<string, string | undefined> = {
      ...process.env,
      HELM_HOME: undefined,
      HELM_DEBUG: undefined,
      // A shared database in the developer's environment would move `run`/`export` onto it and
      // make the other governing commands refuse (DATABASE_RUNTIME_UNSUPPORTED); tests that want
      // one pass it explicitly.
      HELM_DATABASE_URL: undefined,
      ...options.env,
    };
    const env = Object.fromEntries(
      Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined),
    );
    const child = spawn(options.node ?? process.execPath, [options.entry ?? BIN, ...args], {
      cwd: options.cwd ?? REPO,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += String(c);
    });
    child.stderr.on('data', (c) => {
      stderr += String(c);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(stdout) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}
