// Adapter over the strict JSON parser. TODO(H2): switch to `parseStrictJson` from @helm/crypto once
// it is exported; until then JSON.parse plus a duplicate-key scan.
export type ParseResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: string };

export function parseJsonText(text: string): ParseResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, reason: 'arguments are not valid JSON text' };
  }
}
