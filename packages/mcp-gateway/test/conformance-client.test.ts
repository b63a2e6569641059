// The client scenarios of the official MCP conformance suite (@modelcontextprotocol/conformance,
// pinned 0.2.0-alpha.12, offline from the installed package) against the gateway's upstream client
// (`Upstream`, as built: test/fixtures/conformance-client.mjs connects, lists, calls and closes as
// the gateway does). Every check must pass except those conformance-baseline.json lists under
// `expected_client_failures`, each with why; an expected failure that passes is reported too, so
// the baseline cannot go stale.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const BIN = join(dirname(require.resolve('@modelcontextprotocol/conformance/package.json')), 'dist/index.js');
const CLIENT = fileURLToPath(new URL('./fixtures/conformance-client.mjs', import.meta.url));
// The scenarios about what the gateway's upstream client does (connect, list, call over
// Streamable HTTP); the auth/* family needs an OAuth client, which the gateway is not (each
// upstream has static credentials in gateway.json).
const RUNS: [string, string][] = [
  ['initialize', '2025-11-25'],
  ['tools_call', '2025-11-25'],
  ['tools_call', '2026-07-28'],
  ['sse-retry', '2025-11-25'],
  ['request-metadata', '2026-07-28'],
  ['http-standard-headers', '2026-07-28'],
  ['http-invalid-tool-headers', '2026-07-28'],
  ['http-custom-headers', '2026-07-28'],
  ['json-schema-ref-no-deref', '2026-07-28'],
  ['json-schema-2020-12-preservation', '2025-11-25'],
  ['json-schema-2020-12-preservation', '2026-07-28'],
  ['sep-2322-client-request-state', '2026-07-28'],
];
const baseline = JSON.parse(
  readFileSync(new URL('./conformance-baseline.json', import.meta.url), 'utf8'),
) as { expected_client_failures: { scenario: string; revision: string; checks: string[]; why: string }[] };

/** The runner's failed checks of one scenario run (ids), or a line saying it did not run. */
async function failures(scenario: string, revision: string): Promise<string[]> {
  const r = await run(
    process.execPath,
    [
      BIN,
      'client',
      '--command',
      `${JSON.stringify(process.execPath)} ${JSON.stringify(CLIENT)}`,
      '--scenario',
      scenario,
      '--spec-version',
      revision,
      '--timeout',
      '30000',
      '-o',
      join(dirname(CLIENT), '..', '..', 'node_modules', '.conformance-results'),
    ],
    { timeout: 90_000 },
  ).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
  // The runner reports on stdout or stderr depending on how it is started: both are read.
  const out = `${r.stdout}\n${r.stderr}`.replace(/\u001b\[[0-9;]*m/g, '');
  if (!/Passed: \d+\/\d+/.test(out)) return ['(the scenario did not run)'];
  return [...new Set([...out.matchAll(/\[([a-z0-9$-]+)\s*\] FAILURE/g)].map((m) => m[1] as string))].sort();
}

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

describe("conformance client scenarios against the gateway's upstream client", () => {
  it('every check passes but the justified baseline', { timeout: 600_000 }, async () => {
    const got = await limited(
      3,
      RUNS.map(
        ([s, v]) =>
          () =>
            failures(s, v),
      ),
    );
    const actual = RUNS.map(([scenario, revision], i) => ({
      scenario,
      revision,
      checks: got[i] as string[],
    })).filter((r) => r.checks.length > 0);
    const expected = baseline.expected_client_failures.map(({ scenario, revision, checks }) => ({
      scenario,
      revision,
      checks: [...checks].sort(),
    }));
    expect(actual).toEqual(expected);
    for (const e of baseline.expected_client_failures) expect(e.why.length).toBeGreaterThan(40);
  });
});
