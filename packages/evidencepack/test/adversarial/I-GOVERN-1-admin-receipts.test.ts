// I-GOVERN-1 in a pack: an administrative receipt (tool `helm.admin.<action>`) names no guardian
// decision — its decision is the signed governance event its recorded request carries
// (docs/spec/governance-event.md §7). The executor-key insider, who can mint any receipt, cannot
// pass one off without an event signed by a key holding the action's role.
import type { SignedEnvelope } from '@helm/contracts';
import { createSigner, type Signer, signEnvelope } from '@helm/crypto';
import { GOVERNANCE_EVENT_TYPE } from '@helm/evidencepack';
import { mintReceipt } from '@helm/receipts';
import { commitTrustEvent, exportTrustSnapshot } from '@helm/trust';
import { describe, expect, it } from 'vitest';
import type { PackInput } from '../../src/index.ts';
import {
  CHAIN,
  checkOf,
  E2,
  failedCodes,
  hashOf,
  headAfter,
  history,
  seal,
  T0,
  verify,
} from '../fixtures/insider.ts';

const policyKey = createSigner(new Uint8Array(32).fill(0x61));
const approverKey = createSigner(new Uint8Array(32).fill(0x62));

async function world() {
  const h = await history();
  commitTrustEvent(h.registry, { kind: 'key_publish', publicKey: policyKey.publicKey, roles: ['policy'] }, [
    rootOf(),
  ]);
  commitTrustEvent(
    h.registry,
    { kind: 'key_publish', publicKey: approverKey.publicKey, roles: ['approver'] },
    [rootOf()],
  );
  return h;
}

// The insider fixture's root key (seed 0x51).
const rootOf = (): Signer => createSigner(new Uint8Array(32).fill(0x51));

interface AdminEdit {
  signer?: Signer;
  action?: string;
  anchor?: string;
  principal?: string;
  decision?: string;
  trustSeq?: number;
  requestTool?: string;
  tool?: string;
  /** The event's body (default: a tool.repin-like body). */
  body?: Record<string, unknown>;
}

function event(
  anchor: string,
  signer: Signer,
  action: string,
  nonce = '0'.repeat(32),
  body: Record<string, unknown> = { tool: 'files.read' },
): SignedEnvelope {
  return signEnvelope(
    {
      type: GOVERNANCE_EVENT_TYPE,
      action,
      trust_anchor: anchor,
      chain_id: CHAIN,
      signed_at_ms: T0,
      nonce,
      body,
    },
    [signer],
  );
}

/** The pack of the insider history plus administrative receipts (one per edit). */
async function packWith(edits: AdminEdit[], events?: SignedEnvelope[]) {
  const h = await world();
  let receipts = [...h.receipts];
  const requests = [...h.requests];
  edits.forEach((e, i) => {
    const action = e.action ?? 'tool.repin';
    const signer = e.signer ?? policyKey;
    const ev =
      events?.[i] ?? event(e.anchor ?? h.anchor, signer, action, String(i).padStart(32, '0'), e.body);
    const tool = e.tool ?? `helm.admin.${action}`;
    const request = {
      tool: e.requestTool ?? tool,
      principal: e.principal ?? signer.keyId,
      args: { event: ev, trust_seq: e.trustSeq ?? h.registry.seq },
    };
    const minted = mintReceipt(
      {
        decision_id: e.decision ?? hashOf(ev),
        effect_id: null,
        effect_class: 'governance',
        status: 'SUCCEEDED',
        verdict: 'ALLOW',
        reason_code: 'ALLOW',
        args_hash: hashOf(request.args),
        request_digest: hashOf(request),
        output_hash: hashOf({}),
        session_id: null,
        policy_hash: hashOf('policy'),
        tool,
        principal: request.principal,
        risk_tier: 'HIGH',
        issued_at_ms: T0 + 100 + i,
        trust_seq: h.registry.seq,
        trust_head: h.registry.head,
        evidence: { governance_event: hashOf(ev) },
      },
      headAfter(receipts),
      E2,
    );
    receipts = [...receipts, minted.envelope];
    requests.push({ lamport: minted.body.lamport, body: { request, clock_ms: T0 + 100 + i } });
  });
  const input: PackInput = h.input({
    receipts,
    requests,
    trustSnapshot: exportTrustSnapshot(h.registry) as unknown as PackInput['trustSnapshot'],
  });
  return verify(seal(input), h.anchor);
}

describe('I-GOVERN-1 administrative receipts in a pack', () => {
  it('an administrative receipt backed by an event a policy key signed verifies', async () => {
    const report = await packWith([{}]);
    expect(failedCodes(report)).toEqual([]);
    expect(report.status).toBe('PASS');
    expect(checkOf(report, 'ARTIFACTS')?.status).toBe('PASS');
  });

  it('the insider cannot pass one off: wrong role, registry, principal, decision id, trust seq, action or tool', async () => {
    const h = await world();
    const cases: [string, AdminEdit][] = [
      ['signed by an approver key', { signer: approverKey }],
      ['signed by a key outside the registry', { signer: createSigner(new Uint8Array(32).fill(0x63)) }],
      ['made for another registry', { anchor: hashOf('another registry') }],
      ['principal is not the signer', { principal: approverKey.keyId }],
      ['decision id is not the event', { decision: hashOf('not the event') }],
      ['trust seq the snapshot never reached', { trustSeq: h.registry.seq + 5 }],
      ['an action that is not administrative', { action: 'approval.grant' }],
      ['a tool that does not name the event action', { tool: 'helm.admin.identity.add' }],
      ['a recorded request for another tool', { requestTool: 'helm.admin.budget.reset' }],
    ];
    for (const [what, edit] of cases) {
      const report = await packWith([edit]);
      expect(failedCodes(report), what).toContain('DECISIONS');
      expect(checkOf(report, 'DECISIONS')?.detail, what).toBe('DECISION_MISSING');
    }
  });

  it('one event backs one receipt', async () => {
    const h = await world();
    const ev = event(h.anchor, policyKey, 'tool.repin');
    const report = await packWith([{}, {}], [ev, ev]);
    expect(checkOf(report, 'DECISIONS')?.status).toBe('FAILED');
  });
});

/** A P1 bundle (docs/spec/policy.md) signed by `signer`. */
const bundle = (signer: Signer, version = 2): SignedEnvelope =>
  signEnvelope({ type: 'helm.policy.bundle.v1', name: 'rules', version, rules: [] } as never, [signer]);

describe('I-GOVERN-1 policy.publish in a pack (helm.admin.policy.publish)', () => {
  it('a publication signed by a policy key, carrying a bundle a policy key signed, verifies', async () => {
    const report = await packWith([{ action: 'policy.publish', body: { bundle: bundle(policyKey) } }]);
    expect(failedCodes(report)).toEqual([]);
    expect(report.status).toBe('PASS');
  });

  it('the insider cannot pass one off: event or bundle signed without the policy role, bundle bytes edited, body not {bundle}', async () => {
    const h = await world();
    const signed = bundle(policyKey);
    // The bundle's payload edited after the policy key signed it (version 2 → 9).
    const edited: SignedEnvelope = {
      ...signed,
      payload: Buffer.from(
        Buffer.from(signed.payload, 'base64url').toString('utf8').replace('"version":2', '"version":9'),
      ).toString('base64url'),
    };
    expect(edited.payload).not.toBe(signed.payload);
    // The event a policy key signed, its bundle edited afterwards (the event's bytes change).
    const genuine = event(h.anchor, policyKey, 'policy.publish', '7'.repeat(32), { bundle: signed });
    const inner = JSON.parse(Buffer.from(genuine.payload, 'base64url').toString('utf8'));
    const afterSigning: SignedEnvelope = {
      ...genuine,
      payload: Buffer.from(JSON.stringify({ ...inner, body: { bundle: edited } })).toString('base64url'),
    };
    const cases: [string, AdminEdit, SignedEnvelope?][] = [
      [
        'event signed by an approver key',
        { action: 'policy.publish', signer: approverKey, body: { bundle: signed } },
      ],
      [
        'bundle signed by an approver key',
        { action: 'policy.publish', body: { bundle: bundle(approverKey) } },
      ],
      [
        'bundle bytes edited before the event was signed',
        { action: 'policy.publish', body: { bundle: edited } },
      ],
      ['bundle bytes edited after the event was signed', { action: 'policy.publish' }, afterSigning],
      ['body is not {bundle}', { action: 'policy.publish', body: { bundle: signed, extra: 1 } }],
      ['body names no bundle', { action: 'policy.publish', body: { tool: 'files.read' } }],
    ];
    // Every case is checked (not the first failure only): each must fail DECISIONS/DECISION_MISSING.
    const passedOff: string[] = [];
    for (const [what, edit, ev] of cases) {
      const report = await packWith([edit], ev ? [ev] : undefined);
      const decisions = checkOf(report, 'DECISIONS');
      if (decisions?.status !== 'FAILED' || decisions.detail !== 'DECISION_MISSING') passedOff.push(what);
    }
    expect(passedOff).toEqual([]);
  });
});
