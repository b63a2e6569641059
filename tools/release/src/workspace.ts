// The workspace as release tooling sees it: every package folder named by pnpm-workspace.yaml
// (simple `dir/*` globs and plain folders, which is all this repository uses), read from disk so the
// same code works on a checkout of any ref without running pnpm.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface PackageManifest {
  name: string;
  version?: string;
  private?: boolean;
  exports?: Record<string, unknown>;
  types?: string;
  files?: string[];
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  helm?: { tcb?: boolean };
}

export interface WorkspacePackage {
  readonly name: string;
  /** Folder relative to the root, `/`-separated (`packages/crypto`). */
  readonly dir: string;
  readonly absDir: string;
  readonly manifest: PackageManifest;
  /** `version` of the manifest (`0.0.0` when it has none). */
  readonly version: string;
  readonly published: boolean;
  readonly tcb: boolean;
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

export function workspacePackages(root: string): WorkspacePackage[] {
  const config = parseYaml(readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')) as {
    packages?: string[];
  } | null;
  const dirs: string[] = [];
  for (const pattern of config?.packages ?? []) {
    if (pattern.endsWith('/*')) {
      const base = pattern.slice(0, -2);
      if (!existsSync(join(root, base))) continue;
      for (const entry of readdirSync(join(root, base), { withFileTypes: true })) {
        if (entry.isDirectory()) dirs.push(`${base}/${entry.name}`);
      }
    } else dirs.push(pattern);
  }
  const out: WorkspacePackage[] = [];
  for (const dir of dirs) {
    const file = join(root, dir, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = readJson<PackageManifest>(file);
    out.push({
      name: manifest.name,
      dir,
      absDir: join(root, dir),
      manifest,
      version: manifest.version ?? '0.0.0',
      published: manifest.private !== true,
      tcb: manifest.helm?.tcb === true,
    });
  }
  return out.sort((a, b) => a.dir.localeCompare(b.dir));
}

export const publishedOf = (root: string): WorkspacePackage[] =>
  workspacePackages(root).filter((p) => p.published);

/** Where the committed release evidence of a package lives. */
export const API_REPORT = 'etc/api-report.md';
export const SBOM = 'etc/sbom.cdx.json';
