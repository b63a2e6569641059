// The published vectors of docs/spec/governance-event.md (docs/spec/vectors/governance-event.json)
// are recomputed from their inputs here, and every value the page quotes must be in the file: the
// page, the file and the implementation cannot drift apart.
import { readFileSync } from 'node:fs';
import { canonicalize, createSigner, fromBase64Url, openVerifiedEnvelope, signEnvelope } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import {
  governanceAppliedLink,
  governanceEventDigest,
  governanceLink,
  signGovernanceEvent,
} from '../src/index.ts';

const ROOT = new URL('../../../docs/spec/', import.meta.url);
const V = JSON.parse(readFileSync(new URL('vectors/governance-event.json', ROOT), 'utf8'));
const PAGE = readFileSync(new URL('governance-event.md', ROOT), 'utf8');
const seed = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

describe('docs/spec/governance-event.md vectors', () => {
  it('event: JCS payload, signature and digest', () => {
    const policy = createSigner(seed(V.keys.policy_seed_hex));
    expect(policy.keyId).toBe(V.keys.policy_keyid);
    const i = V.event.input;
    const envelope = signGovernanceEvent({
      action: i.action,
      body: i.body,
      signer: policy,
      at: i.signed_at_ms,
      trustAnchor: i.trust_anchor,
      chainId: i.chain_id,
      nonce: i.nonce,
    });
    expect(new TextDecoder().decode(fromBase64Url(envelope.payload))).toBe(V.event.payload_jcs);
    expect(envelope).toEqual(V.event.envelope);
    expect(governanceEventDigest(envelope)).toBe(V.event.event_digest);
    // Domain separation: the same body under another type does not verify.
    expect(() =>
      openVerifiedEnvelope(
        { ...envelope, type: 'helm.approval.v1' },
        'helm.approval.v1',
        () => policy.publicKey,
      ),
    ).toThrow();
  });

  it('log link, application record chain and signed cursor', () => {
    const genesis = `sha256:${'0'.repeat(64)}`;
    expect(
      canonicalize({
        type: 'helm.governance.link.v1',
        seq: 1,
        prev: genesis,
        event: V.event.event_digest,
        trust_seq: 9,
      }),
    ).toBe(V.link.input_jcs);
    expect(governanceLink(V.link.seq, V.link.prev, V.event.event_digest, V.link.trust_seq)).toBe(
      V.link.chain,
    );
    expect(governanceAppliedLink(genesis, 1, V.event.event_digest, V.applied.record)).toBe(V.applied.chain);
    expect(
      canonicalize({
        type: 'helm.governance.applied.v1',
        prev: genesis,
        seq: 1,
        event: V.event.event_digest,
        record: V.applied.record,
      }),
    ).toBe(V.applied.input_jcs);
    const guardian = createSigner(seed(V.keys.guardian_seed_hex));
    expect(guardian.keyId).toBe(V.keys.guardian_keyid);
    expect(V.cursor.body.log_chain).toBe(V.link.chain);
    expect(V.cursor.body.applied_chain).toBe(V.applied.chain);
    expect(canonicalize(V.cursor.body)).toBe(V.cursor.payload_jcs);
    expect(signEnvelope(V.cursor.body, [guardian])).toEqual(V.cursor.envelope);
  });

  it('the page quotes the file', () => {
    for (const value of [
      V.event.payload_jcs,
      V.event.event_digest,
      V.event.envelope.signatures[0].sig,
      V.link.input_jcs,
      V.link.chain,
      V.applied.chain,
      V.cursor.payload_jcs,
      V.cursor.envelope.signatures[0].sig,
      V.keys.policy_keyid,
    ]) {
      expect(PAGE).toContain(value);
    }
  });
});
