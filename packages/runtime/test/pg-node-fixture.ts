// Shared set-up of the PostgreSQL node tests (the redteam-pg files): a data directory whose trust
// registry is published to one schema of a test database, and node directories copied from it,
// each its own chain on that schema (docs/deployment.md: what a node keeps locally).
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openPostgresStore } from '@helm/store-postgres';
import { DataDir, type GovernedRuntime, initDataDir, publishTrustRegistry } from '../src/index.ts';

type InitOptions = NonNullable<Parameters<typeof initDataDir>[1]>;

export interface PublishOptions {
  /** The `pay` tool's driver (default: the builtin echo function). */
  readonly driver?: { kind: 'function' | 'mcp'; ref: string; timeout_ms: number };
  /** A P0 policy in place of the default one. */
  readonly p0?: InitOptions['p0'];
}

/**
 * A template data directory under `root` (alice may run the one-effect tool `pay`), its trust
 * registry published to `schema` of the database at `url`. Closed: copy it with nodeDir.
 */
export async function publishedDataDir(
  url: string,
  root: string,
  fingerprint: string,
  schema: string,
  options: PublishOptions = {},
): Promise<DataDir> {
  const { data: t } = initDataDir(join(root, `t-${schema}`), {
    chainId: `t-${schema}`,
    fingerprint,
    ...(options.p0 ? { p0: options.p0 } : {}),
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'rules',
      version: 1,
      rules: [{ id: 'all', effect: 'allow', when: { principal: { eq: 'alice' } } }],
    },
    identity: [{ credential_id: 'cred-alice', principal: 'alice' }],
  });
  t.writeTool({
    type: 'helm.tool.v1',
    name: 'pay',
    description: 'an effect that must happen once',
    input_schema: { type: 'object' },
    output_schema: { type: 'object' },
    effect_type: 'compute',
    risk_tier: 'LOW',
    action: 'run',
    driver: options.driver ?? { kind: 'function', ref: 'builtin.echo', timeout_ms: 5_000 },
  });
  const s = await openPostgresStore({ connectionString: url, nodeId: 'setup', schema, groupCommit: false });
  try {
    await publishTrustRegistry(t, s);
  } finally {
    await s.close();
  }
  t.close();
  return t;
}

/** A node directory `root/name` copied from the template, without its local store, on `chain`. */
export function nodeDir(from: DataDir, root: string, name: string, chain = name): DataDir {
  const dir = join(root, name);
  cpSync(from.dir, dir, { recursive: true });
  rmSync(join(dir, 'helm.db'), { force: true });
  const d = new DataDir(dir);
  d.writeConfig({ ...d.config(), chain_id: chain });
  return d;
}

/** alice's call `i` of the template's `pay` tool, presenting `credential`. */
export const payCall = (fingerprint: string, i: number, credential: string) => ({
  tool: 'pay',
  principal: 'alice',
  args: { i } as never,
  context: { environment_fingerprint: fingerprint, credential_id: credential },
});

/**
 * The outcome of one `pay` call as a comparable string: `SUCCEEDED`, `<status>:<reason_code>` for
 * a decided call, `REFUSED:<code>` for a call the runtime refused by throwing.
 */
export async function payOutcome(
  rt: GovernedRuntime,
  fingerprint: string,
  i: number,
  credential: string,
): Promise<string> {
  try {
    const r = await rt.execute(payCall(fingerprint, i, credential));
    return r.status === 'SUCCEEDED' ? 'SUCCEEDED' : `${r.status}:${r.reason_code ?? ''}`;
  } catch (error) {
    return `REFUSED:${String((error as { code?: unknown }).code)}`;
  }
}
