// Names that become file names (invariant I-DATADIR-1). Tool names, key names, module digests and
// the chain id come from input — a descriptor, a flag, a file in the data directory — and each is
// used as ONE file name inside ONE directory (`tools/<name>.json`, `keys/<name>.json`,
// `modules/<hex>.wasm`, `evidence-<chain>.tar`). Every such name passes the single rule below
// before any file operation, and the path built from it is then checked to stay directly inside
// its directory (defence in depth). A refused name is a RuntimeError NAME_INVALID (exit 2) raised
// before anything on disk is touched.
//
// The rule: 1–128 characters from [a-z0-9._-], starting with a letter or digit, with no `..` and
// no trailing `.`, and whose first dot-separated part is not a Windows device name (con, prn, aux,
// nul, com0–9, lpt0–9). So no `.`/`..`, no path separator of any platform, no NUL or other control
// character, no drive letter, no upper case (case-insensitive file systems) and no non-ASCII
// lookalike can reach a path. Every valid tool name (TOOL_NAME_PATTERN in @helm/contracts, e.g.
// `fs.read`, `weather-lookup`) of up to 128 characters passes it; so do the setup key names.
import { dirname, join, resolve } from 'node:path';
import { RuntimeError } from '../errors.js';

/** The one name rule (see the header). */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,127}$/;
export const NAME_MAX_LENGTH = 128;
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** What a name names (used in messages). */
export type NameKind = 'tool' | 'key' | 'module' | 'chain id';

export const NAME_RULE_HINT =
  'names are 1-128 characters: lowercase letters, digits, ".", "_" and "-", starting with a letter or ' +
  'digit, with no "..", no trailing "." and not a Windows device name (con, nul, com1, …); e.g. fs.read, approver-4';

/** A name as it may be shown on a terminal: printable ASCII only, control/unicode escaped, bounded. */
function shown(value: unknown): string {
  if (typeof value !== 'string') return `(${value === null ? 'null' : typeof value})`;
  const escaped = [...value.slice(0, 80)]
    .map((c) => {
      const code = c.codePointAt(0) as number;
      return code >= 0x20 && code < 0x7f && c !== '"' && c !== '\\' ? c : `\\u{${code.toString(16)}}`;
    })
    .join('');
  return `"${escaped}${value.length > 80 ? `…" (${value.length} characters)` : '"'}`;
}

/** Whether `value` satisfies the name rule. */
export function isValidName(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    NAME_PATTERN.test(value) &&
    !value.includes('..') &&
    !value.endsWith('.') &&
    !WINDOWS_DEVICE.test(value)
  );
}

/** Return `value` if it satisfies the name rule (modules: a lowercase SHA-256 hex digest), else throw NAME_INVALID. */
export function checkName(kind: NameKind, value: unknown): string {
  if (!isValidName(value) || (kind === 'module' && !SHA256_HEX.test(value))) {
    throw new RuntimeError(
      'NAME_INVALID',
      `invalid ${kind} name ${shown(value)}`,
      kind === 'module'
        ? 'a module is named by its digest: sha256:<64 lowercase hex digits>'
        : NAME_RULE_HINT,
    );
  }
  return value;
}

/**
 * Assert that `path` resolves to an entry directly inside `dir` (not `dir` itself, not a sibling
 * sharing its prefix, not deeper, not outside), and return it. Defence in depth under checkName.
 */
export function pathInside(dir: string, path: string, kind: NameKind): string {
  const base = resolve(dir);
  const full = resolve(base, path);
  if (dirname(full) !== base) {
    throw new RuntimeError('NAME_INVALID', `the ${kind} path ${shown(path)} leaves ${base}`, NAME_RULE_HINT);
  }
  return full;
}

/** `<dir>/<prefix><name><suffix>` for a name that passed the rule, checked to stay in `dir`. */
export function namedPath(dir: string, kind: NameKind, name: unknown, suffix: string, prefix = ''): string {
  const checked = checkName(kind, name);
  return pathInside(dir, `${prefix}${checked}${suffix}`, kind);
}

/**
 * The path of a directory entry `<name><suffix>` found by listing `dir`, its name checked by the
 * same rule: a file planted there under a name no command could have written is refused.
 */
export function listedPath(dir: string, kind: NameKind, file: string, suffix: string): string {
  if (!isValidName(file.slice(0, file.length - suffix.length))) {
    throw new RuntimeError(
      'NAME_INVALID',
      `${shown(join(dir, file))} is not a valid ${kind} file name`,
      `rename or remove it; ${NAME_RULE_HINT}`,
    );
  }
  return pathInside(dir, file, kind);
}
