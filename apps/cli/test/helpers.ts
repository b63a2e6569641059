// Shared fixtures of the CLI tests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { initCommand, toolRegister } from '../src/commands/index.ts';
import { DataDir } from '../src/datadir.ts';

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

/** A fresh data directory `<root>/<name>` (helm init) with the echo tool registered. */
export async function initEchoHome(root: string, name: string): Promise<{ dir: string; data: DataDir }> {
  const dir = join(root, name);
  initCommand(dir);
  const data = new DataDir(dir);
  const descriptor = join(root, `${name}-echo.json`);
  writeFileSync(descriptor, JSON.stringify(ECHO_TOOL));
  await toolRegister(data, descriptor, undefined);
  return { dir, data };
}
