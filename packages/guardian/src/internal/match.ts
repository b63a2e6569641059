// Compiled matchers of the policy language (docs/spec/policy.md §Matchers). Every operator is
// decidable in linear (or, for `glob`, O(n·m) worst-case, no backtracking blow-up) time.
import type { PolicyMatch, PolicyScalar } from '@helm/contracts/policy';

export type Matcher = (value: unknown) => boolean;

const NUMERIC_OPS = ['lt', 'lte', 'gt', 'gte'] as const;

/** `*` matches any run of characters (including none); every other character is literal. */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * `prefix` semantics: the value starts with the prefix; a prefix that ends at a `/` boundary (e.g.
 * `/data/secret/`) also covers the node itself (`/data/secret`), so a rule about a subtree cannot
 * be side-stepped by naming its root — a recursive tool given the directory acts on all of it.
 */
export function prefixMatches(prefix: string, value: string): boolean {
  return value.startsWith(prefix) || value === prefixNode(prefix);
}

/** The node a `/`-terminated prefix also covers (`/data/secret/` → `/data/secret`), or null. */
export function prefixNode(prefix: string): string | null {
  return prefix.length > 1 && prefix.endsWith('/') && !prefix.endsWith('//') ? prefix.slice(0, -1) : null;
}

function scalarEquals(a: unknown, b: PolicyScalar): boolean {
  return a === b;
}

/** Evaluate a matcher against a value (all operators present must hold). */
export function matches(match: PolicyMatch, value: unknown): boolean {
  if (match.eq !== undefined && !scalarEquals(value, match.eq)) return false;
  if (match.in !== undefined && !match.in.some((item) => scalarEquals(value, item))) return false;
  if (match.prefix !== undefined && !(typeof value === 'string' && prefixMatches(match.prefix, value)))
    return false;
  if (match.glob !== undefined && !(typeof value === 'string' && globMatch(match.glob, value))) return false;
  if (
    match.lt !== undefined ||
    match.lte !== undefined ||
    match.gt !== undefined ||
    match.gte !== undefined
  ) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return false;
    if (match.lt !== undefined && !(value < match.lt)) return false;
    if (match.lte !== undefined && !(value <= match.lte)) return false;
    if (match.gt !== undefined && !(value > match.gt)) return false;
    if (match.gte !== undefined && !(value >= match.gte)) return false;
  }
  return true;
}

/** Compile a matcher into a closure specialised for its operators (the hot path). */
export function compileMatch(match: PolicyMatch): Matcher {
  const keys = Object.keys(match);
  if (keys.length === 1) {
    if (match.eq !== undefined) {
      const expected = match.eq;
      return (value) => value === expected;
    }
    if (match.in !== undefined) {
      const set = new Set<unknown>(match.in);
      return (value) => set.has(value);
    }
    if (match.prefix !== undefined) {
      const prefix = match.prefix;
      return (value) => typeof value === 'string' && prefixMatches(prefix, value);
    }
  }
  return (value) => matches(match, value);
}

function hasNumeric(match: PolicyMatch): boolean {
  return NUMERIC_OPS.some((op) => match[op] !== undefined);
}

/** The finite candidate set of a matcher (eq / in), or undefined when it is not finite. */
export function finiteValues(match: PolicyMatch): readonly PolicyScalar[] | undefined {
  if (match.eq !== undefined) return [match.eq];
  if (match.in !== undefined) return match.in;
  return undefined;
}

/**
 * Why a matcher can never match, or null when some value may satisfy it. Decides exactly for
 * finite sets and numeric ranges; string operators combined with numeric ones are contradictory.
 */
export function neverMatchReason(match: PolicyMatch): string | null {
  const finite = finiteValues(match);
  if (finite !== undefined) {
    if (finite.length === 0) return 'empty `in` set';
    if (!finite.some((v) => matches(match, v))) return 'no listed value satisfies every operator';
    return null;
  }
  const stringOps = match.prefix !== undefined || match.glob !== undefined;
  if (stringOps && hasNumeric(match)) return 'string and numeric operators can never both hold';
  if (hasNumeric(match)) {
    const lo = Math.max(match.gt ?? -Infinity, match.gte ?? -Infinity);
    const hi = Math.min(match.lt ?? Infinity, match.lte ?? Infinity);
    const loStrict = match.gt !== undefined && match.gt >= (match.gte ?? -Infinity);
    const hiStrict = match.lt !== undefined && match.lt <= (match.lte ?? Infinity);
    if (lo > hi || (lo === hi && (loStrict || hiStrict))) return 'empty numeric range';
  }
  if (match.prefix !== undefined && match.glob !== undefined) {
    const literal = match.glob.split('*')[0] ?? '';
    if (!literal.startsWith(match.prefix) && !match.prefix.startsWith(literal)) {
      return '`prefix` and the literal head of `glob` disagree';
    }
  }
  return null;
}

/** The literal head of a string matcher (everything before the first glob star / the prefix). */
function literalHead(match: PolicyMatch): string | undefined {
  if (match.prefix !== undefined) return match.prefix;
  if (match.glob !== undefined) return match.glob.split('*')[0] ?? '';
  return undefined;
}

/**
 * Conservative overlap: false only when no value can satisfy both matchers (sound for conflict
 * reporting and for the delegation subset check; may report overlap where there is none).
 */
export function mayOverlap(a: PolicyMatch | undefined, b: PolicyMatch | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  const fa = finiteValues(a);
  if (fa !== undefined) return fa.some((v) => matches(a, v) && matches(b, v));
  const fb = finiteValues(b);
  if (fb !== undefined) return fb.some((v) => matches(a, v) && matches(b, v));
  const numA = hasNumeric(a);
  const numB = hasNumeric(b);
  if (numA && numB) {
    return neverMatchReason(mergeNumeric(a, b)) === null;
  }
  const ha = literalHead(a);
  const hb = literalHead(b);
  if ((ha !== undefined && numB) || (hb !== undefined && numA)) return false;
  if (ha !== undefined && hb !== undefined) return ha.startsWith(hb) || hb.startsWith(ha);
  return true;
}

function mergeNumeric(a: PolicyMatch, b: PolicyMatch): PolicyMatch {
  const out: Record<string, number> = {};
  for (const op of NUMERIC_OPS) {
    const va = a[op];
    const vb = b[op];
    if (va === undefined && vb === undefined) continue;
    if (va === undefined) out[op] = vb as number;
    else if (vb === undefined) out[op] = va;
    else out[op] = op === 'lt' || op === 'lte' ? Math.min(va, vb) : Math.max(va, vb);
  }
  return out;
}

/**
 * Conservative cover: true only when every value `inner` accepts is accepted by `outer`
 * (`outer` undefined = unconstrained). Used to prove delegation grants ⊆ authority.
 */
export function covers(outer: PolicyMatch | undefined, inner: PolicyMatch | undefined): boolean {
  if (outer === undefined) return true;
  if (inner === undefined) return false;
  const fi = finiteValues(inner);
  if (fi !== undefined) return fi.filter((v) => matches(inner, v)).every((v) => matches(outer, v));
  const outerKeys = Object.keys(outer);
  // An inner prefix also accepts its node (`/a/b/` accepts `/a/b`): the outer matcher must too.
  const innerNode = inner.prefix === undefined ? null : prefixNode(inner.prefix);
  if (outerKeys.length === 1 && outer.prefix !== undefined) {
    const head = literalHead(inner);
    return (
      head?.startsWith(outer.prefix) === true &&
      (innerNode === null || prefixMatches(outer.prefix, innerNode))
    );
  }
  if (outerKeys.length === 1 && outer.glob !== undefined && inner.prefix !== undefined) {
    // A glob `<literal>*` (single trailing star) covers any prefix that starts with the literal.
    const g = outer.glob;
    const literal = g.slice(0, -1);
    return (
      g.endsWith('*') &&
      g.indexOf('*') === g.length - 1 &&
      inner.prefix.startsWith(literal) &&
      (innerNode === null || innerNode.startsWith(literal))
    );
  }
  if (outerKeys.length === 1 && outer.glob !== undefined && inner.glob !== undefined) {
    return outer.glob === inner.glob;
  }
  return false;
}
