/**
 * Rule identifiers, one per kind of boundary breach (see docs/tcb-check.md):
 * - `internal-edge`: a TCB package imports or depends on a TCB package outside its allowed edges
 *   (or itself by name, or escapes its folder with a relative path, or uses a `#` subpath import its own
 *   package.json "imports" does not map to its own sources).
 * - `non-tcb-import`: a TCB package imports or depends on a non-TCB workspace package.
 * - `external-dependency`: an external import or dependency that is not allowlisted, or an import
 *   of an allowlisted package the package.json does not declare.
 * - `external-version`: the allowlisted exact version differs from package.json or the lockfile.
 * - `builtin`: a Node built-in outside the safe set that the package's `builtins` does not allowlist.
 * - `dynamic-code`: eval, Function, dynamic import(), require, Worker with eval, constructor escapes.
 * - `ambient`: ambient time, randomness, environment or I/O globals outside an injection point.
 * - `wire-pattern`: a `sha256:` / `ed25519:` pattern literal (regex literal or RegExp source)
 *   outside the one module that defines the wire rules (packages/contracts/src/wire.ts).
 * - `cycle`: a dependency cycle among workspace packages (or in the policy's allowed edges).
 * - `coverage-gate`: a TCB package's test/coverage configuration weakens the shared 90% gate.
 * - `policy`: the policy and the workspace disagree (missing entry, unknown package, stale injection point).
 * - `unused-dependency`: any workspace package declares an internal (`@helm/*`) dependency it never
 *   references (runtime: from `src/`; dev: from anywhere in the package).
 */
export type RuleId =
  | 'internal-edge'
  | 'non-tcb-import'
  | 'external-dependency'
  | 'external-version'
  | 'builtin'
  | 'dynamic-code'
  | 'ambient'
  | 'wire-pattern'
  | 'cycle'
  | 'coverage-gate'
  | 'policy'
  | 'unused-dependency';

export const RULE_IDS: readonly RuleId[] = [
  'internal-edge',
  'non-tcb-import',
  'external-dependency',
  'external-version',
  'builtin',
  'dynamic-code',
  'ambient',
  'wire-pattern',
  'cycle',
  'coverage-gate',
  'policy',
  'unused-dependency',
];

export interface Violation {
  readonly rule: RuleId;
  /** Package name (`@helm/crypto`), or `(policy)` for findings about TCB_POLICY.md itself. */
  readonly package: string;
  /** Path relative to the workspace root, with `/` separators. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
  readonly message: string;
}
