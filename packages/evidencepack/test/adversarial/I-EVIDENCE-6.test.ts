// I-EVIDENCE-6 — a recorded request is the one its receipt signed for: every full receipt carries
// `request_digest` = digest(JCS(request)) under its signature, and the EvidencePack REQUESTS check
// requires requests/<L>.json's `request` to hash to it, to be for the receipt's tool and principal,
// and (when the receipt has an args hash) to carry arguments that hash to `args_hash`; a receipt
// that signed for a request whose file is missing is FAILED too. An executor-key insider who also
// re-signs the receipt (and the chain after it) to match a replaced request still meets the
// guardian's signature: the decision binds the args hash, and an ALLOW also the tool and principal.
//
// Residual (report): the insider can rewrite, consistently with a re-signed chain, what only the
// executor's signature covers — the request's context, idempotency key, tenant, the args_text
// spelling of the same arguments — and anything of calls without a guardian decision (executor-
// local denials) or, for DENY/ESCALATE decisions, the tool and principal.
//
// Written from the attacker's side with the real packages (real registry, recorder and keys; the
// insider's own mintReceipt and buildEvidencePack).
import { beforeAll, describe, expect, it } from 'vitest';
import type { PackInput } from '../../src/index.ts';
import {
  bodyOf,
  checkOf,
  E2,
  failedCodes,
  type History,
  hashOf,
  history,
  requestOf,
  resign,
  seal,
  verify,
} from '../fixtures/insider.ts';

let h: History;
beforeAll(async () => {
  h = await history();
});

/** Call 5 (an ALLOW signed by E2 under the current trust state): its recorded request replaced. */
function replaceRequest(request: unknown): PackInput['requests'] {
  return h.requests.map((q) => (q.lamport === 5 ? { lamport: 5, body: { ...q.body, request } } : q));
}

const other = requestOf(5, { path: '/etc/shadow' });

describe('I-EVIDENCE-6: a recorded request replaced by other content is FAILED', () => {
  it('the honest pack binds every request to its receipt', async () => {
    for (const q of h.requests)
      expect(bodyOf(h.receipts[q.lamport - 1] as never).request_digest).toBe(hashOf(q.body.request));
    const report = await verify(seal(h.input()), h.anchor);
    expect(checkOf(report, 'REQUESTS')?.status).toBe('PASS');
    expect(report.status).toBe('PASS');
  });

  it('a replaced request, the pack re-sealed with the executor key, is FAILED (REQUESTS)', async () => {
    const report = await verify(seal(h.input({ requests: replaceRequest(other) })), h.anchor);
    expect(checkOf(report, 'MANIFEST_SIGNATURE')?.status).toBe('PASS');
    expect(checkOf(report, 'REQUESTS')).toMatchObject({
      status: 'FAILED',
      path: 'requests/000000000005.json',
    });
    expect(failedCodes(report)).toEqual(['REQUESTS']);
  });

  it('… also when only fields outside the args change (context, idempotency key)', async () => {
    const original = h.requests[4]?.body.request as Record<string, unknown>;
    for (const request of [
      { ...original, context: { credential_id: 'cred-mallory' } },
      { ...original, idempotency_key: 'k' },
      { ...original, tenant: null },
    ]) {
      const report = await verify(seal(h.input({ requests: replaceRequest(request) })), h.anchor);
      expect(checkOf(report, 'REQUESTS')?.status, JSON.stringify(request)).toBe('FAILED');
    }
  });

  it('… with the receipt (and the chain after it) re-signed to the new request and args: the guardian-signed decision contradicts it (DECISIONS)', async () => {
    const forged = resign(
      h.receipts,
      4,
      () => E2,
      (i) => (i === 4 ? { request_digest: hashOf(other), args_hash: hashOf(other.args) } : {}),
    );
    const report = await verify(
      seal(h.input({ receipts: forged, requests: replaceRequest(other) })),
      h.anchor,
    );
    expect(checkOf(report, 'RECEIPT_CHAIN')?.status).toBe('PASS');
    expect(checkOf(report, 'REQUESTS')?.status).toBe('PASS');
    expect(checkOf(report, 'DECISIONS')).toMatchObject({ status: 'FAILED' });
    expect(checkOf(report, 'DECISIONS')?.message).toMatch(/args_hash/);
  });

  it('… re-signed to the new request digest but keeping the args hash the guardian signed: the recorded args give it away (REQUESTS)', async () => {
    const forged = resign(
      h.receipts,
      4,
      () => E2,
      (i) => (i === 4 ? { request_digest: hashOf(other) } : {}),
    );
    const report = await verify(
      seal(h.input({ receipts: forged, requests: replaceRequest(other) })),
      h.anchor,
    );
    expect(checkOf(report, 'DECISIONS')?.status).toBe('PASS');
    expect(checkOf(report, 'REQUESTS')).toMatchObject({
      status: 'FAILED',
      path: 'requests/000000000005.json',
    });
    expect(checkOf(report, 'REQUESTS')?.message).toMatch(/args_hash/);
  });

  it('… a request for another tool or principal, the receipt re-signed to match: an ALLOW binds both (DECISIONS)', async () => {
    const original = h.requests[4]?.body.request as Record<string, unknown>;
    for (const [field, value] of [
      ['principal', 'mallory'],
      ['tool', 'files.write'],
    ] as const) {
      const request = { ...original, [field]: value };
      const forged = resign(
        h.receipts,
        4,
        () => E2,
        (i) => (i === 4 ? { request_digest: hashOf(request), [field]: value } : {}),
      );
      const tools = [...(h.input().tools ?? []), { ...h.input().tools[0], name: 'files.write' }];
      const report = await verify(
        seal(h.input({ receipts: forged, requests: replaceRequest(request), tools })),
        h.anchor,
      );
      expect(checkOf(report, 'REQUESTS')?.status, field).toBe('PASS');
      expect(checkOf(report, 'DECISIONS'), field).toMatchObject({ status: 'FAILED' });
      expect(checkOf(report, 'DECISIONS')?.message).toMatch(/tool or principal/);
    }
  });

  it('… a request for another tool, only the request replaced: REQUESTS (the receipt names its tool)', async () => {
    const original = h.requests[4]?.body.request as Record<string, unknown>;
    const request = { ...original, tool: 'files.write' };
    const forged = resign(
      h.receipts,
      4,
      () => E2,
      (i) => (i === 4 ? { request_digest: hashOf(request) } : {}),
    );
    const report = await verify(
      seal(h.input({ receipts: forged, requests: replaceRequest(request) })),
      h.anchor,
    );
    expect(checkOf(report, 'REQUESTS')?.message).toMatch(/tool and principal/);
  });

  it('a receipt re-signed to a null request digest while its request is recorded is FAILED (REQUESTS)', async () => {
    const forged = resign(
      h.receipts,
      4,
      () => E2,
      (i) => (i === 4 ? { request_digest: null } : {}),
    );
    const report = await verify(seal(h.input({ receipts: forged })), h.anchor);
    expect(checkOf(report, 'REQUESTS')).toMatchObject({
      status: 'FAILED',
      path: 'requests/000000000005.json',
    });
  });

  it('a deleted request, or requests swapped between receipts, are FAILED (REQUESTS)', async () => {
    const deleted = await verify(
      seal(h.input({ requests: h.requests.filter((q) => q.lamport !== 5) })),
      h.anchor,
    );
    expect(checkOf(deleted, 'REQUESTS')).toMatchObject({
      status: 'FAILED',
      path: 'requests/000000000005.json',
    });
    expect(checkOf(deleted, 'REQUESTS')?.message).toMatch(/missing/);
    const swapped = h.requests.map((q) =>
      q.lamport === 4
        ? { lamport: 4, body: h.requests[4]?.body as never }
        : q.lamport === 5
          ? { lamport: 5, body: h.requests[3]?.body as never }
          : q,
    );
    const report = await verify(seal(h.input({ requests: swapped })), h.anchor);
    expect(checkOf(report, 'REQUESTS')).toMatchObject({
      status: 'FAILED',
      path: 'requests/000000000004.json',
    });
  });
});
