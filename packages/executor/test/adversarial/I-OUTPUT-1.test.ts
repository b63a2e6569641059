// I-OUTPUT-1 — a released output is exactly what its receipt's output_hash covers, and nobody
// holding a reference (the caller, the driver that produced it) can change what later repeats
// release under the original receipt.
import { canonicalBytes, digest } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { descriptorDigest, type ExecuteRequest, functionDriver } from '../../src/index.ts';
import { aliceContext, body, build, readTool } from '../helpers/world.ts';

const READ: ExecuteRequest = {
  tool: 'files.read',
  principal: 'alice',
  args: { path: '/data/report.csv' },
  idempotency_key: 'read-1',
  context: aliceContext(),
};

function deepFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  return Object.isFrozen(value) && Object.values(value).every(deepFrozen);
}

describe('I-OUTPUT-1: released outputs cannot be changed after the fact', () => {
  it('the caller cannot edit the released output, and repeats release the original', async () => {
    const w = build();
    const first = await w.executor.execute(READ);
    expect(deepFrozen(first.output)).toBe(true);
    expect(() => {
      (first.output as { text: string }).text = 'edited';
    }).toThrow(TypeError);
    const again = await w.executor.execute(READ);
    expect(again.output).toEqual({ text: 'contents of /data/report.csv' });
    expect(body<{ output_hash: string }>(again.receipt!).output_hash).toBe(
      digest(canonicalBytes({ text: 'contents of /data/report.csv' })),
    );
  });

  it('a driver that keeps and later edits the object it returned changes nothing released', async () => {
    const w = build();
    const kept: { text: string; nested: { n: number } }[] = [];
    const tool = {
      ...readTool,
      output_schema: {
        type: 'object',
        additionalProperties: false,
        required: ['text', 'nested'],
        properties: { text: { type: 'string' }, nested: { type: 'object' } },
      },
    };
    w.executor.repinTool(
      tool,
      descriptorDigest(tool),
      functionDriver(() => {
        const out = { text: 'original', nested: { n: 1 } };
        kept.push(out);
        return out;
      }),
    );
    const first = await w.executor.execute(READ);
    kept[0]!.text = 'tampered';
    kept[0]!.nested.n = 2;
    expect(first.output).toEqual({ text: 'original', nested: { n: 1 } });
    const again = await w.executor.execute(READ);
    expect(again.reason_code).toBe('IDEMPOTENT_REPLAY');
    expect(again.output).toEqual({ text: 'original', nested: { n: 1 } });
    expect(deepFrozen(again.output)).toBe(true);
  });
});
