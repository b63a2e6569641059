// The official MCP conformance suite (@modelcontextprotocol/conformance, pinned 0.2.0-alpha.12,
// run offline from the installed package) against the conformance fixture upstream directly and
// through the gateway's Streamable HTTP face, for both protocol revisions: the gateway adds no
// failure. Every scenario's result through the gateway must equal its result direct, except what
// conformance-baseline.json lists (each entry justified).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { DataDir, initDataDir } from '@helm/runtime';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  approveTools,
  gatewayHttpHandler,
  McpGateway,
  nodeListener,
  parseGatewayConfig,
} from '../src/index.ts';
// @ts-expect-error -- a plain ES module fixture without types
import { createConformance } from './fixtures/conformance-upstream.mjs';
import { FINGERPRINT, tempRoot } from './setup.ts';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const BIN = join(dirname(require.resolve('@modelcontextprotocol/conformance/package.json')), 'dist/index.js');
const SCENARIOS = [
  'tools-list',
  'tools-call-simple-text',
  // image, audio and embedded resources are all exercised by the mixed-content scenario.
  'tools-call-mixed-content',
  'tools-call-error',
];
/**
 * Scenarios of methods the gateway passes through (gateway.json `allow`, docs/mcp-gateway.md
 * §Methods), served by the fixture: each must pass directly and through the gateway wherever its
 * revision's set runs it. (resources-subscribe/unsubscribe and logging-set-level: not served.)
 */
const PASSED_THROUGH = [
  'resources-list',
  'resources-read-text',
  'resources-read-binary',
  'resources-templates-read',
  'prompts-list',
  'prompts-get-simple',
  'prompts-get-with-args',
  'prompts-get-embedded-resource',
  'prompts-get-with-image',
  'completion-complete',
  // The upstream's -32602 and its error data (the URI) are kept through the gateway.
  'sep-2164-resource-not-found',
];
const REVISIONS = ['2025-11-25', '2026-07-28'];
const TOOLS = [
  'test_simple_text',
  'test_image_content',
  'test_audio_content',
  'test_embedded_resource',
  'test_multiple_content_types',
  'test_error_handling',
];
const baseline = JSON.parse(
  readFileSync(new URL('./conformance-baseline.json', import.meta.url), 'utf8'),
) as {
  expected_differences: { scenario: string; revision: string; why: string }[];
  requirement_differences: { scenario: string; revision: string; why: string }[];
};

const root = tempRoot('helm-mcp-conformance-');
const servers: Server[] = [];
let gateway: McpGateway;
let data: DataDir;
let direct: string;
let through: string;
const TOKEN = 'conformance-runner-token-0123';

async function listen(handler: (r: Request) => Promise<Response>): Promise<string> {
  const server = createServer(nodeListener(handler));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

/** Pass/fail lines of one scenario run (the runner's own verdicts). */
async function scenario(
  url: string,
  name: string,
  revision: string,
): Promise<{ ok: boolean; checks: string[] }> {
  const r = await run(
    process.execPath,
    [BIN, 'server', '--url', url, '--scenario', name, '--spec-version', revision, '--timeout', '20000'],
    { timeout: 60_000 },
  ).catch((e: { stdout?: string; code?: number }) => ({ stdout: e.stdout ?? '', failed: true }));
  // ANSI colour codes of the runner's output are removed before its verdicts are read.
  const out = (r as { stdout: string }).stdout.replace(/\u001b\[[0-9;]*m/g, '');
  const checks = [...out.matchAll(/\[([a-z0-9-]+)\s*\] (SUCCESS|FAILURE|WARNING|INFO)/g)].map(
    (m) => `${m[1]} ${m[2]}`,
  );
  return { ok: !('failed' in r) && /Passed: (\d+)\/\1, 0 failed/.test(out), checks: checks.sort() };
}

beforeAll(async () => {
  const upstream = createMcpHandler(() => createConformance());
  direct = await listen((r) => upstream.fetch(r));
  const dir = join(root, 'home');
  initDataDir(dir, {
    chainId: 'conformance',
    fingerprint: FINGERPRINT,
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'conformance',
      version: 1,
      rules: [
        {
          id: 'conformance-tools',
          effect: 'allow',
          when: { principal: { eq: 'local' }, tool: { in: TOOLS.map((t) => `mcp.cf.${t}`) } },
        },
      ],
    },
    identity: [{ credential_id: 'cred-local', principal: 'local' }],
  } as never).data.close();
  data = new DataDir(dir);
  const config = parseGatewayConfig(
    {
      type: 'helm.mcp.gateway.v1',
      prefix: false,
      upstreams: {
        cf: { transport: 'http', url: direct, allow: ['resources', 'prompts', 'completion'] },
      },
    },
    root,
  );
  await approveTools(data, config, []);
  gateway = await McpGateway.open(data, config, { credential: 'cred-local' });
  const face = gatewayHttpHandler(gateway, { bearerToken: TOKEN });
  // The runner sends no credentials: this stands in for an authenticated client.
  through = await listen((r) => {
    const headers = new Headers(r.headers);
    headers.set('authorization', `Bearer ${TOKEN}`);
    return face(new Request(r, { headers }));
  });
}, 60_000);

afterAll(async () => {
  for (const s of servers) s.closeAllConnections();
  for (const s of servers) await new Promise((r) => s.close(r));
  await gateway?.close();
  data?.close();
});

/** Run `jobs` at most `n` at a time (each run mostly waits on the runner's own timers). */
async function limited<T>(n: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await (jobs[i] as () => Promise<T>)();
      }
    }),
  );
  return out;
}

/**
 * Every scenario a revision's `--requirements` set runs (and the runner's not-scored extras), with
 * its verdict from the runner's summary: `name -> passed` (true: no check failed).
 */
async function requirementSet(url: string, revision: string): Promise<Map<string, boolean>> {
  const r = await run(
    process.execPath,
    [BIN, 'server', '--url', url, '--requirements', revision, '--timeout', '20000'],
    { timeout: 240_000, maxBuffer: 1 << 26 },
  ).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  const out = (r as { stdout: string }).stdout.replace(/\u001b\[[0-9;]*m/g, '');
  const summary = out.slice(out.indexOf('=== SUMMARY ==='));
  const verdicts = new Map<string, boolean>();
  for (const m of summary.matchAll(/^([✓✗]) ([a-z0-9-]+): (\d+) passed, (\d+) failed$/gmu))
    verdicts.set(m[2] as string, m[1] === '✓');
  return verdicts;
}

describe('official MCP conformance suite: the gateway adds no failure', { timeout: 300_000 }, () => {
  // The fixture upstream serves tools, resources, prompts and completion (the latter three passed
  // through by gateway.json's allow); scenarios of methods neither serves (subscriptions, logging,
  // …) fail directly as well; what is compared is the gateway's effect.
  it('both --requirements sets: no scenario that passes directly fails through the gateway, but the justified ones', async () => {
    const differences: { scenario: string; revision: string }[] = [];
    for (const revision of REVISIONS) {
      const d = await requirementSet(direct, revision);
      const g = await requirementSet(through, revision);
      expect(d.size, `the ${revision} set ran no scenario`).toBeGreaterThan(20);
      expect([...g.keys()].sort()).toEqual([...d.keys()].sort());
      // The tool scenarios pass both ways (the fixture implements them).
      for (const name of SCENARIOS) expect([name, d.get(name), g.get(name)]).toEqual([name, true, true]);
      const passedThrough = PASSED_THROUGH.filter((name) => d.has(name));
      expect(passedThrough.length, `the ${revision} set runs no pass-through scenario`).toBeGreaterThan(0);
      for (const name of passedThrough) expect([name, d.get(name), g.get(name)]).toEqual([name, true, true]);
      for (const [scenario, passed] of d)
        if (passed && !g.get(scenario)) differences.push({ scenario, revision });
    }
    expect(differences).toEqual(
      baseline.requirement_differences.map(({ scenario, revision }) => ({ scenario, revision })),
    );
  });

  it('server scenarios of both revisions, direct and through the gateway', async () => {
    const cases = REVISIONS.flatMap((revision) => SCENARIOS.map((name) => ({ revision, name })));
    // One runner at a time: each is CPU-heavy at start-up on a shared 2-core host.
    const results = await limited(
      1,
      cases.flatMap((c) => [
        () => scenario(direct, c.name, c.revision),
        () => scenario(through, c.name, c.revision),
      ]),
    );
    const differences: { scenario: string; revision: string }[] = [];
    cases.forEach((c, i) => {
      const d = results[2 * i] as Awaited<ReturnType<typeof scenario>>;
      const g = results[2 * i + 1] as Awaited<ReturnType<typeof scenario>>;
      expect(d.checks.length, `${c.name} ${c.revision} ran no check`).toBeGreaterThan(0);
      expect(d.ok, `${c.name} ${c.revision} must pass directly: ${d.checks.join(', ')}`).toBe(true);
      if (g.ok !== d.ok || g.checks.join() !== d.checks.join())
        differences.push({ scenario: c.name, revision: c.revision });
    });
    expect(differences).toEqual(
      baseline.expected_differences.map(({ scenario, revision }) => ({ scenario, revision })),
    );
  });
});
