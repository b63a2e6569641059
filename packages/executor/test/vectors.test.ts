// Regenerates every ```vector block of docs/spec/tool-descriptor.md and docs/spec/pipeline.md and
// checks it against the published text (so the pages can never drift from the code).
import { readFileSync } from 'node:fs';
import type { ToolDescriptor } from '@helm/contracts';
import { canonicalize, createSigner, digest, openVerifiedEnvelope, toHex } from '@helm/crypto';
import { InMemoryReceiptStore, ReceiptPolicySet, ReceiptRecorder } from '@helm/receipts';
import { describe, expect, it } from 'vitest';
import {
  buildEffect,
  clientIdempotencyKey,
  createExecutor,
  deriveIdempotencyKey,
  descriptorDigest,
  EXECUTOR_DENIAL_TYPE,
} from '../src/index.ts';
import { ListGraph, ManualClock, ManualTimer, seed } from './helpers/kit.ts';

const enc = new TextEncoder();
/** The trust registry state of the vector receipt: seq 1, head = SHA-256 of `vector-trust-head`. */
const VECTOR_TRUST = { seq: 1, head: digest(enc.encode('vector-trust-head')) } as const;

function vectors(page: string): Record<string, string>[] {
  const text = readFileSync(new URL(`../../../docs/spec/${page}`, import.meta.url), 'utf8');
  const blocks = [...text.matchAll(/```vector\n([\s\S]*?)```/g)];
  return blocks.map((m) => {
    const out: Record<string, string> = {};
    for (const line of (m[1] as string).split('\n')) {
      const at = line.indexOf(': ');
      if (at > 0) out[line.slice(0, at)] = line.slice(at + 2);
    }
    return out;
  });
}

describe('docs/spec/tool-descriptor.md vector', () => {
  const [v] = vectors('tool-descriptor.md');
  it('descriptor JCS, digest, args hash and effect', () => {
    expect(v).toBeDefined();
    const d = JSON.parse(v!.descriptor_json!) as ToolDescriptor;
    expect(canonicalize(d)).toBe(v!.descriptor_json);
    expect(toHex(enc.encode(canonicalize(d)))).toBe(v!.descriptor_jcs_hex);
    expect(descriptorDigest(d)).toBe(v!.descriptor_digest);
    const args = JSON.parse(v!.args_json!);
    const argsHash = digest(enc.encode(canonicalize(args)));
    expect(argsHash).toBe(v!.args_hash);
    const effect = buildEffect(d, v!.principal!, args, argsHash);
    expect(canonicalize(effect)).toBe(v!.effect_json);
    expect(digest(enc.encode(canonicalize(effect)))).toBe(v!.effect_digest);
  });
});

describe('docs/spec/pipeline.md vectors', () => {
  const all = vectors('pipeline.md');
  const find = (k: string) => all.find((v) => k in v) as Record<string, string>;

  it('idempotency keys', () => {
    const v = find('derived_key');
    const input = JSON.parse(v.derived_key_json!);
    expect(canonicalize(input)).toBe(v.derived_key_json);
    expect(deriveIdempotencyKey({ ...input })).toBe(v.derived_key);
    const c = JSON.parse(v.client_key_json!);
    expect(clientIdempotencyKey({ ...c })).toBe(v.client_key);
    expect(digest(enc.encode(v.client_key_json!))).toBe(v.client_key);
  });

  it('executor-local denial: decision id and the signed receipt', async () => {
    const v = find('denial_decision_id');
    const body = JSON.parse(v.denial_json!);
    expect(body.type).toBe(EXECUTOR_DENIAL_TYPE);
    expect(digest(enc.encode(canonicalize(body)))).toBe(v.denial_decision_id);

    // Reproduce it through the executor: receipt key seed 0d×32, clock at_ms, first receipt of
    // chain "vector-chain", policy hash 11×32.
    const signer = createSigner(seed(13));
    expect(signer.keyId).toBe(v.receipt_keyid);
    const clock = new ManualClock(body.at_ms);
    const store = new InMemoryReceiptStore();
    const policyHash = `sha256:${'11'.repeat(32)}`;
    const executor = createExecutor({
      guardian: {
        evaluate: () => {
          throw new Error('not reached');
        },
        consumeGrant: () => false,
        commitBudget: () => undefined,
        refundBudget: () => undefined,
        policyHash: () => policyHash,
      },
      guardianKeys: () => undefined,
      receipts: new ReceiptRecorder({
        signer,
        chainId: 'vector-chain',
        store,
        policies: new ReceiptPolicySet([]),
        trust: () => VECTOR_TRUST,
      }),
      proofgraph: new ListGraph(),
      clock,
      timer: new ManualTimer(),
    });
    // The request object (docs/spec/pipeline.md §Request digest) and its digest, carried by the receipt.
    const request = JSON.parse(v.request_json!);
    expect(canonicalize(request)).toBe(v.request_json);
    expect(request).toStrictEqual({
      tool: body.tool,
      principal: body.principal,
      args: JSON.parse(v.args_json!),
    });
    expect(digest(enc.encode(v.request_json!))).toBe(v.request_digest);
    const r = await executor.execute(request);
    expect(r.reason_code).toBe('TOOL_UNKNOWN');
    expect(JSON.parse(v.receipt_payload_jcs!)).toMatchObject({
      request_digest: v.request_digest,
      trust_seq: VECTOR_TRUST.seq,
      trust_head: VECTOR_TRUST.head,
    });
    expect(r.decision_id).toBe(v.denial_decision_id);
    expect(JSON.stringify(r.receipt)).toBe(v.receipt_envelope);
    const verified = openVerifiedEnvelope(r.receipt!, 'helm.receipt.v1', (id) =>
      id === signer.keyId ? signer.publicKey : undefined,
    );
    expect(new TextDecoder().decode(verified.payload)).toBe(v.receipt_payload_jcs);
    expect(r.receipt_hash).toBe(v.receipt_hash);
  });
});
