// Names the client hands to its ports (docs/spec/tuf-client.md §Ports). Role names come from
// signed but attacker-chosen delegations, so they are URL-component encoded before they become
// part of a metadata file name or a cache key: the result never contains `/`, `\` or `%` other than
// as the start of a `%XX` escape, and a name maps to exactly one encoded form (tuf-js encodes the
// same way, so both clients ask a repository for the same files).
import { TrustError } from '../errors.js';

/**
 * The encoded form of a role name as it appears in file names and cache keys. The top-level names
 * encode to themselves, and @tufjs/models refuses delegated roles named like a top-level role, so
 * a delegated role can never share a cache key with `root`, `timestamp`, `snapshot` or `targets`.
 */
export function encodeRoleName(role: string): string {
  return encodeURIComponent(role);
}

function malformed(message: string): never {
  throw new TrustError('TUF_METADATA_MALFORMED', message);
}

/**
 * A metadata version about to become part of a file name: a positive safe integer, so it prints
 * as decimal digits only (`@tufjs/models` accepts any JSON number: 1.5, 1e21, 1e400).
 */
export function checkVersionForName(version: number): number {
  if (!Number.isSafeInteger(version) || version < 1)
    malformed(`version ${String(version)} is not a positive integer`);
  return version;
}

/** `<role>.json`, or `<version>.<role>.json` under consistent snapshots, with the role encoded. */
export function metadataFileName(role: string, version: number | undefined): string {
  const encoded = encodeRoleName(role);
  return version === undefined ? `${encoded}.json` : `${checkVersionForName(version)}.${encoded}.json`;
}

/** Digest length in lowercase hex digits of the algorithms a consistent-snapshot target name may use. */
const HEX_DIGEST_LENGTH: Readonly<Record<string, number>> = {
  sha224: 56,
  sha256: 64,
  sha384: 96,
  sha512: 128,
};

/**
 * The name a target is fetched under. Without consistent snapshots it is the path; with them the
 * last segment is prefixed with the sha256 hash (else the first listed) and a dot. The hash value
 * comes from signed but attacker-chosen metadata, so it must be lowercase hex of the length its
 * algorithm defines (else TUF_METADATA_MALFORMED), and the final name passes checkTargetPath —
 * nothing from the metadata reaches the fetcher outside the documented alphabet.
 */
export function targetFileName(
  path: string,
  hashes: Readonly<Record<string, string>>,
  consistentSnapshot: boolean,
): string {
  checkTargetPath(path);
  if (!consistentSnapshot) return path;
  const algorithm = Object.hasOwn(hashes, 'sha256') ? 'sha256' : Object.keys(hashes)[0];
  if (algorithm === undefined) malformed(`${path} lists no hashes`);
  const value = hashes[algorithm];
  const length = Object.hasOwn(HEX_DIGEST_LENGTH, algorithm) ? HEX_DIGEST_LENGTH[algorithm] : undefined;
  if (length === undefined) malformed(`${path}: no file name can be built from a ${algorithm} hash`);
  if (typeof value !== 'string' || value.length !== length || !/^[0-9a-f]+$/.test(value))
    malformed(`${path}: ${algorithm} hash is not ${length} lowercase hex digits`);
  const slash = path.lastIndexOf('/');
  const name = `${path.slice(0, slash + 1)}${value}.${path.slice(slash + 1)}`;
  checkTargetPath(name);
  return name;
}

/**
 * Target paths reach the fetcher as `/`-separated relative paths. Refuse anything a file or URL
 * adapter could resolve outside the targets base: absolute paths, backslashes, empty, `.` or `..`
 * segments, and control characters.
 */
export function checkTargetPath(path: string): void {
  const segments = path.split('/');
  const bad =
    path.length === 0 ||
    path.includes('\\') ||
    /[\u0000-\u001f\u007f]/.test(path) ||
    segments.some((s) => s === '' || s === '.' || s === '..');
  if (bad) malformed(`target path ${JSON.stringify(path)} is not a relative path`);
}
