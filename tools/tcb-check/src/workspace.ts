import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { TcbCheckError } from './errors.js';

export type DependencyKind = 'dependencies' | 'peerDependencies' | 'optionalDependencies' | 'devDependencies';
export const RUNTIME_DEPENDENCY_KINDS: readonly DependencyKind[] = [
  'dependencies',
  'peerDependencies',
  'optionalDependencies',
];

export interface PackageManifest {
  readonly name: string;
  readonly version?: string;
  readonly scripts?: Record<string, string>;
  readonly helm?: { readonly tcb?: unknown };
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
  /** package.json "imports": `#name` → a target path or a map of conditions to targets. */
  readonly imports?: Record<string, unknown>;
}

export interface WorkspacePackage {
  readonly name: string;
  /** Folder relative to the workspace root (`packages/crypto`), `/`-separated. */
  readonly dir: string;
  /** Absolute folder. */
  readonly absDir: string;
  readonly tcb: boolean;
  readonly manifest: PackageManifest;
  readonly manifestText: string;
}

export interface Workspace {
  readonly root: string;
  readonly packages: readonly WorkspacePackage[];
  readonly byName: ReadonlyMap<string, WorkspacePackage>;
}

export const SOURCE_EXTENSIONS = ['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.jsx'];

/** The package name of a bare specifier: `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

export function toPosix(path: string): string {
  return path.split(sep).join('/');
}

export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new TcbCheckError('io', `cannot read ${path}: ${(error as Error).message}`);
  }
}

function listDirs(absDir: string, recursive: boolean): string[] {
  if (!existsSync(absDir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(absDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const child = join(absDir, entry.name);
    out.push(child);
    if (recursive) out.push(...listDirs(child, true));
  }
  return out;
}

/** Expands the pnpm-workspace.yaml globs we support: `dir`, `dir/*`, `dir/**` and `!` exclusions. */
function expandGlobs(root: string, globs: readonly string[]): string[] {
  const included = new Set<string>();
  const excluded = new Set<string>();
  for (const raw of globs) {
    const negated = raw.startsWith('!');
    const glob = (negated ? raw.slice(1) : raw).replace(/\/+$/, '');
    let dirs: string[];
    if (glob.endsWith('/**')) dirs = listDirs(join(root, glob.slice(0, -3)), true);
    else if (glob.endsWith('/*')) dirs = listDirs(join(root, glob.slice(0, -2)), false);
    else if (!glob.includes('*')) dirs = [join(root, glob)];
    else throw new TcbCheckError('workspace', `unsupported pnpm-workspace.yaml pattern "${raw}"`);
    for (const d of dirs) (negated ? excluded : included).add(d);
  }
  return [...included].filter((d) => !excluded.has(d) && existsSync(join(d, 'package.json'))).sort();
}

export function readWorkspace(root: string): Workspace {
  const wsFile = join(root, 'pnpm-workspace.yaml');
  if (!existsSync(wsFile)) throw new TcbCheckError('workspace', `no pnpm-workspace.yaml in ${root}`);
  let ws: unknown;
  try {
    ws = parseYaml(readText(wsFile));
  } catch (error) {
    throw new TcbCheckError('workspace', `pnpm-workspace.yaml: ${(error as Error).message}`);
  }
  const globs = (ws as { packages?: unknown } | null)?.packages;
  if (!Array.isArray(globs) || !globs.every((g) => typeof g === 'string')) {
    throw new TcbCheckError('workspace', 'pnpm-workspace.yaml: "packages" must be a list of globs');
  }
  const packages: WorkspacePackage[] = [];
  const byName = new Map<string, WorkspacePackage>();
  for (const absDir of expandGlobs(root, globs)) {
    const manifestText = readText(join(absDir, 'package.json'));
    let manifest: PackageManifest;
    try {
      manifest = JSON.parse(manifestText) as PackageManifest;
    } catch (error) {
      throw new TcbCheckError('workspace', `${absDir}/package.json: ${(error as Error).message}`);
    }
    if (typeof manifest.name !== 'string' || manifest.name === '') {
      throw new TcbCheckError('workspace', `${absDir}/package.json has no name`);
    }
    if (byName.has(manifest.name)) {
      throw new TcbCheckError('workspace', `two workspace packages are named ${manifest.name}`);
    }
    const pkg: WorkspacePackage = {
      name: manifest.name,
      dir: toPosix(relative(root, absDir)),
      absDir,
      tcb: manifest.helm?.tcb === true,
      manifest,
      manifestText,
    };
    packages.push(pkg);
    byName.set(pkg.name, pkg);
  }
  return { root, packages, byName };
}

/** All source files under `dir` (absolute paths, sorted), skipping node_modules. */
export function listSourceFiles(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...listSourceFiles(path));
    } else if (SOURCE_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) {
      out.push(path);
    }
  }
  return out.sort();
}

/** The runtime dependencies a manifest declares (not devDependencies), name → specifier. */
export function runtimeDependencies(
  manifest: PackageManifest,
): Map<string, { spec: string; kind: DependencyKind }> {
  const deps = new Map<string, { spec: string; kind: DependencyKind }>();
  for (const kind of RUNTIME_DEPENDENCY_KINDS) {
    for (const [name, spec] of Object.entries(manifest[kind] ?? {})) deps.set(name, { spec, kind });
  }
  return deps;
}
