// `tool.repin` (src/internal/tool-repin.ts): the only way to change a registered tool is a
// governance event signed by a policy key, applied by the runtime with an administrative receipt
// (I-TOOL-1). Real data directory, governance log, executor, sandbox and plugin workers.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalBytes, digest } from '@helm/crypto';
import { envelopeBody, verifyEvidencePack } from '@helm/evidencepack';
import { afterAll, describe, expect, it } from 'vitest';
import {
  appendGovernanceEvent,
  exportPack,
  GovernedRuntime,
  initDataDir,
  listTools,
  readGovernanceApplications,
  reexecute,
  registerTool,
  repinTool,
} from '../src/index.ts';
import { prepareRepin } from '../src/internal/tools.ts';

const root = mkdtempSync(join(tmpdir(), 'helm-runtime-repin-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const ASSETS = fileURLToPath(new URL('../../../apps/cli/assets/wasm/', import.meta.url));
let clockMs = Date.UTC(2026, 11, 7, 12);
const clock = { now: () => clockMs };

let n = 0;
function home() {
  const dir = join(root, `home-${++n}`);
  const { data, anchor } = initDataDir(dir, {
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'all',
      version: 1,
      rules: [{ id: 'local-any', effect: 'allow', when: { principal: { eq: 'local' } } }],
    },
  });
  return { dir, data, anchor };
}
type Data = ReturnType<typeof home>['data'];

const file = (name: string, content: unknown): string => {
  const path = join(root, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const descriptor = (name: string, driver: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'helm.tool.v1',
  name,
  description: `${name} tool`,
  input_schema: { type: 'object' },
  output_schema: { type: 'object' },
  effect_type: 'compute',
  risk_tier: 'LOW',
  action: 'run',
  driver: { timeout_ms: 5_000, ...driver },
  ...extra,
});
const call = (data: Data, tool: string, args: unknown) => ({
  tool,
  principal: 'local',
  args: args as never,
  context: { environment_fingerprint: data.config().environment_fingerprint, credential_id: 'cred-local' },
});
async function run(data: Data, tool: string, args: unknown) {
  clockMs += 1000;
  const rt = await GovernedRuntime.open(data, { clock });
  try {
    return await rt.execute(call(data, tool, args));
  } finally {
    await rt.close();
  }
}
/** Open and close a runtime: it applies the events appended since. */
async function ingest(data: Data) {
  clockMs += 1000;
  const rt = await GovernedRuntime.open(data, { clock });
  await rt.close();
}
const adminReceipts = (data: Data) =>
  data.store
    .receiptsSync({ chainId: data.config().chain_id })
    .map((r) => envelopeBody<{ tool: string; principal: string; status: string }>(r.envelope))
    .filter((b) => b.tool.startsWith('helm.admin.'));

describe('I-TOOL-1: tool.repin is the signed, receipted way to change a tool', () => {
  it('a repin applies with a helm.admin.tool.repin receipt by the policy key; pack verifies; re-execution reproduces it', async () => {
    const { data, anchor } = home();
    const v1 = file('r1.json', descriptor('w', { kind: 'sandbox', ref: 'x' }));
    await registerTool(data, v1, { wasm: join(ASSETS, 'echo.wat') });
    expect((await run(data, 'w', { before: true })).output).toEqual({ before: true });

    const v2 = file(
      'r2.json',
      descriptor('w', { kind: 'sandbox', ref: 'x', timeout_ms: 200 }, { description: 'spins now' }),
    );
    clockMs += 1000;
    const { staged, event } = await repinTool(data, v2, { wasm: join(ASSETS, 'spin.wat') }, clockMs);
    expect(staged.unchanged).toBe(false);
    expect(event?.action).toBe('tool.repin');
    // Appended, not applied: the registered descriptor is the old one until a runtime applies it.
    expect(listTools(data)[0]?.descriptor_digest).toBe(staged.previous_digest);
    await ingest(data);
    expect(readGovernanceApplications(data).get(event?.seq as number)).toMatchObject({ outcome: 'applied' });
    expect(listTools(data)[0]?.descriptor_digest).toBe(staged.descriptor_digest);
    const admin = adminReceipts(data);
    expect(admin).toEqual([
      expect.objectContaining({
        tool: 'helm.admin.tool.repin',
        principal: data.localKey('policy').signer.keyId,
        status: 'SUCCEEDED',
      }),
    ]);
    // The new module runs (and exhausts its gas, or its time).
    const spun = await run(data, 'w', {});
    expect(spun.status).toBe('FAILED');

    const pack = exportPack(data);
    const report = await verifyEvidencePack(pack.bytes, { trustAnchor: anchor });
    expect(report.status, JSON.stringify(report.checks.filter((c) => c.status !== 'PASS'))).toBe('PASS');
    const re = await reexecute(data);
    expect(re.divergences).toEqual([]);
    expect(re.ok).toBe(true);
    data.close();
  });

  it('refused before it is appended: unknown tool, unchanged, stale base, not a policy key, forged body', async () => {
    const { data } = home();
    const v1 = descriptor('e', { kind: 'function', ref: 'builtin.echo' });
    await registerTool(data, file('e1.json', v1));
    await expect(
      repinTool(data, file('x.json', descriptor('x', { kind: 'function', ref: 'builtin.echo' }))),
    ).rejects.toMatchObject({
      code: 'TOOL_NOT_REGISTERED',
    });
    expect((await repinTool(data, file('e1b.json', v1))).event).toBeUndefined();
    const v2 = { ...v1, description: 'v2' };
    const staged = await prepareRepin(data, file('e2.json', v2));
    const body = {
      tool: 'e',
      descriptor: staged.descriptor,
      descriptor_digest: staged.descriptor_digest,
      previous_digest: staged.previous_digest,
      previous_descriptor: staged.previous_descriptor,
    };
    const append = (b: unknown, signer = data.signer('policy', 'policy')) =>
      appendGovernanceEvent(data, { action: 'tool.repin', body: b as never, signer, at: clockMs });
    // Not a policy key: refused before anything is signed.
    expect(() => append(body, data.signer('approver-1', 'approver'))).toThrow(
      expect.objectContaining({ code: 'KEY_NOT_VALID' }),
    );
    // A body whose digest does not match its descriptor, or that names another tool.
    expect(() => append({ ...body, descriptor: { ...v2, description: 'something else' } })).toThrow(
      expect.objectContaining({ code: 'GOVERNANCE_EVENT_INVALID' }),
    );
    expect(() => append({ ...body, tool: 'other' })).toThrow(
      expect.objectContaining({ code: 'GOVERNANCE_EVENT_INVALID' }),
    );
    // A base that is not the current pin (prepared against an older descriptor).
    const older = { ...v1, description: 'never registered' };
    expect(() =>
      append({ ...body, previous_descriptor: older, previous_digest: digest(canonicalBytes(older)) }),
    ).toThrow(
      expect.objectContaining({
        code: 'GOVERNANCE_EVENT_INVALID',
        message: expect.stringMatching(/is pinned to/),
      }),
    );
    expect(data.store.governanceEventsSync()).toEqual([]);
    data.close();
  });

  it('two repins prepared against the same pin: the first applies, the second is rejected TOOL_REPIN_STALE', async () => {
    const { data } = home();
    const v1 = descriptor('e', { kind: 'function', ref: 'builtin.echo' });
    await registerTool(data, file('s1.json', v1));
    const a = await repinTool(data, file('sa.json', { ...v1, description: 'A' }));
    const b = await repinTool(data, file('sb.json', { ...v1, description: 'B' }));
    await ingest(data);
    const applications = readGovernanceApplications(data);
    expect(applications.get(a.event?.seq as number)).toMatchObject({ outcome: 'applied' });
    expect(applications.get(b.event?.seq as number)).toMatchObject({
      outcome: 'rejected',
      code: 'TOOL_REPIN_STALE',
    });
    expect(listTools(data)[0]?.descriptor_digest).toBe(a.staged.descriptor_digest);
    expect(adminReceipts(data)).toHaveLength(1);
    data.close();
  });

  it('a running runtime applies a repin appended by another writer before its next decision', async () => {
    const { data } = home();
    const v1 = descriptor('e', { kind: 'function', ref: 'builtin.echo' });
    await registerTool(data, file('l1.json', v1));
    const held = await GovernedRuntime.open(data, { clock });
    try {
      // The writer does not need the runtime: no DATA_DIR_LOCKED.
      const { staged } = await repinTool(
        data,
        file('l2.json', { ...v1, driver: { ...v1.driver, ref: 'demo.files.read' } }),
      );
      clockMs += 1000;
      const r = await held.execute(call(data, 'e', { path: '/x' }));
      expect(r.output).toEqual({ text: 'contents of /x' });
      expect(held.executor.getTool('e')?.descriptor_digest).toBe(staged.descriptor_digest);
    } finally {
      await held.close();
    }
    data.close();
  });

  it('an edited plugin puts its tool out of service (other tools work); a repin of the reviewed file restores it', async () => {
    const { data } = home();
    await registerTool(
      data,
      file('o-echo.json', descriptor('echo', { kind: 'function', ref: 'builtin.echo' })),
    );
    const plugin = file('o.mjs', 'export default () => ({ v: 1 });\n');
    const d = descriptor('p', { kind: 'plugin', ref: 'x' });
    await registerTool(data, file('o.json', d), { plugin });
    writeFileSync(plugin, 'export default () => ({ v: 2 });\n');
    const rt = await GovernedRuntime.open(data, { clock });
    try {
      expect(rt.outOfService().get('p')?.code).toBe('PLUGIN_PIN_MISMATCH');
      await expect(rt.execute(call(data, 'p', {}))).rejects.toMatchObject({ code: 'PLUGIN_PIN_MISMATCH' });
      expect((await rt.execute(call(data, 'echo', { still: 'works' }))).output).toEqual({ still: 'works' });
    } finally {
      await rt.close();
    }
    const { staged } = await repinTool(data, file('o2.json', d), { plugin });
    expect((staged.descriptor.driver as { ref: string }).ref).toBe(
      `sha256:${createHash('sha256').update(readFileSync(plugin)).digest('hex')}`,
    );
    expect((await run(data, 'p', {})).output).toEqual({ v: 2 });
    data.close();
  });
});
