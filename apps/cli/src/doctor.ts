import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseJson } from '@helm/runtime';

export const TCB_PACKAGES = [
  'contracts',
  'crypto',
  'receipts',
  'proofgraph',
  'trust',
  'guardian',
  'runtime-sandbox',
  'executor',
] as const;

export interface DoctorCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface DoctorReport {
  readonly ok: boolean;
  readonly node: string;
  readonly packages: Record<string, string>;
  readonly checks: DoctorCheck[];
}

function findRepoRoot(start: string): string | undefined {
  let dir = start;
  for (;;) {
    try {
      readFileSync(join(dir, 'pnpm-workspace.yaml'));
      return dir;
    } catch {
      const parent = dirname(dir);
      if (parent === dir) return undefined;
      dir = parent;
    }
  }
}

export function runDoctor(): DoctorReport {
  const here = dirname(fileURLToPath(import.meta.url));
  const checks: DoctorCheck[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  checks.push({ name: 'node', ok: major >= 22, detail: `Node ${process.versions.node} (need >= 22)` });
  const packages: Record<string, string> = {};
  const root = findRepoRoot(here);
  for (const name of TCB_PACKAGES) {
    try {
      const manifestPath = root
        ? join(root, 'packages', name, 'package.json')
        : join(here, '..', 'node_modules', '@helm', name, 'package.json');
      const manifest = parseJson(new Uint8Array(readFileSync(manifestPath)), manifestPath) as {
        version: string;
      };
      packages[`@helm/${name}`] = manifest.version;
    } catch {
      packages[`@helm/${name}`] = 'missing';
    }
  }
  const missing = Object.entries(packages).filter(([, v]) => v === 'missing');
  checks.push({
    name: 'packages',
    ok: missing.length === 0,
    detail:
      missing.length === 0
        ? `${TCB_PACKAGES.length} TCB packages present`
        : `missing: ${missing.map(([k]) => k).join(', ')}`,
  });
  if (root) {
    const checker = join(root, 'tools', 'tcb-check', 'dist', 'cli.js');
    try {
      execFileSync(process.execPath, [checker, 'check', '--json'], { cwd: root, stdio: 'pipe' });
      checks.push({ name: 'tcb-check', ok: true, detail: 'TCB boundary clean' });
    } catch (error) {
      const status = (error as { status?: number }).status;
      checks.push({
        name: 'tcb-check',
        ok: false,
        detail:
          status === 1
            ? 'TCB boundary violations — run `pnpm tcb:check`'
            : 'tcb-check could not run (build first)',
      });
    }
  } else {
    checks.push({ name: 'tcb-check', ok: true, detail: 'skipped (not in a source checkout)' });
  }
  return { ok: checks.every((c) => c.ok), node: process.versions.node, packages, checks };
}
