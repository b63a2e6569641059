// The signed release manifest (normative: docs/spec/release-manifest.md): for one repository state,
// each published package's tarball digest, API report digest and SBOM digest, plus the digest of
// the tcb-check report — the inputs of release:diff — as a `helm.release.manifest.v1` body in the
// project's own JCS envelope, signed with a release key through @helm/crypto. Verification is the
// envelope check (type = domain separator, Ed25519 over PAE) followed by re-hashing whatever the
// verifier holds: tarballs, committed reports, SBOMs.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  canonicalBytes,
  createSigner,
  digest,
  keyIdFor,
  keyPairFromSeed,
  signEnvelope,
  verifyEnvelope,
} from '@helm/crypto';
import { importPrivateKeyPem, importPublicKeyPem } from '@helm/interop';
import { runCheck } from '@helm/tcb-check/dist/check.js';
import { buildReport } from '@helm/tcb-check/dist/report.js';
import { pack } from './tarball.js';
import { API_REPORT, publishedOf, SBOM } from './workspace.js';

export const MANIFEST_TYPE = 'helm.release.manifest.v1';

export interface ManifestPackage {
  name: string;
  version: string;
  tarball: { filename: string; digest: string; size: number };
  api_report: string | null;
  sbom: string | null;
}

export interface ManifestBody {
  [key: string]: unknown;
  type: typeof MANIFEST_TYPE;
  repository: string;
  commit: string;
  packages: ManifestPackage[];
  tcb_report: string | null;
}

const fileDigest = (file: string): string | null => (existsSync(file) ? digest(readFileSync(file)) : null);

/**
 * The digest of tcb-check's report for `root`, coverage left out: coverage depends on the last
 * local test run, the boundary (edges, allowlists, resolved versions with integrity) does not.
 */
export function tcbReportDigest(root: string): string | null {
  if (!existsSync(join(root, 'TCB_POLICY.md'))) return null;
  const report = buildReport(runCheck(root));
  const stripped = { ...report, packages: report.packages.map(({ coverage: _c, ...rest }) => rest) };
  return digest(canonicalBytes(JSON.parse(JSON.stringify(stripped))));
}

/** Packs every published package in `root` (which must be built) and builds the manifest body. */
export function buildManifest(root: string, commit: string): ManifestBody {
  const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    repository?: { url?: string };
  };
  const repository = (rootManifest.repository?.url ?? '').replace(/^git\+/, '').replace(/\.git$/, '');
  const packages = publishedOf(root).map((p): ManifestPackage => {
    const t = pack(p.absDir);
    return {
      name: p.name,
      version: p.version,
      tarball: { filename: t.filename, digest: `sha256:${t.sha256}`, size: t.bytes.length },
      api_report: fileDigest(join(p.absDir, API_REPORT)),
      sbom: fileDigest(join(p.absDir, SBOM)),
    };
  });
  return { type: MANIFEST_TYPE, repository, commit, packages, tcb_report: tcbReportDigest(root) };
}

export function signManifest(body: ManifestBody, privateKeyPem: string): unknown {
  const signer = createSigner(importPrivateKeyPem(privateKeyPem));
  return signEnvelope(body, [signer]);
}

export function publicKeyPemOf(privateKeyPem: string): Uint8Array {
  return keyPairFromSeed(importPrivateKeyPem(privateKeyPem)).publicKey;
}

export interface VerifyResult {
  readonly ok: boolean;
  /** `signature` problems come from @helm/crypto's closed code set; the rest are digest mismatches. */
  readonly problems: readonly string[];
  readonly body?: ManifestBody;
  readonly checked: number;
}

/**
 * Verifies the envelope against `publicKeyPem`, then every digest it can re-compute: tarballs
 * found in `tarballDir` by file name, API reports / SBOMs / TCB report from the checkout `root`.
 */
export function verifyManifest(
  envelope: unknown,
  publicKeyPem: string,
  options: { tarballDir?: string; root?: string } = {},
): VerifyResult {
  const key = importPublicKeyPem(publicKeyPem);
  const id = keyIdFor(key);
  const check = verifyEnvelope<ManifestBody>(envelope, MANIFEST_TYPE, (k) => (k === id ? key : undefined));
  if (!check.ok) return { ok: false, problems: [`signature: ${check.code}: ${check.message}`], checked: 0 };
  const body = check.body;
  const problems: string[] = [];
  let checked = 0;
  const expect = (what: string, want: string | null, got: string | null): void => {
    checked++;
    if (want !== got) problems.push(`${what}: manifest says ${want ?? 'none'}, found ${got ?? 'none'}`);
  };
  if (options.tarballDir) {
    const present = new Set(readdirSync(options.tarballDir));
    for (const p of body.packages) {
      if (!present.has(p.tarball.filename)) {
        problems.push(`${p.name}: tarball ${p.tarball.filename} not in ${options.tarballDir}`);
        continue;
      }
      expect(`${p.name} tarball`, p.tarball.digest, fileDigest(join(options.tarballDir, p.tarball.filename)));
    }
  }
  if (options.root) {
    // The checkout must be the state the manifest signs: its commit, and each package's version.
    // Digests of reports alone would also match an older or newer commit that left them as they were.
    let head: string | null = null;
    try {
      head = execFileSync('git', ['rev-parse', 'HEAD'], {
        cwd: options.root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }).trim();
    } catch {}
    if (head !== body.commit)
      problems.push(
        `commit: manifest says ${body.commit}, ${options.root} is at ${head ?? '(not a git checkout)'}`,
      );
    const published = publishedOf(options.root);
    const dirs = new Map(published.map((p) => [p.name, p.absDir]));
    const versions = new Map(published.map((p) => [p.name, p.version]));
    for (const p of published)
      if (!body.packages.some((m) => m.name === p.name))
        problems.push(`${p.name}: published package of ${options.root} missing from the manifest`);
    for (const p of body.packages) {
      const dir = dirs.get(p.name);
      if (!dir) {
        problems.push(`${p.name}: not a published package of ${options.root}`);
        continue;
      }
      if (versions.get(p.name) !== p.version)
        problems.push(
          `${p.name}: manifest says version ${p.version}, ${options.root} has ${versions.get(p.name)}`,
        );
      expect(`${p.name} API report`, p.api_report, fileDigest(join(dir, API_REPORT)));
      expect(`${p.name} SBOM`, p.sbom, fileDigest(join(dir, SBOM)));
    }
    expect('TCB report', body.tcb_report, tcbReportDigest(options.root));
  }
  return { ok: problems.length === 0, problems, body, checked };
}
