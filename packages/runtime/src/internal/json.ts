// Strict JSON for everything the CLI parses (invariant I-INPUT-1): tool descriptors, policies and
// every file of the data directory go through @helm/crypto's RFC 8259 parser, which refuses
// duplicate keys, lone surrogates, invalid UTF-8, a BOM, comments, trailing commas, NaN … that
// JSON.parse would accept or silently collapse. A refusal is a RuntimeError JSON_INVALID (exit 2).
// (`helmts run --args` text is not parsed here: it goes to the executor unchanged as `args_text`,
// whose strict PEP refuses it with a receipted ARGS_MALFORMED denial.)
import { existsSync, readFileSync } from 'node:fs';
import { parseStrictJson } from '@helm/crypto';
import { RuntimeError } from '../errors.js';

export const STRICT_JSON_HINT =
  'JSON must be strict RFC 8259 UTF-8: no duplicate keys, no lone surrogates, no BOM, comments or trailing commas';

/** Parse `input` strictly; `what` names it in the error. */
export function parseJson(input: string | Uint8Array, what: string): unknown {
  try {
    return parseStrictJson(input);
  } catch (error) {
    // parseStrictJson throws CryptoErrors: JSON_DUPLICATE_KEY, JSON_LONE_SURROGATE, JSON_PARSE_ERROR, …
    const { code, message } = error as { code?: string; message?: string };
    throw new RuntimeError(
      'JSON_INVALID',
      `${what} is not strict JSON (${code}: ${message})`,
      STRICT_JSON_HINT,
    );
  }
}

/** Whether `text` is well-formed UTF-16 (no lone surrogate), i.e. representable as UTF-8. */
export function isWellFormedText(text: string): boolean {
  return !/\p{Cs}/u.test(text);
}

/** Read and strictly parse the JSON file at `path` (FILE_NOT_FOUND if it is missing). */
export function readJsonFile(path: string): unknown {
  if (!existsSync(path)) throw new RuntimeError('FILE_NOT_FOUND', `no such file: ${path}`);
  return parseJson(new Uint8Array(readFileSync(path)), path);
}
