// Field-level differences between two JSON values, for `replay --reexecute`: which members of a
// receipt changed, by JSON Pointer (RFC 6901), instead of printing both receipts whole.

export interface FieldDifference {
  /** JSON Pointer of the member ("" = the whole value). */
  readonly path: string;
  /** undefined: the member is absent on that side. */
  readonly recorded: unknown;
  readonly replayed: unknown;
}

const pointerToken = (key: string): string => key.replaceAll('~', '~0').replaceAll('/', '~1');

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** The differing leaves of `recorded` and `replayed`, in key order, at most `limit` of them. */
export function jsonDiff(recorded: unknown, replayed: unknown, limit = 50): FieldDifference[] {
  const out: FieldDifference[] = [];
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (out.length >= limit) return;
    if (isObject(a) && isObject(b)) {
      for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
        walk(
          Object.hasOwn(a, key) ? a[key] : undefined,
          Object.hasOwn(b, key) ? b[key] : undefined,
          `${path}/${pointerToken(key)}`,
        );
      }
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = 0; i < Math.max(a.length, b.length); i++) walk(a[i], b[i], `${path}/${i}`);
      return;
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ path, recorded: a, replayed: b });
  };
  walk(recorded, replayed, '');
  return out;
}

/** One difference as a line: `/status: "SUCCEEDED" → "FAILED"`. */
export function formatDifference(d: FieldDifference): string {
  const show = (v: unknown): string => {
    if (v === undefined) return '(absent)';
    const text = JSON.stringify(v);
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
  };
  return `${d.path || '(whole value)'}: recorded ${show(d.recorded)} → replayed ${show(d.replayed)}`;
}
