// The event-sourced key registry: every event is verified (signature, hash link, sequence number,
// authorization) before it is applied; nothing unsigned or unauthorized is ever applied. Heights are
// registry sequence numbers (genesis = 1, +1 per event): a key's validity is an interval of them,
// and every state the registry went through is named by its sequence number and head digest.
// Normative: docs/spec/trust-event.md.
import type { SignedEnvelope } from '@helm/contracts/envelope';
import {
  TRUST_EVENT_TYPE,
  TRUST_GENESIS_PREV,
  TRUST_ROLES,
  type TrustEvent,
  type TrustRole,
  type TrustState,
} from '@helm/contracts/trust-event';
import type { RoleKeyLookup } from '@helm/contracts/wire';
import { fromBase64Url } from '@helm/crypto/encoding';
import {
  type EnvelopeBody,
  type PublicKeyLookup,
  type VerifiedEnvelope,
  verifyEnvelope,
} from '@helm/crypto/envelope';
import type { CryptoErrorCode } from '@helm/crypto/errors';
import { type KeyValidityCode, TrustError } from '../errors.js';
import { decodeKeyRef, parseTrustEvent, trustEventDigest } from './event.js';
import { applyEvent, applyGenesis, RegistryState } from './state.js';

/** Answer of `keyValidFor`: the public key, or the stable reason it may not be used. */
export type KeyValidity =
  | { readonly ok: true; readonly keyid: string; readonly publicKey: Uint8Array }
  | { readonly ok: false; readonly code: KeyValidityCode };

/** The answer of `verifyEnvelopeAt`: the verified envelope, or why the registry or the envelope refuses it. */
export type RegistryEnvelopeCheck<T> =
  | ({ readonly ok: true } & VerifiedEnvelope<T>)
  | { readonly ok: false; readonly code: KeyValidityCode | CryptoErrorCode; readonly message: string };

/**
 * Registry role for a caller's role name: registry roles map to themselves, the ProofGraph's
 * `checkpoint-signer` to `checkpoint` and the receipt chain's `receipt-signer` to `executor`;
 * anything else is unmapped (undefined, never satisfied).
 */
export function defaultRoleMapping(role: string): TrustRole | undefined {
  if ((TRUST_ROLES as readonly string[]).includes(role)) return role as TrustRole;
  if (role === 'checkpoint-signer') return 'checkpoint';
  if (role === 'receipt-signer') return 'executor';
  return undefined;
}

export interface RegistryLoadOptions {
  /** The trust anchor: digest of the genesis envelope (`trustEventDigest`) this history must start from. */
  readonly genesis: string;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function decodeUnverified(envelope: SignedEnvelope): TrustEvent {
  if (typeof envelope !== 'object' || envelope === null || envelope.type !== TRUST_EVENT_TYPE) {
    throw new TrustError('TRUST_EVENT_MALFORMED', `not a ${TRUST_EVENT_TYPE} envelope`);
  }
  const payload = typeof envelope.payload === 'string' ? fromBase64Url(envelope.payload) : undefined;
  if (!payload || !Array.isArray(envelope.signatures)) {
    throw new TrustError('TRUST_EVENT_MALFORMED', 'envelope payload or signatures malformed');
  }
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(payload));
  } catch {
    throw new TrustError('TRUST_EVENT_MALFORMED', 'payload is not UTF-8 JSON');
  }
  return parseTrustEvent(body);
}

function verifySignatures(envelope: SignedEnvelope, lookup: PublicKeyLookup): VerifiedEnvelope<EnvelopeBody> {
  const check = verifyEnvelope(envelope, TRUST_EVENT_TYPE, lookup);
  if (check.ok) return check;
  if (check.code === 'ENVELOPE_KEY_UNKNOWN') throw new TrustError('TRUST_KEY_UNKNOWN', check.message);
  if (check.code === 'ENVELOPE_SIGNATURE_INVALID') {
    throw new TrustError('TRUST_EVENT_SIGNATURE_INVALID', check.message);
  }
  throw new TrustError('TRUST_EVENT_MALFORMED', check.message);
}

function isSeq(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 1;
}

/**
 * The sequence number the event after `head` must carry. Heights are bounded by construction: the
 * only height an event can take is head + 1. The last one is 2^53 − 1 (`Number.MAX_SAFE_INTEGER`,
 * the largest integer every JSON consumer reads exactly); after it the registry accepts nothing
 * (`TRUST_SEQUENCE_INVALID`). Reaching it takes that many accepted events, one at a time — no
 * event can bring it closer by more than one.
 */
export function nextSeq(head: number): number {
  if (!isSeq(head) || head >= Number.MAX_SAFE_INTEGER) {
    throw new TrustError('TRUST_SEQUENCE_INVALID', `no sequence number follows ${head}`);
  }
  return head + 1;
}

/**
 * The event-sourced trust registry (docs/spec/trust-event.md): a verified history from an anchored
 * genesis, answering which key is valid for which role at each sequence number.
 *
 * @example
 * ```ts
 * import type { SignedEnvelope } from '@helm/contracts/envelope';
 * import { TrustRegistry } from '@helm/trust/verify';
 * import { verifyReceiptChain } from '@helm/receipts/verify';
 *
 * declare const events: readonly SignedEnvelope[]; // the registry history, genesis first
 * declare const anchor: string; // trustEventDigest(genesis) you pinned out of band
 * declare const receipts: readonly unknown[];
 * const registry = TrustRegistry.load(events, { genesis: anchor }); // throws TrustError / CryptoError
 * const result = verifyReceiptChain(receipts, { keys: registry.keyLookup() });
 * console.log(registry.seq, registry.head, result.ok);
 * ```
 */
export class TrustRegistry {
  private readonly state = new RegistryState();
  // The verified history: the envelope and event digest of event `seq` at index seq − 1. Nothing
  // else is kept per event — a past state is a projection of the current one (RegistryState).
  private readonly envelopes: SignedEnvelope[] = [];
  private readonly digests: string[] = [];

  private constructor() {}

  /** Verify a whole history from genesis (anchored by `options.genesis`) and return the registry. */
  static load(events: readonly SignedEnvelope[], options: RegistryLoadOptions): TrustRegistry {
    const first = events[0];
    if (first === undefined) throw new TrustError('TRUST_GENESIS_INVALID', 'empty history');
    const registry = new TrustRegistry();
    registry.applyGenesisEnvelope(first, options.genesis);
    for (let i = 1; i < events.length; i++) registry.append(events[i] as SignedEnvelope);
    return registry;
  }

  /** Start a registry from a genesis envelope you trust (it becomes the anchor). */
  static fromGenesis(genesis: SignedEnvelope): TrustRegistry {
    return TrustRegistry.load([genesis], { genesis: trustEventDigest(genesis) });
  }

  private applyGenesisEnvelope(envelope: SignedEnvelope, anchor: string): void {
    const event = decodeUnverified(envelope);
    if (event.kind !== 'genesis' || event.seq !== 1 || event.prev !== TRUST_GENESIS_PREV) {
      throw new TrustError(
        'TRUST_GENESIS_INVALID',
        'the history must start with a genesis event (seq 1, zero prev)',
      );
    }
    const d = trustEventDigest(envelope);
    if (d !== anchor)
      throw new TrustError('TRUST_ANCHOR_MISMATCH', `genesis ${d} is not the trusted anchor ${anchor}`);
    const keys = new Map(event.root_keys.map((ref) => [ref.keyid, decodeKeyRef(ref, 'root_keys')]));
    const verified = verifySignatures(envelope, (keyid) => keys.get(keyid));
    applyGenesis(this.state, event, verified.keyIds, d);
    this.envelopes.push(envelope);
    this.digests.push(d);
  }

  /** Verify one event against the current head and apply it. Throws TrustError and leaves the state unchanged. */
  append(envelope: SignedEnvelope): void {
    const event = decodeUnverified(envelope);
    const d = trustEventDigest(envelope);
    // An event already applied carries the seq it was applied at, so it is the one recorded there.
    if (event.seq <= this.state.seq && this.digests[event.seq - 1] === d)
      throw new TrustError('TRUST_EVENT_DUPLICATE', `event ${d} is already in the history`);
    if (event.kind === 'genesis') throw new TrustError('TRUST_GENESIS_INVALID', 'a second genesis event');
    if (event.registry !== this.state.registry) {
      throw new TrustError('TRUST_CHAIN_BROKEN', `event belongs to registry ${event.registry}`);
    }
    if (event.prev !== this.state.head) {
      throw new TrustError('TRUST_CHAIN_BROKEN', `prev ${event.prev} is not the head ${this.state.head}`);
    }
    if (event.seq !== nextSeq(this.state.seq)) {
      throw new TrustError('TRUST_SEQUENCE_INVALID', `seq ${event.seq} after ${this.state.seq}`);
    }
    const subject =
      event.kind === 'key_publish' ? event.key : event.kind === 'key_rotate' ? event.new_key : undefined;
    const subjectKey = subject ? decodeKeyRef(subject, 'subject') : undefined;
    const verified = verifySignatures(envelope, (keyid) =>
      subject && keyid === subject.keyid && !this.state.keys.has(keyid)
        ? subjectKey
        : this.state.keys.get(keyid)?.publicKey,
    );
    applyEvent(this.state, event, verified.keyIds, d);
    this.envelopes.push(envelope);
    this.digests.push(d);
  }

  get registryName(): string {
    return this.state.registry;
  }
  /** digest of the genesis envelope (the anchor). */
  get genesis(): string {
    return this.state.genesis;
  }
  /** digest of the last applied envelope. */
  get head(): string {
    return this.state.head;
  }
  /** Sequence number of the head: the number of events applied (genesis = 1). */
  get seq(): number {
    return this.state.seq;
  }
  get rootThreshold(): number {
    return this.state.threshold;
  }

  /** The verified history, genesis first. */
  events(): readonly SignedEnvelope[] {
    return [...this.envelopes];
  }

  /** The sequence number `seq` itself when the registry has reached it (1 ≤ seq ≤ head), else a throw. */
  private known(seq: number): number {
    if (!isSeq(seq) || seq > this.state.seq) {
      throw new TrustError(
        'TRUST_SEQUENCE_INVALID',
        `seq ${seq} is not a state of this registry (1..${this.state.seq})`,
      );
    }
    return seq;
  }

  /** Canonical `helm.trust.state.v1` after the events 1..`seq` (default: the head). */
  stateAt(seq?: number): TrustState {
    const at = seq === undefined ? this.state.seq : this.known(seq);
    return this.state.toCanonical(at, this.digests[at - 1] as string);
  }

  /** digest(JCS(stateAt(seq))), computed from the state without a replay (see RegistryState). */
  stateHash(seq?: number): string {
    const at = seq === undefined ? this.state.seq : this.known(seq);
    return this.state.stateHash(at, this.digests[at - 1] as string);
  }

  /**
   * The registry head digest at sequence number `seq` — the event digest (`trustEventDigest`) of
   * event `seq` — or undefined when the registry has not reached `seq` (or it is not a sequence
   * number). A receipt's `trust_head` must equal `headAt(trust_seq)`.
   */
  headAt(seq: number): string | undefined {
    return isSeq(seq) && seq <= this.state.seq ? this.digests[seq - 1] : undefined;
  }

  /**
   * Was `keyid` valid and did it hold `role` in the registry state at sequence number `seq`? Valid
   * over [published_at, revoked_at); a role over [granted_at, revoked_at) — all sequence numbers.
   * A `seq` the registry has not reached (beyond the head) is a state it cannot answer for:
   * TRUST_KEY_UNKNOWN, like a key it does not know. Never answers yes by default.
   */
  keyValidFor(keyid: string, role: TrustRole | string, seq: number): KeyValidity {
    const entry = this.state.keys.get(keyid);
    if (!entry || !isSeq(seq) || seq > this.state.seq || seq < entry.published_at)
      return { ok: false, code: 'TRUST_KEY_UNKNOWN' };
    if (entry.revoked_at !== null && seq >= entry.revoked_at) return { ok: false, code: 'TRUST_KEY_REVOKED' };
    const held = entry.roles.some(
      (r) => r.role === role && r.granted_at <= seq && (r.revoked_at === null || seq < r.revoked_at),
    );
    if (!held) return { ok: false, code: 'TRUST_ROLE_MISSING' };
    return { ok: true, keyid, publicKey: Uint8Array.from(entry.publicKey) };
  }

  /**
   * `(keyid, role, seq) => publicKey | undefined` for verifiers that take a lookup callback.
   * `mapRole` translates the caller's role names onto registry roles (default: `defaultRoleMapping`);
   * a role it does not map is never satisfied.
   */
  keyLookup(mapRole: (role: string) => TrustRole | undefined = defaultRoleMapping): RoleKeyLookup {
    return (keyid, role, seq) => {
      const mapped = mapRole(role);
      if (mapped === undefined) return undefined;
      const answer = this.keyValidFor(keyid, mapped, seq);
      return answer.ok ? answer.publicKey : undefined;
    };
  }

  /**
   * `(keyid, role) => publicKey | undefined` evaluated at the registry head *at call time* (later
   * appends are seen) — the "authorized now" port of the guardian's approval code.
   */
  keyAuthorization(
    mapRole: (role: string) => TrustRole | undefined = defaultRoleMapping,
  ): (keyid: string, role: string) => Uint8Array | undefined {
    const lookup = this.keyLookup(mapRole);
    return (keyid, role) => lookup(keyid, role, this.state.seq);
  }

  /** A `PublicKeyLookup` (for `verifyEnvelope`) that resolves only keys holding `role` at `seq`. */
  lookupFor(role: TrustRole | string, seq: number): PublicKeyLookup {
    const lookup = this.keyLookup();
    return (keyid) => lookup(keyid, role, seq);
  }

  /**
   * Verify an envelope signed by keys that must hold `role` at sequence number `seq`. Never throws
   * on its input: a signer the registry does not accept there fails with its KeyValidityCode
   * (TRUST_KEY_UNKNOWN / TRUST_KEY_REVOKED / TRUST_ROLE_MISSING), anything else with the
   * CryptoErrorCode of `verifyEnvelope`.
   */
  verifyEnvelopeAt<T extends EnvelopeBody = EnvelopeBody>(
    envelope: SignedEnvelope,
    expectedType: string,
    role: TrustRole | string,
    seq: number,
  ): RegistryEnvelopeCheck<T> {
    if (Array.isArray(envelope?.signatures)) {
      for (const signature of envelope.signatures) {
        const answer = this.keyValidFor(signature?.keyid, role, seq);
        if (!answer.ok)
          return {
            ok: false,
            code: answer.code,
            message: `${signature?.keyid} at seq ${seq}: ${answer.code}`,
          };
      }
    }
    return verifyEnvelope<T>(envelope, expectedType, this.lookupFor(role, seq));
  }
}
