// Fixtures of the server tests: a data directory like `helmts init` makes, with the echo tool and
// a `deploy` tool held for one approver, and API keys of every scope.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDir } from '@helm/runtime';
import { afterAll, expect } from 'vitest';
import { initCommand, policySign, toolRegister } from '../../cli/src/commands/index.ts';
import { createApiKey } from '../src/index.ts';

export function tempRoot(prefix: string): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

const tool = (name: string, ref: string, risk: string) => ({
  type: 'helm.tool.v1',
  name,
  description: name,
  input_schema: { type: 'object' },
  output_schema: { type: 'object' },
  effect_type: 'compute',
  risk_tier: risk,
  action: name,
  driver: { kind: 'function', ref, timeout_ms: 1000 },
});

/** `<root>/<name>`: init, the policy (echo allowed to local, deploy held for 1 approver), two tools. */
export async function makeHome(root: string, name: string): Promise<string> {
  const dir = join(root, name);
  initCommand(dir);
  const data = new DataDir(dir);
  const bundle = join(root, `${name}-bundle.json`);
  writeFileSync(
    bundle,
    JSON.stringify({
      type: 'helm.policy.bundle.v1',
      name: 'serve-tests',
      version: 2,
      rules: [
        { id: 'local-echo', effect: 'allow', when: { principal: { eq: 'local' }, tool: { eq: 'echo' } } },
        {
          id: 'deploy-one',
          effect: 'allow',
          when: { principal: { eq: 'local' }, tool: { eq: 'deploy' } },
          requires_approval: { quorum: 1, role: 'approver', timelock_ms: 0, ttl_ms: 3_600_000 },
        },
      ],
    }),
  );
  expect(policySign(data, bundle).exitCode).toBe(0);
  for (const [t, ref, risk] of [
    ['echo', 'builtin.echo', 'LOW'],
    ['deploy', 'builtin.echo', 'HIGH'],
  ] as const) {
    const file = join(root, `${name}-${t}.json`);
    writeFileSync(file, JSON.stringify(tool(t, ref, risk)));
    expect((await toolRegister(data, file, undefined)).exitCode).toBe(0);
  }
  data.close();
  return dir;
}

/** API keys for `local`: one per scope, plus one bound to `mallory`, created through the store. */
export async function makeKeys(
  dir: string,
): Promise<Record<'call' | 'approve' | 'audit' | 'admin' | 'mallory', string>> {
  const data = new DataDir(dir);
  try {
    const mk = async (principal: string, scopes: string[]) =>
      (await createApiKey(data, { principal, scopes })).key;
    return {
      call: await mk('local', ['call']),
      approve: await mk('local', ['approve']),
      audit: await mk('local', ['audit']),
      admin: await mk('local', ['admin']),
      mallory: await mk('mallory', ['call']),
    };
  } finally {
    data.close();
  }
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

export function jsonPost(key: string, body: unknown): RequestInit {
  return {
    method: 'POST',
    headers: { ...bearer(key), 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

export async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { error?: { code?: string } };
  return body.error?.code;
}
