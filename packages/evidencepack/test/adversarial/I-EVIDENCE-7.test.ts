// I-EVIDENCE-7 — the insider holding the executor key, re-signing receipts and re-sealing the
// manifest, cannot make a pack that drops a decision, a sandbox tool's module or a request,
// misnames a content-addressed entry, claims another scope.session_id, or ends before the head the
// verifier expects, and still PASS: every case is FAILED, under the check the spec names.
//
// Written from the attacker's side with the real packages (the insider fixture's recorder, keys and
// buildEvidencePack; the world fixture's executor key for entry-level re-seals).
import { canonicalBytes, digest } from '@helm/crypto';
import { receiptHash } from '@helm/receipts';
import { beforeAll, describe, expect, it } from 'vitest';
import { type TarEntry, verifyEvidencePack } from '../../src/index.ts';
import {
  append,
  bodyOf,
  CHAIN,
  checkOf,
  E2,
  failedCodes,
  type History,
  hashOf,
  history,
  inputOf,
  seal,
  TOOL,
  verify,
} from '../fixtures/insider.ts';
import { type HonestPack, honestPacks, json, manifestBody, put, reseal } from '../fixtures/packs.ts';

let h: History;
let plain: HonestPack;
let condensed: HonestPack;
beforeAll(async () => {
  h = await history();
  [plain, condensed] = honestPacks() as [HonestPack, HonestPack];
});

const MODULE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 7]);
const SANDBOX_TOOL = {
  ...TOOL,
  name: 'wasm.echo',
  driver: { kind: 'sandbox', ref: digest(MODULE), timeout_ms: 1000 },
};

async function verifyBytes(bytes: Uint8Array, pack: HonestPack, extra = {}) {
  return verifyEvidencePack(bytes, { trustAnchor: pack.world.anchor, workers: 0, ...extra });
}

/** Rename an entry (and its index.json path, so that only the name is wrong), then re-seal. */
function renamed(pack: HonestPack, from: string, to: string): Uint8Array {
  let entries: TarEntry[] = pack.entries.filter((e) => e.path !== from);
  entries.push({ path: to, data: (pack.entries.find((e) => e.path === from) as TarEntry).data });
  const index = json((entries.find((e) => e.path === 'index.json') as TarEntry).data) as Record<
    string,
    Record<string, unknown>[]
  >;
  for (const kind of ['policies', 'tools', 'schemas', 'modules'])
    for (const item of index[kind] ?? []) if (item.path === from) item.path = to;
  entries = put(entries, 'index.json', canonicalBytes(index));
  return reseal(entries);
}

const first = (pack: HonestPack, prefix: string) =>
  pack.entries.find((e) => e.path.startsWith(prefix))?.path as string;
const WRONG = 'e'.repeat(64);

describe('I-EVIDENCE-7: the executor-key insider cannot drop required evidence', () => {
  it('the honest insider pack passes (baseline), also with a sandbox tool and its module', async () => {
    expect((await verify(seal(h.input()), h.anchor)).status).toBe('PASS');
    const report = await verify(
      seal(h.input({ tools: [TOOL, SANDBOX_TOOL], modules: [{ name: 'wasm.echo', bytes: MODULE }] })),
      h.anchor,
    );
    expect(report.status).toBe('PASS');
  });

  it("a full receipt's guardian decision dropped (ALLOW or DENY), re-sealed: FAILED (DECISIONS, DECISION_MISSING)", async () => {
    for (const i of [1, 4]) {
      const report = await verify(
        seal(h.input({ decisions: h.decisions.filter((_d, k) => k !== i) })),
        h.anchor,
      );
      expect(checkOf(report, 'MANIFEST_SIGNATURE')?.status).toBe('PASS');
      expect(checkOf(report, 'DECISIONS')).toMatchObject({
        status: 'FAILED',
        detail: 'DECISION_MISSING',
        path: `receipts/00000000000${i + 1}.json`,
      });
      expect(failedCodes(report)).toEqual(['DECISIONS']);
    }
    const none = await verify(seal(h.input({ decisions: [] })), h.anchor);
    expect(checkOf(none, 'DECISIONS')?.detail).toBe('DECISION_MISSING');
  });

  it('an executor-local denial needs no decision — only when its decision_id is the recomputed executor-denial id', async () => {
    const request = { tool: 'nope', principal: 'alice', tenant: 'acme', args: {} };
    const last = h.receipts[5] as never;
    const at = bodyOf(last).issued_at_ms + 1;
    const local = hashOf({
      type: 'helm.executor.denial.v1',
      principal: 'alice',
      tenant: 'acme',
      session_id: null,
      tool: 'nope',
      args_hash: null,
      reason_code: 'TOOL_UNKNOWN',
      at_ms: at,
    });
    const denial = (decision_id: string) =>
      append(
        h.receipts,
        inputOf(last, {
          decision_id,
          effect_class: 'unknown',
          status: 'DENIED',
          verdict: 'DENY',
          reason_code: 'TOOL_UNKNOWN',
          args_hash: null,
          request_digest: hashOf(request),
          output_hash: null,
          tool: 'nope',
          issued_at_ms: at,
        }),
        E2,
      );
    const requests = [...h.requests, { lamport: 7, body: { request, clock_ms: at } }];
    const honest = await verify(seal(h.input({ receipts: denial(local), requests })), h.anchor);
    expect(honest.status).toBe('PASS');
    const forged = await verify(
      seal(h.input({ receipts: denial(hashOf('a guardian decision')), requests })),
      h.anchor,
    );
    expect(checkOf(forged, 'DECISIONS')).toMatchObject({ status: 'FAILED', detail: 'DECISION_MISSING' });
  });

  it("a sandbox tool's module dropped, re-sealed: FAILED (ARTIFACTS)", async () => {
    const report = await verify(seal(h.input({ tools: [TOOL, SANDBOX_TOOL], modules: [] })), h.anchor);
    expect(checkOf(report, 'ARTIFACTS')?.status).toBe('FAILED');
    expect(checkOf(report, 'ARTIFACTS')?.message).toMatch(/module .* of sandbox tool wasm\.echo missing/);
    expect(failedCodes(report)).toEqual(['ARTIFACTS']);
  });

  it('a recorded request dropped, re-sealed: FAILED (REQUESTS)', async () => {
    const report = await verify(
      seal(h.input({ requests: h.requests.filter((q) => q.lamport !== 3) })),
      h.anchor,
    );
    expect(checkOf(report, 'REQUESTS')).toMatchObject({
      status: 'FAILED',
      path: 'requests/000000000003.json',
    });
  });
});

describe('I-EVIDENCE-7: every content-addressed entry is named by its content (ENTRY_NAMES)', () => {
  it('the honest packs pass', async () => {
    expect((await verifyBytes(plain.bytes, plain)).status).toBe('PASS');
    expect((await verifyBytes(condensed.bytes, condensed)).status).toBe('PASS');
  });

  const cases: [string, () => [HonestPack, string, string]][] = [
    [
      'a policy under a wrong policies/<hex>',
      () => [plain, first(plain, 'policies/'), `policies/${WRONG}.json`],
    ],
    [
      'a schema under a wrong schemas/<hex>',
      () => [plain, first(plain, 'schemas/'), `schemas/${WRONG}.json`],
    ],
    ['a descriptor under a wrong tools/<hex>', () => [plain, first(plain, 'tools/'), `tools/${WRONG}.json`]],
    [
      'a module under a wrong modules/<hex>.wasm',
      () => [plain, first(plain, 'modules/'), `modules/${WRONG}.wasm`],
    ],
    [
      'a module without .wasm',
      () => [plain, first(plain, 'modules/'), first(plain, 'modules/').replace('.wasm', '.bin')],
    ],
    [
      'a signed node under a wrong digest',
      () => [
        plain,
        first(plain, 'proofgraph/nodes/'),
        first(plain, 'proofgraph/nodes/').replace(/-[0-9a-f]{64}/, `-${WRONG}`),
      ],
    ],
    [
      'a signed node under a wrong Lamport',
      () => {
        const p = first(plain, 'proofgraph/nodes/000000000001-');
        return [plain, p, p.replace('000000000001-', '000000000000-')];
      },
    ],
    [
      'a checkpoint under a wrong digest',
      () => {
        const p = first(condensed, 'checkpoints/0');
        return [condensed, p, p.replace(/-[0-9a-f]{64}/, `-${WRONG}`)];
      },
    ],
    ['a request under a non-Lamport name', () => [plain, first(plain, 'requests/'), 'requests/first.json']],
  ];
  for (const [name, make] of cases)
    it(`${name}, re-sealed: FAILED (ENTRY_NAMES)`, async () => {
      const [pack, from, to] = make();
      const report = await verifyBytes(renamed(pack, from, to), pack);
      expect(checkOf(report, 'MANIFEST_SIGNATURE')?.status).toBe('PASS');
      expect(checkOf(report, 'ENTRY_NAMES')).toMatchObject({ status: 'FAILED', path: to });
    });

  it('a non-JSON entry in a JSON-only folder, re-sealed: FAILED (ENTRY_NAMES)', async () => {
    for (const path of ['receipts/notes.txt', 'decisions/x', 'policies/readme.md', 'trust/extra.bin']) {
      const report = await verifyBytes(reseal(put(plain.entries, path, new Uint8Array([1]))), plain);
      expect(checkOf(report, 'ENTRY_NAMES'), path).toMatchObject({ status: 'FAILED', path });
    }
  });
});

describe('I-EVIDENCE-7: scope.session_id is verified (RECEIPT_SCOPE)', () => {
  it('null, the chain id, or the session of every receipt pass', async () => {
    expect((await verify(seal(h.input({ sessionId: CHAIN })), h.anchor)).status).toBe('PASS');
    expect(manifestBody(plain.entries).scope).toMatchObject({ session_id: 'adv-plain' });
  });

  it('another session id, re-sealed: FAILED (SESSION_MISMATCH)', async () => {
    const report = await verify(seal(h.input({ sessionId: 'session-of-mallory' })), h.anchor);
    expect(checkOf(report, 'RECEIPT_SCOPE')).toMatchObject({ status: 'FAILED', detail: 'SESSION_MISMATCH' });
    const world = await verifyBytes(
      reseal(plain.entries, (m) => ({ ...m, scope: { ...(m.scope as object), session_id: 'other' } })),
      plain,
    );
    expect(checkOf(world, 'RECEIPT_SCOPE')).toMatchObject({ status: 'FAILED', detail: 'SESSION_MISMATCH' });
  });
});

describe('I-EVIDENCE-7: truncation by the sealer is FAILED against an expected head', () => {
  const head = () => receiptHash(h.receipts[5] as never) as string;
  const truncated = () =>
    seal(
      h.input({
        receipts: h.receipts.slice(0, 5),
        decisions: h.decisions.slice(0, 5),
        requests: h.requests.slice(0, 5),
      }),
    );

  it('the tail dropped and re-sealed passes without an expected head (completeness is relative to the sealer)', async () => {
    expect((await verify(truncated(), h.anchor)).status).toBe('PASS');
  });

  it('… and is FAILED (RECEIPT_SCOPE, EXPECTED_HEAD_MISMATCH) with --expect-head or --expect-lamport', async () => {
    for (const expect_ of [
      { expectHead: head() },
      { expectLamport: 6 },
      { expectHead: head(), expectLamport: 6 },
    ]) {
      const report = await verifyEvidencePack(truncated().bytes, {
        trustAnchor: h.anchor,
        workers: 0,
        ...expect_,
      });
      expect(checkOf(report, 'RECEIPT_SCOPE'), JSON.stringify(expect_)).toMatchObject({
        status: 'FAILED',
        detail: 'EXPECTED_HEAD_MISMATCH',
      });
      expect(report.status).toBe('FAILED');
    }
  });

  it('the full pack passes against its head', async () => {
    const report = await verifyEvidencePack(seal(h.input()).bytes, {
      trustAnchor: h.anchor,
      workers: 0,
      expectHead: head(),
      expectLamport: 6,
    });
    expect(report.status).toBe('PASS');
  });
});
