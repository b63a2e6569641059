// Gate 0 — the kill switch. Freezing and unfreezing are themselves recorded as signed,
// hash-linked `helm.freeze.v1` events (docs/spec/decision.md §Freeze events).
import type { SignedEnvelope } from '@helm/contracts/envelope';
import type { Signer } from '@helm/crypto/ed25519';
import { signEnvelope } from '@helm/crypto/envelope-sign';
import { digest } from '@helm/crypto/hash';
import { canonicalBytes } from '@helm/crypto/jcs';
import { GuardianError } from './errors.js';
import type { Clock, EventSink } from './ports.js';

export const FREEZE_EVENT_TYPE = 'helm.freeze.v1';

export interface FreezeEvent {
  readonly type: typeof FREEZE_EVENT_TYPE;
  readonly event_id: string;
  readonly action: 'freeze' | 'unfreeze';
  readonly actor: string;
  readonly reason: string;
  readonly at_ms: number;
  readonly seq: number;
  /** event_id of the previous freeze event, or null for the first. */
  readonly prev: string | null;
}

export class FreezeSwitch {
  private frozenState: boolean;
  private readonly log: SignedEnvelope[] = [];
  private last: string | null = null;
  private readonly clock: Clock;
  private readonly signer: Signer;
  private readonly sink: EventSink | undefined;

  constructor(options: { clock: Clock; signer: Signer; sink?: EventSink; initiallyFrozen?: boolean }) {
    this.clock = options.clock;
    this.signer = options.signer;
    this.sink = options.sink;
    this.frozenState = options.initiallyFrozen === true;
  }

  get frozen(): boolean {
    return this.frozenState;
  }

  /** Signed freeze / unfreeze events, oldest first. */
  events(): readonly SignedEnvelope[] {
    return this.log;
  }

  private record(action: 'freeze' | 'unfreeze', actor: string, reason: string): SignedEnvelope {
    if (
      typeof actor !== 'string' ||
      actor.length === 0 ||
      typeof reason !== 'string' ||
      reason.length === 0
    ) {
      throw new GuardianError('CONFIG_INVALID', 'freeze events need an actor and a reason');
    }
    const body = {
      type: FREEZE_EVENT_TYPE,
      action,
      actor,
      reason,
      at_ms: this.clock.now(),
      seq: this.log.length,
      prev: this.last,
    };
    const event_id = digest(canonicalBytes(body));
    const envelope = signEnvelope({ ...body, event_id }, [this.signer]);
    this.log.push(envelope);
    this.last = event_id;
    this.frozenState = action === 'freeze';
    this.sink?.emit({
      kind: 'TRUST_EVENT',
      event: action === 'freeze' ? 'freeze.engaged' : 'freeze.released',
      subject: event_id,
      at_ms: body.at_ms,
      payload: { envelope },
    });
    return envelope;
  }

  freeze(actor: string, reason: string): SignedEnvelope {
    return this.record('freeze', actor, reason);
  }

  unfreeze(actor: string, reason: string): SignedEnvelope {
    return this.record('unfreeze', actor, reason);
  }
}
