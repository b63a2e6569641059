// Shared set-up of the CLI tests on a shared PostgreSQL database (db-governance, db-policy, db-keys):
// a deployment directory `node-a` (init, the echo tool registered), node directories copied from it
// before its registry is published (each its own chain id, no helm.db: docs/deployment.md), and
// `helmts db publish-trust` from `node-a` — every step a real `helmts` process.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { spawnHelmts } from './cli-process.ts';
import { ECHO_TOOL } from './helpers.ts';

/** The `error.code` of a failed command's JSON. */
export const errorCode = (json: Record<string, unknown> | undefined): unknown =>
  (json?.error as { code?: unknown } | undefined)?.code;

export interface Deployment {
  /** The publishing directory (its own chain `node-a`, on its embedded store). */
  readonly a: string;
  /** The node directories by name, in the order asked for. */
  readonly nodes: readonly string[];
  /** `helmts --data-dir <node> <args> --json` on the database (HELM_DATABASE_URL). */
  readonly onDb: (node: string, args: readonly string[]) => ReturnType<typeof spawnHelmts>;
}

export async function deployOnDatabase(
  dir: string,
  url: string,
  names: readonly string[],
): Promise<Deployment> {
  expect((await spawnHelmts(['db', 'migrate', '--database-url', url, '--json'])).code).toBe(0);
  const a = join(dir, 'node-a');
  expect((await spawnHelmts(['--data-dir', a, 'init', '--json'])).code).toBe(0);
  const tool = join(dir, 'echo.json');
  writeFileSync(tool, JSON.stringify(ECHO_TOOL));
  expect((await spawnHelmts(['--data-dir', a, 'tool', 'register', tool, '--json'])).code).toBe(0);
  const nodes = names.map((name) => {
    const to = join(dir, name);
    cpSync(a, to, { recursive: true });
    const config = JSON.parse(readFileSync(join(to, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(to, 'config.json'), JSON.stringify({ ...config, chain_id: name }));
    return to;
  });
  const pub = await spawnHelmts(['--data-dir', a, 'db', 'publish-trust', '--database-url', url, '--json']);
  expect(pub.code, pub.stdout + pub.stderr).toBe(0);
  for (const to of nodes) rmSync(join(to, 'helm.db'), { force: true });
  const onDb = (node: string, args: readonly string[]) =>
    spawnHelmts(['--data-dir', node, ...args, '--json'], { env: { HELM_DATABASE_URL: url } });
  return { a, nodes, onDb };
}
