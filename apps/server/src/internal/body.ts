// Request bodies: bounded and strict. A body over the limit is refused 413 as soon as its
// declared length or its first bytes past the limit say so — never buffered whole. JSON bodies
// must say `application/json` and parse with the project's strict RFC 8259 parser (@helm/runtime
// parseJson: no duplicate keys, lone surrogates, BOM, …) and nest at most MAX_DEPTH deep.
import { parseJson } from '@helm/runtime';
import { ServeError } from './errors.js';

export const MAX_DEPTH = 64;

/** The body bytes, at most `limit` of them (TOO_LARGE past it; the stream is cancelled). */
export async function readBounded(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && (!/^[0-9]{1,15}$/.test(declared) || Number(declared) > limit))
    throw new ServeError('TOO_LARGE', `the body exceeds ${limit} bytes`);
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let next: Awaited<ReturnType<typeof reader.read>>;
    try {
      next = await reader.read();
    } catch {
      throw new ServeError('BAD_REQUEST', 'the request body could not be read (truncated?)');
    }
    if (next.done) break;
    size += next.value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new ServeError('TOO_LARGE', `the body exceeds ${limit} bytes`);
    }
    chunks.push(next.value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Depth of nesting of a parsed JSON value (iterative: a hostile value cannot blow the stack). */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (d > max) max = d;
    if (max > MAX_DEPTH) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** Nesting depth of raw JSON text, counted on brackets outside strings (before parsing it). */
function textDepth(bytes: Uint8Array): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c) i++;
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) {
      depth++;
      if (depth > max) max = depth;
      if (max > MAX_DEPTH) return max;
    } else if (b === 0x5d || b === 0x7d) depth--;
  }
  return max;
}

/** A strict JSON object body (content type application/json, at most `limit` bytes). */
export async function readJsonObject(request: Request, limit: number): Promise<Record<string, unknown>> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json')
    throw new ServeError('UNSUPPORTED_MEDIA_TYPE', 'the body must be application/json');
  const bytes = await readBounded(request, limit);
  if (textDepth(bytes) > MAX_DEPTH)
    throw new ServeError('JSON_INVALID', `JSON nests deeper than ${MAX_DEPTH}`);
  let value: unknown;
  try {
    value = parseJson(bytes, 'the request body');
  } catch (error) {
    throw new ServeError('JSON_INVALID', (error as Error).message, (error as { hint?: string }).hint);
  }
  if (depthOf(value) > MAX_DEPTH) throw new ServeError('JSON_INVALID', `JSON nests deeper than ${MAX_DEPTH}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ServeError('BAD_REQUEST', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}
