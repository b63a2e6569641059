// The workspace as release tooling sees it: every package folder pnpm-workspace.yaml names, read
// from disk so the same code works on a checkout of any ref without running pnpm (or its hooks).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readWorkspace } from '@helm/tcb-check/dist/workspace.js';
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

/**
 * The workspace packages pnpm would see, through tcb-check's reader (the one the TCB check uses):
 * `dir`, `dir/*`, `dir/**` and `!exclusions`, and two packages with one name refused. Sharing it
 * means release:diff, release:manifest and tcb-check can never disagree on which folder is
 * `@helm/x` (an excluded decoy folder of the same name would otherwise be diffed instead).
 */
export function workspacePackages(root: string): WorkspacePackage[] {
  const out: WorkspacePackage[] = [];
  // A pnpm-workspace.yaml without `packages` is a workspace of the root alone (as for pnpm).
  const config = parseYaml(readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')) as {
    packages?: unknown;
  } | null;
  if (config?.packages === undefined || config.packages === null) return out;
  for (const p of readWorkspace(root).packages) {
    const manifest = JSON.parse(p.manifestText) as PackageManifest;
    out.push({
      name: manifest.name,
      dir: p.dir,
      absDir: join(root, p.dir),
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
