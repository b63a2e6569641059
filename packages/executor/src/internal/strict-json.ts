// Strict parsing of argument text through @helm/crypto's RFC 8259 parser: duplicate keys, lone
// surrogates, out-of-range numbers, excessive depth/size and any grammar deviation are rejected.
import { isCryptoError } from '@helm/crypto/errors';
import { parseStrictJson } from '@helm/crypto/json';

export type ParseResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: string };

export function parseJsonText(text: string): ParseResult {
  try {
    return { ok: true, value: parseStrictJson(text) };
  } catch (error) {
    return {
      ok: false,
      reason: isCryptoError(error)
        ? `arguments are not strict JSON (${error.code})`
        : 'arguments are not strict JSON',
    };
  }
}
