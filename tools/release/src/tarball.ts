// Packing a workspace package the way `pnpm publish` does (`pnpm pack`, which rewrites
// `workspace:` ranges) and reading the tarball back: its SHA-256 and every file with its own
// SHA-256, so two packs can be compared byte for byte and file by file.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export interface TarballFile {
  readonly path: string;
  readonly size: number;
  readonly mode: number;
  readonly sha256: string;
}

export interface Tarball {
  readonly filename: string;
  readonly bytes: Buffer;
  readonly sha256: string;
  readonly files: readonly TarballFile[];
}

export const sha256Hex = (data: Uint8Array | string): string =>
  createHash('sha256').update(data).digest('hex');

function field(block: Buffer, start: number, length: number): string {
  const raw = block.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

/**
 * Regular files of a .tgz as npm/pnpm write it (ustar: regular files and folders, long paths split
 * into the prefix field), paths without the `package/` prefix. Any other entry type (pax headers,
 * GNU long names, links) is refused rather than skipped: a reader that skips what it does not
 * understand would report a file list the tarball does not have.
 */
export function readTarball(gz: Uint8Array): TarballFile[] {
  const tar = gunzipSync(gz);
  const files: TarballFile[] = [];
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const size = Number.parseInt(field(header, 124, 12), 8);
    const type = String.fromCharCode(header[156] as number);
    const prefix = field(header, 345, 155);
    const path = `${prefix ? `${prefix}/` : ''}${field(header, 0, 100)}`.replace(/^package\//, '');
    if (type === '0' || type === '\0') {
      const body = tar.subarray(offset + 512, offset + 512 + size);
      files.push({ path, size, mode: Number.parseInt(field(header, 100, 8), 8), sha256: sha256Hex(body) });
    } else if (type !== '5') {
      throw new Error(`unsupported tar entry type "${type}" at ${path}`);
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** The trusted pnpm hooks every pack runs with (see pack-hooks.cjs). */
export const PACK_HOOKS = fileURLToPath(new URL('../pack-hooks.cjs', import.meta.url));

/**
 * `pnpm pack` of the package in `pkgDir`; the tarball bytes are read back and the temp dir removed.
 * No code of the packed tree runs: lifecycle scripts (prepack, postpack, prepare) are off and pnpm
 * loads our own pack-hooks.cjs instead of the tree's .pnpmfile.cjs. Both are command-line config,
 * which outranks a `.npmrc` or pnpm-workspace.yaml of the tree. The release packs the same way
 * (release:manifest), so a review pack and a release pack of one commit are the same bytes.
 */
export function pack(pkgDir: string): Tarball {
  const dest = mkdtempSync(join(tmpdir(), 'helm-release-pack-'));
  try {
    execFileSync(
      'pnpm',
      [
        'pack',
        '--pack-destination',
        dest,
        '--config.ignore-scripts=true',
        `--config.pnpmfile=${PACK_HOOKS}`,
        '--config.global-pnpmfile=',
      ],
      { cwd: pkgDir, stdio: 'pipe' },
    );
    const filename = readdirSync(dest).find((f) => f.endsWith('.tgz'));
    if (!filename) throw new Error(`pnpm pack wrote no tarball for ${pkgDir}`);
    const bytes = readFileSync(join(dest, filename));
    return { filename, bytes, sha256: sha256Hex(bytes), files: readTarball(bytes) };
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
}
