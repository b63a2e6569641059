// I-EVIDENCE-6 (executor side). The request digest (docs/spec/pipeline.md §Request digest): every receipt of a call — allowed,
// denied before or after the guardian, failed, interrupted — carries digest(JCS(request)) of the
// request object as the executor read it, so a recorded request can be checked against what the
// executor signed; `args` is read once, and args_hash covers the same bytes.
import { canonicalize, digest } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { type AdmissionEntry, InMemoryAdmissionJournal } from '../src/index.ts';
import { readRequest } from '../src/request-digest.ts';
import { aliceContext, body, build } from './helpers/world.ts';

const requestDigest = (request: object) => digest(new TextEncoder().encode(canonicalize(request)));
const receiptOf = (r: { receipt: unknown }) =>
  body<{ request_digest: string | null; args_hash: string | null; reason_code: string }>(r.receipt as never);

describe('request_digest: the request object every receipt commits to', () => {
  it('an allowed call, a guardian denial and an executor denial each carry digest(JCS(request))', async () => {
    const w = build();
    const allowed = {
      tool: 'files.read',
      principal: 'alice',
      args: { path: '/data/a.txt' },
      context: aliceContext(),
    };
    const denied = { ...allowed, principal: 'mallory', tenant: null, context: { credential_id: 'nope' } };
    const unknown = { tool: 'shell.exec', principal: 'alice', args_text: '{"cmd":"id"}' };
    for (const [request, code] of [
      [allowed, 'ALLOW'],
      [denied, undefined],
      [unknown, 'TOOL_UNKNOWN'],
    ] as const) {
      const r = await w.executor.execute(request);
      if (code) expect(r.reason_code).toBe(code);
      expect(receiptOf(r).request_digest, JSON.stringify(request)).toBe(requestDigest(request));
    }
  });

  it('members are the present fields exactly as passed: an absent field is not a null one', () => {
    const base = { principal: 'p', tool: 't', args: { a: 1 } };
    const absent = readRequest({
      ...base,
      args_text: undefined,
      context: undefined,
      idempotency_key: undefined,
      tenant: undefined,
    });
    const explicitNull = readRequest({
      ...base,
      args_text: undefined,
      context: undefined,
      idempotency_key: undefined,
      tenant: null,
    });
    expect(absent.request_digest).toBe(requestDigest(base));
    expect(explicitNull.request_digest).toBe(requestDigest({ ...base, tenant: null }));
    expect(absent.request_digest).not.toBe(explicitNull.request_digest);
    // both args and args_text given (an ARGS_MALFORMED call) are both members
    const both = readRequest({
      ...base,
      args_text: '{}',
      context: undefined,
      idempotency_key: 'k',
      tenant: undefined,
    });
    expect(both.request_digest).toBe(requestDigest({ ...base, args_text: '{}', idempotency_key: 'k' }));
  });

  it('is null when a present field is not representable JSON; the call is still receipted', async () => {
    const w = build();
    const r = await w.executor.execute({
      tool: 'files.read',
      principal: 'alice',
      args: { path: '/data/a.txt' },
      context: { ...aliceContext(), hook: () => 1 },
    });
    expect(receiptOf(r).request_digest).toBeNull();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const bad = await w.executor.execute({ tool: 'files.read', principal: 'alice', args: cyclic });
    expect(bad.reason_code).toBe('ARGS_MALFORMED');
    expect(receiptOf(bad).request_digest).toBeNull();
  });

  it('args is read once: the bytes under args_hash are the ones under request_digest', async () => {
    const w = build();
    let reads = 0;
    const args = {
      get path() {
        reads += 1;
        return reads === 1 ? '/data/a.txt' : '/etc/shadow';
      },
    };
    const r = await w.executor.execute({
      tool: 'files.read',
      principal: 'alice',
      args,
      context: aliceContext(),
    });
    expect(reads).toBe(1);
    expect(r.reason_code).toBe('ALLOW');
    const seen = {
      tool: 'files.read',
      principal: 'alice',
      args: { path: '/data/a.txt' },
      context: aliceContext(),
    };
    expect(receiptOf(r)).toMatchObject({
      request_digest: requestDigest(seen),
      args_hash: requestDigest({ path: '/data/a.txt' }),
    });
    expect(w.driverCalls.at(-1)?.args).toEqual({ path: '/data/a.txt' });
  });

  it('the admission entry records it, and the interruption receipt of recovery carries it', async () => {
    const journal = new InMemoryAdmissionJournal();
    const w = build({ journal });
    const request = {
      tool: 'files.read',
      principal: 'alice',
      args: { path: '/data/a.txt' },
      context: aliceContext(),
    };
    let admitted: AdmissionEntry | undefined;
    const admit = journal.admit.bind(journal);
    journal.admit = (entry) => {
      admitted = entry;
      admit(entry);
    };
    const complete = journal.complete.bind(journal);
    journal.complete = () => undefined; // the process "stops" before the admission is closed
    await w.executor.execute(request);
    expect(admitted?.request_digest).toBe(requestDigest(request));
    journal.complete = complete;
    const [recovered] = await w.executor.recover();
    expect(recovered?.reason_code).toBe('EXECUTION_INTERRUPTED');
    expect(receiptOf(recovered as never).request_digest).toBe(requestDigest(request));
  });
});
