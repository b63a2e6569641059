// Host drivers (src/host-drivers.ts): a tool whose driver kind only a host supplies (the MCP
// gateway's `mcp`) runs with the host's driver, is out of service — not a failed open — in a
// runtime opened without it (TOOL_DRIVER_UNAVAILABLE), and a kind nobody supplies stays refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDir, GovernedRuntime, HOST_DRIVER_KINDS, initDataDir, RuntimeError } from '../src/index.ts';

const root = mkdtempSync(join(tmpdir(), 'helm-host-drivers-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const FINGERPRINT = `sha256:${'ef'.repeat(32)}`;
const clock = { now: () => Date.UTC(2026, 11, 7, 12) };
const tool = (kind: string) => ({
  type: 'helm.tool.v1',
  name: `hosted-${kind}`,
  description: 'a tool whose body a host supplies',
  input_schema: { type: 'object' },
  output_schema: { type: 'object' },
  effect_type: 'compute',
  risk_tier: 'LOW',
  action: 'run',
  driver: { kind, ref: 'elsewhere', timeout_ms: 1_000 },
});

function home(name: string, kind: string): DataDir {
  const dir = join(root, name);
  initDataDir(dir, {
    chainId: name,
    fingerprint: FINGERPRINT,
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'hosted',
      version: 1,
      rules: [{ id: 'allow', effect: 'allow', when: { principal: { eq: 'alice' } } }],
    },
    identity: [{ credential_id: 'cred-alice', principal: 'alice' }],
  } as never).data.close();
  const data = new DataDir(dir);
  data.writeTool(tool(kind));
  return data;
}

const call = (name: string) => ({
  tool: name,
  principal: 'alice',
  args: { x: 1 },
  context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
});

describe('host drivers', () => {
  it('mcp is the one host kind', () => {
    expect(HOST_DRIVER_KINDS).toEqual(['mcp']);
  });

  it('the host supplies the driver; without it the tool is out of service and the open succeeds', async () => {
    const data = home('mcp', 'mcp');
    try {
      const seen: unknown[] = [];
      const rt = await GovernedRuntime.open(data, {
        clock,
        drivers: { mcp: () => ({ kind: 'mcp', invoke: (args) => (seen.push(args), { ok: true }) }) },
      });
      try {
        const r = await rt.execute(call('hosted-mcp') as never);
        expect(r.status).toBe('SUCCEEDED');
        expect(seen).toEqual([{ x: 1 }]);
      } finally {
        await rt.close();
      }
      const bare = await GovernedRuntime.open(data, { clock });
      try {
        const fault = bare.outOfService().get('hosted-mcp');
        expect(fault).toBeInstanceOf(RuntimeError);
        expect(fault?.code).toBe('TOOL_DRIVER_UNAVAILABLE');
        await expect(bare.execute(call('hosted-mcp') as never)).rejects.toMatchObject({
          code: 'TOOL_DRIVER_UNAVAILABLE',
        });
      } finally {
        await bare.close();
      }
      // A drivers map without the kind, or with a non-function, supplies nothing.
      const wrong = await GovernedRuntime.open(data, { clock, drivers: { mcp: 'x' as never } });
      expect(wrong.outOfService().get('hosted-mcp')?.code).toBe('TOOL_DRIVER_UNAVAILABLE');
      await wrong.close();
    } finally {
      data.close();
    }
  });

  it('a kind no host supplies is still an invalid descriptor', async () => {
    const data = home('other', 'teleport');
    try {
      await expect(
        GovernedRuntime.open(data, {
          clock,
          drivers: { teleport: () => ({ kind: 'teleport', invoke: () => ({}) }) },
        }),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    } finally {
      data.close();
    }
  });
});
