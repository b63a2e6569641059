// Messages between the pool and its workers (structured-clone friendly). Envelopes of the exact
// shape {type, payload, signatures: [{keyid, sig}]} with string values travel packed as four
// strings (cheap to clone) and are rebuilt identically in the worker; anything else travels as is,
// so the worker's verdict is exactly what the receipts verifier says about the original value.
import type { ReceiptFailure, ReceiptSummary } from '@helm/receipts';

export interface VerifyTask {
  readonly id: number;
  /** Number of receipts in the slice. */
  readonly count: number;
  /** 4 strings per receipt (type, payload, keyid, sig); empty for receipts sent raw. */
  readonly packed: readonly string[];
  /** Receipts that are not of the packable shape: [index within the slice, value]. */
  readonly raw: readonly (readonly [number, unknown])[];
  /** Index of the slice's first receipt in the whole sequence. */
  readonly offset: number;
  /** Key set: [keyid, raw public key]. */
  readonly keys: readonly (readonly [string, Uint8Array])[];
}

/**
 * Signatures of typed envelopes (e.g. guardian decisions): each is checked with the crypto
 * package's verifyEnvelope(envelope, type, lookup) where `lookup` answers from the keys the caller
 * resolved for that envelope's key ids (the same answers its own lookup gives).
 */
export interface EnvelopeTask {
  readonly id: number;
  readonly kind: 'envelopes';
  readonly type: string;
  readonly items: readonly (readonly [envelope: unknown, keys: readonly (readonly [string, Uint8Array])[]])[];
}

/**
 * Signed ProofGraph nodes, each checked alone with checkGraphItem of @helm/proofgraph under a
 * lookup that answers by key id from `keys` (whatever the role and Lamport): the caller authorizes
 * each answer's key id for the node's role at its Lamport on its own thread.
 */
export interface NodeTask {
  readonly id: number;
  readonly kind: 'nodes';
  readonly count: number;
  /** The envelopes, packed as packSlice does. */
  readonly packed: readonly string[];
  readonly raw: readonly (readonly [number, unknown])[];
  /** Payloads of the items that carry one: [index within the task, value]. */
  readonly payloads: readonly (readonly [number, unknown])[];
  readonly keys: readonly (readonly [string, Uint8Array])[];
}

/**
 * Per node, index-aligned: on success its node hash, Lamport, parents, key id and kind (what the
 * link pass and the caller's authorization read); else `failures` holds its code and message.
 */
export interface NodeTaskResult {
  readonly id: number;
  readonly nodes: (NodeVerdict | null)[];
  readonly failures: (readonly [index: number, code: string, message: string])[];
  readonly error?: string;
}

export interface NodeVerdict {
  readonly hash: string;
  readonly lamport: number;
  readonly parents: readonly string[];
  readonly keyid: string;
  readonly kind: string;
}

/** Per envelope: null when it verifies, else verifyEnvelope's error (message, code). */
export type EnvelopeVerdict = null | { readonly message: string; readonly code?: string };

export interface EnvelopeTaskResult {
  readonly id: number;
  readonly verdicts: EnvelopeVerdict[];
  readonly error?: string;
}

export interface VerifyTaskResult {
  readonly id: number;
  readonly summaries: ReceiptSummary[];
  readonly failure?: ReceiptFailure;
  /** Set when the worker itself failed (not a verification verdict). */
  readonly error?: string;
}

function isPlain(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** True for exactly {type, payload, signatures: [{keyid, sig}]} with string values, nothing else. */
function packable(
  e: unknown,
): e is { type: string; payload: string; signatures: [{ keyid: string; sig: string }] } {
  if (!isPlain(e) || Object.keys(e).length !== 3) return false;
  if (typeof e.type !== 'string' || typeof e.payload !== 'string' || !Array.isArray(e.signatures))
    return false;
  if (e.signatures.length !== 1) return false;
  const s: unknown = e.signatures[0];
  return (
    isPlain(s) && Object.keys(s).length === 2 && typeof s.keyid === 'string' && typeof s.sig === 'string'
  );
}

/** Pack a slice for a task (the worker rebuilds it; see worker.ts). */
export function packSlice(slice: readonly unknown[]): { packed: string[]; raw: [number, unknown][] } {
  const packed: string[] = [];
  const raw: [number, unknown][] = [];
  slice.forEach((e, i) => {
    if (packable(e)) {
      const s = e.signatures[0];
      packed.push(e.type, e.payload, s.keyid, s.sig);
    } else {
      packed.push('', '', '', '');
      raw.push([i, e]);
    }
  });
  return { packed, raw };
}
