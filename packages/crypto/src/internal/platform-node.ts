// The platform primitives of the Node build (the default `#platform` target in package.json
// "imports"): SHA-256 and byte encodings through node:crypto and Buffer. platform-web.ts provides
// the same names for browsers, where neither exists; the default Ed25519 backend is switched the
// same way (`#platform-ed25519`). A leaf module: the modules it serves import it, never the reverse.
import { hash } from 'node:crypto';

export function sha256Raw(data: Uint8Array): Uint8Array {
  return new Uint8Array(hash('sha256', data, 'buffer'));
}

/** Lowercase hex SHA-256 of bytes, or of the UTF-8 encoding of a well-formed string. */
export function sha256HexOf(data: Uint8Array | string): string {
  return hash('sha256', data, 'hex');
}

const view = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export const encodeBase64Url = (b: Uint8Array): string => view(b).toString('base64url');
/**
 * Decodes leniently into `target` from `offset`, as far as it has room; the number of bytes
 * written (the caller's strict precheck and length check make it exact).
 */
export const decodeBase64UrlInto = (text: string, target: Uint8Array, offset: number): number =>
  view(target).write(text, offset, 'base64url');
export const encodeHex = (b: Uint8Array): string => view(b).toString('hex');
/** Decodes even-length lowercase hex (the caller checks the pattern first). */
export const decodeHexChecked = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
