#!/usr/bin/env node
// `helmts run` start-up A/B (issue #25, schemas compile once): wall and CPU time of one governed call
// (echo tool, fresh data directory per checkout) for two built checkouts, interleaved with `node -e 0`
// as the bare baseline; medians. Usage: node scripts/run-startup-ab.mjs <base-checkout> <new-checkout> [N]
// (each checkout built: apps/cli/dist/bin.cjs). Not a test: numbers depend on the machine's load.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [baseRepo, newRepo, nArg] = process.argv.slice(2);
const N = Number(nArg ?? 15);
const dir = mkdtempSync(join(tmpdir(), 'helm-run-ab-'));
// Preloaded into each `helmts run`: prints the process's CPU time (all threads) at exit.
const CPU_HOOK = join(dir, 'cpu.cjs');
writeFileSync(
  CPU_HOOK,
  "process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('\\nHELM_CPU_MS ' + (u.user + u.system) / 1000 + '\\n'); });",
);
const desc = join(dir, 'echo.json');
writeFileSync(
  desc,
  JSON.stringify({
    type: 'helm.tool.v1',
    name: 'echo',
    description: 'echo',
    input_schema: { type: 'object', properties: { x: { type: 'integer' } }, additionalProperties: false },
    output_schema: { type: 'object' },
    effect_type: 'compute',
    risk_tier: 'LOW',
    action: 'echo',
    driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 1000 },
  }),
);
const setups = [
  ['base', baseRepo],
  ['new', newRepo],
].map(([name, repo]) => {
  const bin = join(repo, 'apps/cli/dist/bin.cjs');
  const home = join(dir, name);
  execFileSync(process.execPath, [bin, '-d', home, 'init'], { stdio: 'pipe' });
  execFileSync(process.execPath, [bin, '-d', home, 'tool', 'register', desc], { stdio: 'pipe' });
  return { name, bin, home, times: [], cpu: [] };
});
const t = (f) => {
  const s = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - s) / 1e6;
};
const bare = [];
for (let i = 0; i < N; i++) {
  bare.push(t(() => spawnSync(process.execPath, ['-e', '0'])));
  for (const s of i % 2 ? setups : [...setups].reverse()) {
    s.times.push(
      t(() => {
        const r = spawnSync(process.execPath, [
          '-r',
          CPU_HOOK,
          s.bin,
          '-d',
          s.home,
          'run',
          '--tool',
          'echo',
          '--principal',
          'local',
          '--args',
          `{"x":${i}}`,
        ]);
        if (r.status !== 0) throw new Error(`${s.name}: ${r.stdout}${r.stderr}`);
        s.cpu.push(Number(/HELM_CPU_MS ([0-9.]+)/.exec(String(r.stderr))[1]));
      }),
    );
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const out = { N, node_e0_ms: +med(bare).toFixed(1) };
for (const s of setups) {
  out[`${s.name}_cpu_ms`] = +med(s.cpu).toFixed(1);
  out[`${s.name}_run_ms`] = +med(s.times).toFixed(1);
  out[`${s.name}_ratio`] = +(med(s.times) / med(bare)).toFixed(2);
}
out.new_vs_base = +(out.new_run_ms / out.base_run_ms).toFixed(3);
out.new_vs_base_cpu = +(out.new_cpu_ms / out.base_cpu_ms).toFixed(3);
console.log(JSON.stringify(out));
rmSync(dir, { recursive: true, force: true });
