// The request, read (docs/spec/pipeline.md §Request). Every request field is read exactly once: a
// getter (or Proxy) that answers differently on a second read cannot make the call checked differ
// from the call executed or receipted. Only a request that cannot even be attributed (no
// principal, no tool name) throws; everything later ends in a receipt.
import { ExecutorError } from '../../errors.js';
import type { ExecuteRequest } from '../../executor.js';
import { readRequest } from '../../request-digest.js';
import { describeThrown } from '../describe-error.js';
import { type CallState, UNKNOWN_EFFECT_CLASS } from './call.js';

interface RequestFields {
  principal: unknown;
  tool: unknown;
  tenant: unknown;
  args: unknown;
  args_text: unknown;
  idempotency_key: unknown;
  context: unknown;
}

function readFields(request: ExecuteRequest): RequestFields {
  if (typeof request !== 'object' || request === null) {
    throw new ExecutorError('REQUEST_INVALID', 'request must be an object');
  }
  try {
    const { principal, tool, tenant, args, args_text, idempotency_key, context } = request;
    return { principal, tool, tenant, args, args_text, idempotency_key, context };
  } catch (error) {
    throw new ExecutorError('REQUEST_INVALID', `request is unreadable: ${describeThrown(error)}`);
  }
}

/** The initial state of a call; throws ExecutorError REQUEST_INVALID for an unattributable request. */
export function readCall(request: ExecuteRequest): CallState {
  const fields = readFields(request);
  if (typeof fields.principal !== 'string' || fields.principal.length === 0) {
    throw new ExecutorError('REQUEST_INVALID', 'request.principal must be a non-empty string');
  }
  if (typeof fields.tool !== 'string' || fields.tool.length === 0) {
    throw new ExecutorError('REQUEST_INVALID', 'request.tool must be a non-empty string');
  }
  if (!(fields.tenant === undefined || fields.tenant === null || typeof fields.tenant === 'string')) {
    throw new ExecutorError('REQUEST_INVALID', 'request.tenant must be a string or null');
  }
  const key = fields.idempotency_key;
  if (!(key === undefined || key === null || (typeof key === 'string' && key.length > 0))) {
    throw new ExecutorError('REQUEST_INVALID', 'request.idempotency_key must be a non-empty string');
  }
  // The request object every receipt of the call commits to (request_digest), from the values
  // just read; `args` is canonicalized here, once, and the PEP uses exactly those bytes.
  const read = readRequest(fields);
  return {
    principal: fields.principal,
    tenant: typeof fields.tenant === 'string' ? fields.tenant : null,
    tool: fields.tool,
    args: fields.args,
    args_text: fields.args_text,
    client_key: typeof key === 'string' ? key : null,
    // The guardian sees the canonical copy that request_digest covers (null if unrepresentable:
    // the guardian then denies), never the caller's object again.
    context: read.context,
    request_digest: read.request_digest,
    args_prepared: read.args,
    effect_class: UNKNOWN_EFFECT_CLASS,
    args_hash: null,
    effect_id: null,
    idempotency_key: null,
    evaluation: null,
    evidence: {},
    admission_id: null,
    driver: 'not-invoked',
  };
}
