// Resource canonical form (docs/spec/policy.md §Resource canonical form). A resource is classified
// by its spelling — an absolute path (`/…`), a URL (`scheme://…`) or opaque — and must already be
// in the one canonical form of its kind: the guardian never rewrites a resource (the executor binds
// the effect it built itself), it denies every other spelling before any scope or rule can see it.
// Pure string functions: WHATWG `URL` and `String.prototype.normalize` only.
import type { PolicyMatch } from '@helm/contracts/policy';

export type ResourceKind = 'path' | 'url' | 'opaque';

const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
/** C0 controls, DEL and C1 controls. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const PERCENT_ESCAPE = /%[0-9A-Fa-f]{2}/;
const PERCENT_ESCAPES = /%([0-9A-Fa-f]{2})/g;
const ENCODED_DOT = /%2e/gi;
const ASCII_PRINTABLE = /^[\u0020-\u007e]*$/;
/** RFC 3986 §2.3: percent-encoding these is never canonical. */
const UNRESERVED = /^[A-Za-z0-9._~-]$/;

/** No lone surrogate: the string has a UTF-8 encoding (JCS refuses anything else). */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

export function resourceKind(resource: string): ResourceKind {
  if (resource.startsWith('/')) return 'path';
  return URL_SCHEME.test(resource) ? 'url' : 'opaque';
}

/** `text` and, when it is not plain printable ASCII, its NFKC form (what a normalising consumer sees). */
function spellings(text: string): readonly string[] {
  return ASCII_PRINTABLE.test(text) ? [text] : [text, text.normalize('NFKC')];
}

function isDotSegment(segment: string): boolean {
  const s = segment.replace(ENCODED_DOT, '.');
  return s === '.' || s === '..';
}

function characterDefect(resource: string): string | null {
  if (CONTROL.test(resource)) return 'contains a control character';
  if (LONE_SURROGATE.test(resource)) return 'contains a lone surrogate';
  return null;
}

/**
 * One spelling per resource: a string that Unicode normalization (NFKC: compatibility and
 * composition, as file systems and applications apply it) would change is never canonical, so
 * fullwidth, long-s, mathematical or decomposed spellings cannot slip past a rule (I-RESOURCE-1).
 */
function normalizationDefect(resource: string): string | null {
  return !ASCII_PRINTABLE.test(resource) && resource.normalize('NFKC') !== resource
    ? 'not in Unicode NFKC form'
    : null;
}

function pathDefect(path: string): string | null {
  if (path === '/') return null;
  if (path.endsWith('/')) return 'a trailing "/" (only the root path "/" ends with "/")';
  for (const segment of path.slice(1).split('/')) {
    for (const s of spellings(segment)) {
      if (s.length === 0) return 'an empty segment ("//")';
      if (s === '.' || s === '..') return 'a "." or ".." segment';
      if (s.includes('/') || s.includes('\\')) return 'a "/" or "\\" inside a segment (backslash, or NFKC)';
      if (PERCENT_ESCAPE.test(s)) return 'a percent-escape (paths are never percent-decoded)';
      if (CONTROL.test(s)) return 'a control character';
    }
  }
  return null;
}

function urlDefect(resource: string): string | null {
  if (resource.includes('\\')) return 'a backslash';
  let url: URL;
  try {
    url = new URL(resource);
  } catch {
    return 'not a parseable URL';
  }
  if (url.href !== resource) return 'not in WHATWG-normalized form';
  if (url.username !== '' || url.password !== '') return 'userinfo';
  if (url.hostname.endsWith('.')) return 'a trailing "." in the host';
  const path = url.pathname;
  // Path parameters (`;…`, RFC 3986 §3.3) are resolved differently by different servers
  // (`..;/` is a dot segment to some): never canonical, in any spelling.
  if (path.includes(';') || /%3b/i.test(path)) return 'a ";" path parameter in the path';
  if (path.startsWith('/')) {
    const segments = path.slice(1).split('/');
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      // a trailing "/" is meaningful in URLs; an empty segment anywhere else is "//"
      if (segment.length === 0 && i < segments.length - 1) return 'an empty path segment ("//")';
      if (isDotSegment(segment)) return 'a dot segment (possibly percent-encoded) in the path';
    }
  }
  for (const m of path.matchAll(PERCENT_ESCAPES)) {
    const hex = m[1]!;
    if (hex !== hex.toUpperCase()) return 'a lower-case percent-escape in the path';
    const octet = Number.parseInt(hex, 16);
    const ch = String.fromCharCode(octet);
    if (UNRESERVED.test(ch) || ch === '/' || ch === '\\' || ch === '%' || octet < 0x20 || octet === 0x7f) {
      return `a percent-escape of ${JSON.stringify(ch)} in the path`;
    }
  }
  return null;
}

function opaqueDefect(resource: string): string | null {
  if (/^\s|\s$/.test(resource)) return 'leading or trailing whitespace';
  for (const s of spellings(resource)) {
    for (const part of s.split(/[/\\]/)) if (isDotSegment(part)) return 'a "." or ".." segment';
  }
  return null;
}

/** Why `resource` is not in the canonical form of its kind, or null when it is. */
export function resourceDefect(resource: string): string | null {
  const chars = characterDefect(resource);
  if (chars !== null) return chars;
  const kind = resourceKind(resource);
  const defect =
    kind === 'path' ? pathDefect(resource) : kind === 'url' ? urlDefect(resource) : opaqueDefect(resource);
  return defect ?? normalizationDefect(resource);
}

function prefixDefect(prefix: string): string | null {
  const chars = characterDefect(prefix);
  if (chars !== null) return chars;
  const kind = resourceKind(prefix);
  if (kind === 'opaque') return null;
  if (!prefix.endsWith('/')) {
    return `a ${kind} prefix must end with "/" (a segment boundary), else it also matches siblings`;
  }
  if (kind === 'path') {
    const why = prefix === '/' ? null : pathDefect(prefix.slice(0, -1));
    return why === null ? null : `the prefix has ${why}`;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\/$/.test(prefix)) return null; // every URL of one scheme
  const why = urlDefect(prefix);
  if (why !== null) return `the prefix has ${why}`;
  const url = new URL(prefix);
  return url.search === '' && url.hash === '' ? null : 'a URL prefix cannot contain a query or fragment';
}

/**
 * Why a `resource` matcher is unusable, or null: `eq`/`in` strings must be canonical resources
 * (anything else can never match one), and path and URL `prefix`es must end at a segment boundary.
 */
export function resourceMatchDefect(match: PolicyMatch): string | null {
  const literals = [...(match.eq === undefined ? [] : [match.eq]), ...(match.in ?? [])];
  for (const v of literals) {
    if (typeof v !== 'string') continue;
    const why = resourceDefect(v);
    if (why !== null) return `${JSON.stringify(v)} is not canonical (${why}) and can never match`;
  }
  return match.prefix === undefined ? null : prefixDefect(match.prefix);
}
