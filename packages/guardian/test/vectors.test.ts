// Published test vectors for docs/spec/{decision,intent,policy,delegation,approval}.md.
// Regenerate with UPDATE_VECTORS=1; otherwise every recomputed value (strings compared exactly)
// must equal the stored file, and every spec page must quote the values it documents.
import { readFileSync, writeFileSync } from 'node:fs';
import {
  type ApprovalChallenge,
  approvalChallengeSchema,
  approvalStatementSchema,
  delegationGrantSchema,
  delegationSessionSchema,
  p0CeilingSchema,
  policyBundleSchema,
  policyMatchSchema,
  policyRuleSchema,
  type SignedEnvelope,
} from '@helm/contracts';
import {
  canonicalBytes,
  fromBase64Url,
  openVerifiedEnvelope,
  preAuthEncoding,
  sha256Hex,
  signEnvelope,
  toHex,
} from '@helm/crypto';
import { decisionSchema, EffectSchema } from '@helm/schemas';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { pkceChallenge } from '../src/index.ts';
import {
  approverSigners,
  CHALLENGE,
  guardianSigner,
  harness,
  P0,
  request,
  signBundle,
  VERIFIER,
} from './fixtures.ts';

const VECTORS = new URL('./vectors/guardian.json', import.meta.url);
const SPEC = (name: string) => new URL(`../../../docs/spec/${name}.md`, import.meta.url);

function describeEnvelope(env: SignedEnvelope) {
  const payload = fromBase64Url(env.payload)!;
  return {
    envelope: env,
    payload_jcs: new TextDecoder().decode(payload),
    payload_hex: toHex(payload),
    payload_sha256: sha256Hex(payload),
    pae_sha256: sha256Hex(preAuthEncoding(env.type, payload)),
  };
}

function generate() {
  const smallBundle = {
    type: 'helm.policy.bundle.v1',
    name: 'example',
    version: 1,
    rules: [
      {
        id: 'read-data',
        effect: 'allow',
        when: { principal: { eq: 'alice' }, tool: { eq: 'fs' }, resource: { prefix: '/data/' } },
      },
      { id: 'no-secrets', effect: 'deny', when: { resource: { prefix: '/data/secret/' } } },
    ],
  };
  const h = harness();
  const allow = h.guardian.evaluate(request());
  const deny = h.guardian.evaluate(request({ resource: '/data/secret/key.pem' }));
  const escalate = h.guardian.evaluate(
    request({
      tool: 'deploy',
      effect_type: 'compute',
      risk_tier: 'HIGH',
      resource: 'svc/api',
      args: { target: 'prod' },
    }),
  );
  const challenge = openVerifiedEnvelope(
    escalate.challenge!,
    'helm.approval.challenge.v1',
    h.guardian.publicKeys,
  ).body as unknown as ApprovalChallenge;
  const approval = signEnvelope(
    {
      type: 'helm.approval.v1',
      challenge_id: challenge.challenge_id,
      intent_hash: challenge.intent_hash,
      policy_bundle_hash: challenge.policy_bundle_hash,
      p0_ceiling_hash: challenge.p0_ceiling_hash,
      approver: 'ann',
      emergency: false,
    },
    [approverSigners[0]!],
  );
  const { envelope: session } = h.guardian.delegations!.create({
    delegator: 'alice',
    delegate: 'agent-7',
    grants: [
      {
        tool: { eq: 'fs' },
        action: { eq: 'read' },
        resource: { prefix: '/data/public/' },
        effect_type: { eq: 'fs.read' },
      },
    ],
    ttl_ms: 60_000,
    code_challenge: CHALLENGE,
    mfa_verified: true,
  });
  const freeze = h.guardian.freezeSwitch!.freeze('ops@example', 'incident 42');
  const stack = h.guardian.policyStack!;
  return {
    keys: {
      guardian: {
        seed: '01'.repeat(32),
        keyid: guardianSigner.keyId,
        public_key_hex: toHex(guardianSigner.publicKey),
      },
      approver: {
        seed: '03'.repeat(32),
        keyid: approverSigners[0]!.keyId,
        public_key_hex: toHex(approverSigners[0]!.publicKey),
      },
    },
    request_allow: request(),
    effect_allow: {
      jcs: new TextDecoder().decode(canonicalBytes(allow.effect)),
      digest: allow.record.effect_digest,
    },
    decision_allow: describeEnvelope(allow.decision),
    decision_deny: describeEnvelope(deny.decision),
    decision_escalate: describeEnvelope(escalate.decision),
    approval_challenge: describeEnvelope(escalate.challenge!),
    approval_statement: describeEnvelope(approval),
    delegation_session: describeEnvelope(session),
    pkce: { code_verifier: VERIFIER, code_challenge: pkceChallenge(VERIFIER) },
    freeze_event: describeEnvelope(freeze),
    p0: { document: P0, hash: stack.p0Hash },
    example_bundle: describeEnvelope(signBundle(smallBundle)),
    fixture_stack: {
      bundle_hash: stack.bundleHash,
      stack_hash: stack.stackHash,
      gate_roster_hash: h.guardian.gateRosterHash,
    },
  };
}

describe('published vectors', () => {
  it('recomputes every value exactly (the file may be re-formatted, the values may not change)', () => {
    const fresh = JSON.parse(JSON.stringify(generate()));
    if (process.env.UPDATE_VECTORS === '1') writeFileSync(VECTORS, `${JSON.stringify(fresh, null, 2)}\n`);
    expect(fresh).toStrictEqual(JSON.parse(readFileSync(VECTORS, 'utf8')));
  });

  it('every vector body validates against its contracts schema (strict ajv)', () => {
    const v = JSON.parse(readFileSync(VECTORS, 'utf8'));
    const ajv = new Ajv2020({ strict: true });
    for (const schema of [policyMatchSchema, policyRuleSchema, delegationGrantSchema]) ajv.addSchema(schema);
    const body = (env: { payload: string }) =>
      JSON.parse(new TextDecoder().decode(fromBase64Url(env.payload)!));
    const cases: [object, { envelope: { payload: string } }][] = [
      [decisionSchema, v.decision_allow],
      [decisionSchema, v.decision_deny],
      [decisionSchema, v.decision_escalate],
      [approvalChallengeSchema, v.approval_challenge],
      [approvalStatementSchema, v.approval_statement],
      [delegationSessionSchema, v.delegation_session],
      [policyBundleSchema, v.example_bundle],
    ];
    for (const [schema, vector] of cases) {
      const validate = ajv.compile(schema);
      expect(validate(body(vector.envelope)), JSON.stringify(validate.errors)).toBe(true);
    }
    expect(ajv.compile(p0CeilingSchema)(v.p0.document)).toBe(true);
    expect(ajv.compile(EffectSchema)(JSON.parse(v.effect_allow.jcs))).toBe(true);
  });

  it('every spec page quotes its vector values', () => {
    const v = JSON.parse(readFileSync(VECTORS, 'utf8'));
    const quotes: Record<string, string[]> = {
      decision: [
        v.decision_allow.payload_jcs,
        v.decision_allow.payload_sha256,
        v.decision_allow.envelope.signatures[0].sig,
        v.keys.guardian.keyid,
      ],
      // the intent is the signed ALLOW decision: intent.md reuses the decision.md ALLOW vector
      intent: [
        v.decision_allow.payload_sha256,
        v.decision_allow.envelope.signatures[0].sig,
        v.decision_allow.pae_sha256,
        v.keys.guardian.keyid,
      ],
      policy: [
        v.example_bundle.payload_jcs,
        v.example_bundle.payload_sha256,
        v.example_bundle.envelope.signatures[0].sig,
        v.p0.hash,
      ],
      delegation: [
        v.delegation_session.payload_jcs,
        v.delegation_session.payload_sha256,
        v.delegation_session.envelope.signatures[0].sig,
        v.pkce.code_challenge,
      ],
      approval: [
        v.approval_challenge.payload_jcs,
        v.approval_challenge.envelope.signatures[0].sig,
        v.approval_statement.payload_jcs,
        v.approval_statement.payload_sha256,
        v.approval_statement.envelope.signatures[0].sig,
      ],
    };
    for (const [page, values] of Object.entries(quotes)) {
      const doc = readFileSync(SPEC(page), 'utf8');
      for (const value of values)
        expect(doc, `${page}.md should quote ${value.slice(0, 40)}…`).toContain(value);
    }
  });
});
