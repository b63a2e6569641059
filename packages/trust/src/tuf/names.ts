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

/** `<role>.json`, or `<version>.<role>.json` under consistent snapshots, with the role encoded. */
export function metadataFileName(role: string, version: number | undefined): string {
  const encoded = encodeRoleName(role);
  return version === undefined ? `${encoded}.json` : `${version}.${encoded}.json`;
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
  if (bad)
    throw new TrustError(
      'TUF_METADATA_MALFORMED',
      `target path ${JSON.stringify(path)} is not a relative path`,
    );
}
