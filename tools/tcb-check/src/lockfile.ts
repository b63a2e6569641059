import { parse as parseYaml } from 'yaml';
import { TcbCheckError } from './errors.js';

export interface LockedDependency {
  readonly specifier: string;
  /** The resolved version without the peer-dependency suffix (`8.20.0`), or `link:…` for workspace links. */
  readonly version: string;
  readonly kind: 'dependencies' | 'optionalDependencies' | 'devDependencies';
}

interface RawImporter {
  dependencies?: Record<string, { specifier: string; version: string }>;
  optionalDependencies?: Record<string, { specifier: string; version: string }>;
  devDependencies?: Record<string, { specifier: string; version: string }>;
}

interface RawSnapshot {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** Strips pnpm's peer suffix: `4.1.12(vitest@4.1.12)` → `4.1.12`. */
export function baseVersion(version: string): string {
  const paren = version.indexOf('(');
  return paren === -1 ? version : version.slice(0, paren);
}

/** A parsed pnpm lockfile (v9): importers, package resolutions and the snapshot graph. */
export class Lockfile {
  private readonly importers: Record<string, RawImporter>;
  private readonly packages: Record<string, { resolution?: { integrity?: string } }>;
  private readonly snapshots: Record<string, RawSnapshot>;

  constructor(text: string) {
    let raw: unknown;
    try {
      raw = parseYaml(text);
    } catch (error) {
      throw new TcbCheckError('lockfile', `pnpm-lock.yaml is not valid YAML: ${(error as Error).message}`);
    }
    const doc = raw as {
      lockfileVersion?: unknown;
      importers?: Record<string, RawImporter>;
      packages?: Record<string, { resolution?: { integrity?: string } }>;
      snapshots?: Record<string, RawSnapshot>;
    } | null;
    if (!doc || typeof doc !== 'object' || !String(doc.lockfileVersion ?? '').startsWith('9')) {
      throw new TcbCheckError('lockfile', 'pnpm-lock.yaml: only lockfileVersion 9 is supported');
    }
    this.importers = doc.importers ?? {};
    this.packages = doc.packages ?? {};
    this.snapshots = doc.snapshots ?? {};
  }

  /** Dependencies the lockfile resolves for the importer at `dir` (`packages/crypto`). */
  importer(dir: string): Map<string, LockedDependency> {
    const out = new Map<string, LockedDependency>();
    const imp = this.importers[dir];
    if (!imp) return out;
    for (const kind of ['devDependencies', 'optionalDependencies', 'dependencies'] as const) {
      for (const [name, dep] of Object.entries(imp[kind] ?? {})) {
        out.set(name, { specifier: String(dep.specifier), version: baseVersion(String(dep.version)), kind });
      }
    }
    return out;
  }

  /** The integrity hash of `name@version`, if the lockfile records one. */
  integrity(name: string, version: string): string | undefined {
    return this.packages[`${name}@${version}`]?.resolution?.integrity;
  }

  /**
   * Every external package (`name@version`) reachable from the importer's runtime dependencies
   * (dependencies + optionalDependencies, transitively; workspace links are not followed).
   */
  transitiveExternal(dir: string): string[] {
    const imp = this.importers[dir];
    const seen = new Set<string>();
    const queue: string[] = [];
    const push = (name: string, version: string): void => {
      if (version.startsWith('link:') || version.startsWith('file:')) return;
      const key = `${name}@${version}`;
      if (seen.has(key)) return;
      seen.add(key);
      queue.push(key);
    };
    for (const kind of ['dependencies', 'optionalDependencies'] as const) {
      for (const [name, dep] of Object.entries(imp?.[kind] ?? {})) push(name, String(dep.version));
    }
    while (queue.length > 0) {
      const snap = this.snapshots[queue.shift() as string];
      for (const kind of ['dependencies', 'optionalDependencies'] as const) {
        for (const [name, version] of Object.entries(snap?.[kind] ?? {})) push(name, String(version));
      }
    }
    return [...new Set([...seen].map((k) => k.replace(/\(.*$/, '')))].sort();
  }
}
