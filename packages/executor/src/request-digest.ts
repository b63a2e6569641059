// The request digest (normative: docs/spec/pipeline.md §Request digest): digest(JCS(request)) of the
// governed call's request object — the present fields among `args`, `args_text`, `context`,
// `idempotency_key`, `principal`, `tenant`, `tool`, exactly as the caller passed them and as the
// executor read them (once). Every receipt of the call carries it, so a recorded request can be
// checked against what the executor signed for.
import { digestText } from '@helm/crypto/hash';
import { canonicalize } from '@helm/crypto/jcs';
import { type PrepareArgsResult, prepareArgsValue } from './pep.js';

/** The request fields, in RFC 8785 member order (their names are ASCII, so code-unit order). */
export const REQUEST_FIELDS = [
  'args',
  'args_text',
  'context',
  'idempotency_key',
  'principal',
  'tenant',
  'tool',
] as const;

export type RequestField = (typeof REQUEST_FIELDS)[number];

export interface ReadRequest {
  /** digest(JCS(request)), or null when a present field is not representable JSON. */
  readonly request_digest: string | null;
  /**
   * `args` prepared by the PEP (canonicalized once, here): the PEP's step 3 uses exactly this, so the
   * bytes under `args_hash` are the ones under `request_digest`. Undefined when `args` is absent.
   */
  readonly args: PrepareArgsResult | undefined;
  /**
   * A fresh, deeply frozen copy of `context` parsed from the JCS bytes under `request_digest`, so
   * the guardian decides on exactly what was hashed (a getter or Proxy in the caller's object is
   * never read again); null when `context` is not representable JSON, undefined when absent.
   */
  readonly context: unknown;
}

/**
 * Canonicalize each present field once and assemble the JCS text of the request object (a member
 * is present when its value is not `undefined`). Never throws.
 */
export function readRequest(fields: Readonly<Record<RequestField, unknown>>): ReadRequest {
  let representable = true;
  let args: PrepareArgsResult | undefined;
  let context: unknown;
  const members: string[] = [];
  for (const name of REQUEST_FIELDS) {
    const value = fields[name];
    if (value === undefined) continue;
    let text: string | undefined;
    if (name === 'args') {
      args = prepareArgsValue(value);
      text = args.ok ? args.args.canonical : undefined;
    } else if (name === 'context') {
      const prepared = prepareArgsValue(value);
      text = prepared.ok ? prepared.args.canonical : undefined;
      context = prepared.ok ? prepared.args.value : null;
    } else {
      try {
        text = canonicalize(value);
      } catch {
        text = undefined;
      }
    }
    if (text === undefined) representable = false;
    else members.push(`"${name}":${text}`);
  }
  return { request_digest: representable ? digestText(`{${members.join(',')}}`) : null, args, context };
}
