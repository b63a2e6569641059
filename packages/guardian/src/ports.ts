// Ports: everything the guardian needs from the world is injected. In-memory deterministic
// implementations live in this package; persistent ones live outside the TCB.

/** Injected clock: integer Unix epoch milliseconds. The guardian never reads ambient time. */
export interface Clock {
  now(): number;
}

/** A clock that returns a settable value (tests, replay, embedding). */
export class ManualClock implements Clock {
  private current: number;
  constructor(startMs: number) {
    this.current = startMs;
  }
  now(): number {
    return this.current;
  }
  set(ms: number): void {
    this.current = ms;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** ProofGraph node kinds the guardian emits (wired to @helm/proofgraph by the application). */
export type GuardianEventKind = 'ATTESTATION' | 'TRUST_EVENT';

export interface GuardianEvent {
  readonly kind: GuardianEventKind;
  /** Dotted event name, e.g. `delegation.created`, `approval.recorded`, `freeze.engaged`. */
  readonly event: string;
  /** The subject id (session id, challenge id, freeze event id, …). */
  readonly subject: string;
  readonly at_ms: number;
  /** JSON payload (the signed envelope or a small description). */
  readonly payload: Readonly<Record<string, unknown>>;
}

export interface EventSink {
  emit(event: GuardianEvent): void;
}

/**
 * An authorized key with its rotation lineage: the key id of the first key of its rotation chain
 * (the key itself when it was never rotated into). Every key reached from one key by `key_rotate`
 * shares its lineage, so a quorum counts them as one approver.
 */
export interface AuthorizedKey {
  readonly publicKey: Uint8Array;
  readonly lineage: string;
}

/**
 * Key authorization: the raw Ed25519 public key for `keyId` — or the key with its rotation
 * lineage — if that key is authorized for `role` at the current registry height, otherwise
 * undefined. (@helm/trust provides the registry.) A bare public key is its own lineage: a port
 * backed by a registry with rotations must return the lineage, or a rotated key counts twice.
 */
export type KeyAuthorization = (keyId: string, role: string) => Uint8Array | AuthorizedKey | undefined;
