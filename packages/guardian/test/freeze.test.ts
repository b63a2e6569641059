// Gate 0: the kill switch, and its signed, hash-linked event log.
import { openVerifiedEnvelope } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { FREEZE_EVENT_TYPE, type FreezeEvent } from '../src/index.ts';
import { harness, request } from './fixtures.ts';

describe('freeze switch', () => {
  it('freezing and unfreezing are signed, linked, emitted events', () => {
    const { guardian, sink, clock } = harness();
    const sw = guardian.freezeSwitch!;
    expect(sw.frozen).toBe(false);
    const e1 = sw.freeze('ops@example', 'suspicious activity');
    clock.advance(10);
    const e2 = sw.unfreeze('ops@example', 'cleared');
    const b1 = openVerifiedEnvelope(e1, FREEZE_EVENT_TYPE, guardian.publicKeys)
      .body as unknown as FreezeEvent;
    const b2 = openVerifiedEnvelope(e2, FREEZE_EVENT_TYPE, guardian.publicKeys)
      .body as unknown as FreezeEvent;
    expect(b1).toMatchObject({ action: 'freeze', seq: 0, prev: null });
    expect(b2).toMatchObject({ action: 'unfreeze', seq: 1, prev: b1.event_id });
    expect(sw.events()).toEqual([e1, e2]);
    expect(sink.events.filter((e) => e.event.startsWith('freeze.')).map((e) => e.event)).toEqual([
      'freeze.engaged',
      'freeze.released',
    ]);
    expect(guardian.evaluate(request()).record.reason_code).toBe('ALLOW');
  });

  it('requires an actor and a reason', () => {
    const { guardian } = harness();
    expect(() => guardian.freezeSwitch!.freeze('', 'x')).toThrow(/actor/);
    expect(() => guardian.freezeSwitch!.freeze('a', '')).toThrow(/reason/);
    expect(guardian.freezeSwitch!.frozen).toBe(false);
  });
});
