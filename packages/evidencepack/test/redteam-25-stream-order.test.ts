// Red team: streamed export (writeEvidencePackFile) must write the same bytes as the in-memory
// export (buildEvidencePack) — docs/spec/evidencepack.md §6, and the reader accepts exactly the
// writer's bytes (I-EVIDENCE-3). Attacker: a data-directory / database writer whose rows reach the
// export input (requests and node bodies are not range-checked as integers by either exporter).
// stream-export.ts orders requests/ and proofgraph/nodes/ by the numeric Lamport (Records.order,
// a Float64 key), while buildEvidencePack orders every entry by its path (writeTar). For Lamport
// values whose 12-character name does not sort like the number (1.5 vs 10; -19 vs -12), the two
// exports file the entries in different orders: different archives, and the streamed archive is
// not even in the reader's path order.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { buildEvidencePack, type PackInput, writeEvidencePackFile } from '../src/index.ts';
import { buildWorld, executor } from './fixtures/world.ts';

const dir = mkdtempSync(join(tmpdir(), 'helm-rt25-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('I-EVIDENCE-3 streamed export equals in-memory export for any request Lamport it accepts', () => {
  const world = buildWorld(3, 'rt25-stream-order');
  const input: PackInput = {
    ...world.input,
    requests: [
      { lamport: 10, body: { request: { tool: 'a' }, clock_ms: 1 } },
      { lamport: 1.5, body: { request: { tool: 'b' }, clock_ms: 2 } },
    ],
  };
  let memory: Uint8Array | undefined;
  let memoryError: unknown;
  try {
    memory = buildEvidencePack(input, executor).bytes;
  } catch (e) {
    memoryError = e;
  }
  const file = join(dir, 'p.tar');
  let streamed: Uint8Array | undefined;
  let streamError: unknown;
  try {
    writeEvidencePackFile(input, executor, file);
    streamed = new Uint8Array(readFileSync(file));
  } catch (e) {
    streamError = e;
  }
  // Either both refuse the input alike, or both write the very same archive.
  expect(String((streamError as Error | undefined)?.message)).toBe(
    String((memoryError as Error | undefined)?.message),
  );
  if (memory && streamed) expect(Buffer.compare(Buffer.from(memory), Buffer.from(streamed))).toBe(0);
});

it('I-EVIDENCE-3 both exporters refuse a request or node Lamport that is not a non-negative integer, alike', () => {
  const world = buildWorld(2, 'rt25-stream-order-class');
  for (const bad of [1.5, -1, -19, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53 + 2]) {
    const input: PackInput = {
      ...world.input,
      requests: [{ lamport: bad, body: { request: { tool: 'a' }, clock_ms: 1 } }],
    };
    const codes: unknown[] = [];
    for (const run of [
      () => buildEvidencePack(input, executor),
      () => writeEvidencePackFile(input, executor, join(dir, `bad-${codes.length}.tar`)),
    ]) {
      try {
        run();
        codes.push('accepted');
      } catch (e) {
        codes.push((e as { code?: string }).code);
      }
    }
    expect(codes, String(bad)).toEqual(['PACK_INPUT_INVALID', 'PACK_INPUT_INVALID']);
  }
});
