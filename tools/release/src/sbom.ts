// CycloneDX 1.5 SBOM of one published package: the exact dependency tree a consumer installs, as
// pnpm-lock.yaml (v9) resolves it — workspace `@helm/*` dependencies followed through their
// importers, external packages through the lockfile's snapshot graph — with each external
// package's registry integrity (SRI sha512, also given as a CycloneDX SHA-512 hash in hex).
// Why our own generator: `npm sbom` reads node_modules with npm's tree model and rejects pnpm's
// symlinked layout and `workspace:` ranges (ESBOMPROBLEMS), and the lockfile already is the exact
// resolved tree. Output is deterministic (sorted, no timestamp; serialNumber derived from content)
// so the committed file only changes when the tree does.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { WorkspacePackage } from './workspace.js';

interface LockDep {
  specifier?: string;
  version: string;
}
interface LockDoc {
  importers?: Record<string, Partial<Record<DepKind, Record<string, LockDep>>>>;
  packages?: Record<string, { resolution?: { integrity?: string } }>;
  snapshots?: Record<string, Partial<Record<DepKind, Record<string, string>>>>;
}
type DepKind = 'dependencies' | 'optionalDependencies';
const RUNTIME: readonly DepKind[] = ['dependencies', 'optionalDependencies'];

export interface SbomComponent {
  readonly name: string;
  readonly version: string;
  readonly integrity: string | null;
  readonly workspace: boolean;
  readonly dependsOn: readonly string[];
}

const baseVersion = (v: string): string => v.replace(/\(.*$/, '');

export function purl(name: string, version: string): string {
  return `pkg:npm/${name.startsWith('@') ? `%40${name.slice(1)}` : name}@${version}`;
}

/** Every component `pkg` depends on at run time, transitively, keyed by purl (the package itself too). */
export function resolveTree(
  lockText: string,
  pkg: WorkspacePackage,
  all: readonly WorkspacePackage[],
): Map<string, SbomComponent> {
  const doc = (parseYaml(lockText) ?? {}) as LockDoc;
  const byDir = new Map(all.map((p) => [p.dir, p]));
  const out = new Map<string, SbomComponent>();

  const external = (name: string, version: string): string => {
    const v = baseVersion(version);
    const ref = purl(name, v);
    if (out.has(ref)) return ref;
    const snap = doc.snapshots?.[`${name}@${version}`] ?? doc.snapshots?.[`${name}@${v}`] ?? {};
    const placeholder: SbomComponent = {
      name,
      version: v,
      integrity: doc.packages?.[`${name}@${v}`]?.resolution?.integrity ?? null,
      workspace: false,
      dependsOn: [],
    };
    out.set(ref, placeholder);
    const deps = RUNTIME.flatMap((k) => Object.entries(snap[k] ?? {})).map(([n, ver]) => external(n, ver));
    out.set(ref, { ...placeholder, dependsOn: [...new Set(deps)].sort() });
    return ref;
  };

  const workspace = (p: WorkspacePackage): string => {
    const ref = purl(p.name, p.version);
    if (out.has(ref)) return ref;
    const base: SbomComponent = {
      name: p.name,
      version: p.version,
      integrity: null,
      workspace: true,
      dependsOn: [],
    };
    out.set(ref, base);
    const importer = doc.importers?.[p.dir] ?? {};
    const deps: string[] = [];
    for (const kind of RUNTIME) {
      for (const [name, dep] of Object.entries(importer[kind] ?? {})) {
        const version = String(dep.version);
        if (version.startsWith('link:')) {
          const dir = posix.normalize(posix.join(p.dir, version.slice(5)));
          const target = byDir.get(dir);
          // fail closed: a link the SBOM cannot follow would drop a subtree silently
          if (!target)
            throw new Error(`${p.name}: ${name} links to ${dir}, which is not a workspace package`);
          deps.push(workspace(target));
        } else deps.push(external(name, version));
      }
    }
    out.set(ref, { ...base, dependsOn: [...new Set(deps)].sort() });
    return ref;
  };
  workspace(pkg);
  return out;
}

const sriToHex = (sri: string): { alg: string; content: string } | undefined => {
  const m = /^sha(256|384|512)-(.+)$/.exec(sri);
  return m
    ? { alg: `SHA-${m[1]}`, content: Buffer.from(m[2] as string, 'base64').toString('hex') }
    : undefined;
};

/** The CycloneDX document (JSON value) for `pkg`, given the workspace root. */
export function buildSbom(root: string, pkg: WorkspacePackage, all: readonly WorkspacePackage[]): unknown {
  const tree = resolveTree(readFileSync(join(root, 'pnpm-lock.yaml'), 'utf8'), pkg, all);
  const self = purl(pkg.name, pkg.version);
  const component = (ref: string, c: SbomComponent): Record<string, unknown> => {
    const hash = c.integrity ? sriToHex(c.integrity) : undefined;
    return {
      type: 'library',
      'bom-ref': ref,
      name: c.name,
      version: c.version,
      purl: ref,
      ...(hash ? { hashes: [hash] } : {}),
      properties: [
        { name: 'helm:integrity', value: c.integrity ?? '(workspace package; integrity at publish)' },
        ...(c.workspace ? [{ name: 'helm:workspace', value: 'true' }] : []),
      ],
    };
  };
  const refs = [...tree.keys()].sort();
  const body = {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    version: 1,
    metadata: {
      tools: {
        components: [{ type: 'application', name: '@helm/release-tools', description: 'pnpm api:update' }],
      },
      component: component(self, tree.get(self) as SbomComponent),
      properties: [
        { name: 'helm:source', value: 'pnpm-lock.yaml' },
        {
          name: 'helm:transitive-external-count',
          value: String(refs.filter((r) => !tree.get(r)?.workspace).length),
        },
      ],
    },
    components: refs.filter((r) => r !== self).map((r) => component(r, tree.get(r) as SbomComponent)),
    dependencies: refs.map((r) => ({ ref: r, dependsOn: tree.get(r)?.dependsOn ?? [] })),
  };
  const digest = createHash('sha256').update(JSON.stringify(body)).digest('hex');
  const uuid = `${digest.slice(0, 8)}-${digest.slice(8, 12)}-5${digest.slice(13, 16)}-a${digest.slice(17, 20)}-${digest.slice(20, 32)}`;
  const { bomFormat, specVersion, ...rest } = body;
  return { bomFormat, specVersion, serialNumber: `urn:uuid:${uuid}`, ...rest };
}

/** External components of a committed SBOM: `name@version` → integrity. */
export function sbomExternals(text: string | undefined): Map<string, string | null> {
  const out = new Map<string, string | null>();
  if (!text) return out;
  const doc = JSON.parse(text) as {
    components?: { name: string; version: string; properties?: { name: string; value: string }[] }[];
  };
  for (const c of doc.components ?? []) {
    if (c.properties?.some((p) => p.name === 'helm:workspace')) continue;
    const integrity = c.properties?.find((p) => p.name === 'helm:integrity')?.value ?? null;
    out.set(`${c.name}@${c.version}`, integrity);
  }
  return out;
}
