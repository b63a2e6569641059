import { describe, expect, it } from 'vitest';
import { harness, request } from './fixtures.ts';

describe('smoke', () => {
  it('allows a plain read', () => {
    const { guardian } = harness();
    const r = guardian.evaluate(request());
    expect(r.record.reason_code).toBe('ALLOW');
    expect(r.intent).not.toBeNull();
  });
});
