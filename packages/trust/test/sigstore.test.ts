import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifySigstoreBundle } from '../src/sigstore.ts';

const BASE = new URL('../../../../shared/testdata/sigstore/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', BASE), 'utf8'));
const read = (p: string) => readFileSync(new URL(p, BASE));
const json = (p: string) => JSON.parse(read(p).toString('utf8'));

interface Case {
  name: string;
  expect: 'pass' | 'fail';
  bundle: string;
  trusted_root: string;
  artifact: string;
  public_key?: string;
  identity?: string;
  issuer?: string;
}

function run(c: Case, overrides: Record<string, unknown> = {}) {
  return verifySigstoreBundle(json(c.bundle), {
    trustedRoot: json(c.trusted_root),
    artifact: new Uint8Array(read(c.artifact)),
    ...(c.identity && c.issuer ? { identity: { subjectAlternativeName: c.identity, issuer: c.issuer } } : {}),
    ...(c.public_key ? { publicKeys: [read(c.public_key).toString('utf8')] } : {}),
    ...overrides,
  });
}

/** The failure code of a verifier's answer ('NO_ERROR' when it verifies); a verifier never throws. */
function codeOf(fn: () => { readonly ok: boolean }): string {
  const answer = fn() as { readonly ok: boolean; readonly code?: string };
  return answer.ok ? 'NO_ERROR' : String(answer.code);
}

const cases = manifest.cases as Case[];
const byName = (n: string) => cases.find((c) => c.name === n) as Case;

describe('Sigstore conformance cases (shared manifest)', () => {
  it('has all 12 cases', () => expect(cases).toHaveLength(12));

  it.each(cases.map((c) => [c.name, c] as const))('%s gives its expected outcome', (_name, c) => {
    const outcome = codeOf(() => run(c));
    if (c.expect === 'pass') expect(outcome).toBe('NO_ERROR');
    else expect(outcome).toMatch(/^SIGSTORE_/);
  });

  it('reports specific codes for the failure cases', () => {
    const expected: Record<string, string> = {
      'intoto-expired-certificate_fail': 'SIGSTORE_CERTIFICATE_INVALID',
      'intoto-log-entry-mismatch_fail': 'SIGSTORE_TLOG_INVALID',
      'invalid-ct-key_fail': 'SIGSTORE_CERTIFICATE_INVALID',
      'rekor2-checkpoint-no-matching-signature_fail': 'SIGSTORE_TLOG_INVALID',
      'rekor2-no-inclusion-proof_fail': 'SIGSTORE_BUNDLE_MALFORMED',
      'rekor2-no-timestamp_fail': 'SIGSTORE_TIMESTAMP_INVALID',
      'rekor2-timestamp-payload-mismatch_fail': 'SIGSTORE_TIMESTAMP_INVALID',
    };
    for (const [name, code] of Object.entries(expected))
      expect(
        codeOf(() => run(byName(name))),
        name,
      ).toBe(code);
  });

  it('returns what was verified', () => {
    const dsse = run(byName('intoto-with-custom-trust-root'));
    expect(dsse.content).toBe('dsseEnvelope');
    expect(dsse.payloadType).toBe('application/vnd.in-toto+json');
    expect(dsse.identity?.issuer).toBe('https://token.actions.githubusercontent.com');
    expect(dsse.artifactDigest).toBe(
      'sha256:330a043220fa13e01d68a7db39c89e12b0c4c3b6a0346fe624b0903f1303b5b2',
    );
    const key = run(byName('managed-key-and-trusted-root'));
    expect(key).toMatchObject({
      content: 'messageSignature',
      verificationMaterial: 'publicKey',
      identity: null,
    });
  });
});

describe('Sigstore policy (adversarial)', () => {
  const happy = byName('rekor2-happy-path');
  const dsse = byName('intoto-with-custom-trust-root');
  const managed = byName('managed-key-and-trusted-root');

  it('refuses the wrong artifact', () => {
    expect(codeOf(() => run(happy, { artifact: new TextEncoder().encode('other') }))).toBe(
      'SIGSTORE_SIGNATURE_INVALID',
    );
    expect(codeOf(() => run(dsse, { artifact: new TextEncoder().encode('other') }))).toBe(
      'SIGSTORE_SUBJECT_MISMATCH',
    );
  });

  it('refuses a wrong identity or issuer, compared exactly (no pattern matching)', () => {
    const id = { subjectAlternativeName: happy.identity as string, issuer: happy.issuer as string };
    expect(codeOf(() => run(happy, { identity: { ...id, issuer: 'https://accounts.google.com' } }))).toBe(
      'SIGSTORE_IDENTITY_MISMATCH',
    );
    expect(codeOf(() => run(happy, { identity: { ...id, subjectAlternativeName: '.*' } }))).toBe(
      'SIGSTORE_IDENTITY_MISMATCH',
    );
    expect(
      codeOf(() =>
        run(happy, { identity: { ...id, subjectAlternativeName: id.subjectAlternativeName.slice(0, -1) } }),
      ),
    ).toBe('SIGSTORE_IDENTITY_MISMATCH');
    expect(
      codeOf(() =>
        verifySigstoreBundle(json(happy.bundle), {
          trustedRoot: json(happy.trusted_root),
          artifact: new Uint8Array(read(happy.artifact)),
        }),
      ),
    ).toBe('SIGSTORE_POLICY_INVALID');
  });

  it('enforces thresholds', () => {
    expect(codeOf(() => run(happy, { tlogThreshold: 2 }))).toBe('SIGSTORE_TLOG_INVALID');
    expect(codeOf(() => run(happy, { timestampThreshold: 3 }))).toBe('SIGSTORE_TIMESTAMP_INVALID');
    expect(codeOf(() => run(happy, { ctlogThreshold: 2 }))).toBe('SIGSTORE_CERTIFICATE_INVALID');
    expect(codeOf(() => run(happy, { tlogThreshold: -1 }))).toBe('SIGSTORE_POLICY_INVALID');
  });

  it('needs the managed key', () => {
    expect(codeOf(() => run(managed, { publicKeys: [] }))).toBe('SIGSTORE_PUBLIC_KEY_INVALID');
    expect(codeOf(() => run(managed, { publicKeys: ['not a pem'] }))).toBe('SIGSTORE_POLICY_INVALID');
  });

  it('refuses tampered bundles and trust roots', () => {
    const b = json(happy.bundle);
    b.messageSignature.signature = Buffer.from('x'.repeat(70)).toString('base64');
    expect(codeOf(() => run(happy, { bundle: undefined }))).toBe('NO_ERROR');
    expect(
      codeOf(() =>
        verifySigstoreBundle(b, {
          trustedRoot: json(happy.trusted_root),
          artifact: new Uint8Array(read(happy.artifact)),
          identity: { subjectAlternativeName: happy.identity as string, issuer: happy.issuer as string },
        }),
      ),
    ).toMatch(/^SIGSTORE_(TLOG|SIGNATURE|TIMESTAMP)_INVALID$/);
    expect(
      codeOf(() =>
        verifySigstoreBundle(
          { mediaType: 'nope' },
          { trustedRoot: json(happy.trusted_root), artifact: new Uint8Array() },
        ),
      ),
    ).toBe('SIGSTORE_BUNDLE_MALFORMED');
    const root = json(happy.trusted_root);
    expect(codeOf(() => run(happy, { trustedRoot: { ...root, mediaType: 'x' } }))).toBe(
      'SIGSTORE_TRUST_ROOT_MALFORMED',
    );
    expect(codeOf(() => run(happy, { trustedRoot: null }))).toBe('SIGSTORE_TRUST_ROOT_MALFORMED');
    expect(codeOf(() => run(happy, { trustedRoot: { ...root, tlogs: {} } }))).toBe(
      'SIGSTORE_TRUST_ROOT_MALFORMED',
    );
    expect(
      codeOf(() =>
        run(happy, {
          trustedRoot: { ...root, tlogs: [], ctlogs: undefined, timestampAuthorities: undefined },
        }),
      ),
    ).toMatch(/^SIGSTORE_/);
    const badKey = structuredClone(root);
    badKey.tlogs[0].publicKey.rawBytes = 'AAAA';
    expect(codeOf(() => run(happy, { trustedRoot: badKey }))).toBe('SIGSTORE_TRUST_ROOT_MALFORMED');
    const badB64 = structuredClone(root);
    badB64.tlogs[0].publicKey.rawBytes = '***';
    expect(codeOf(() => run(happy, { trustedRoot: badB64 }))).toBe('SIGSTORE_TRUST_ROOT_MALFORMED');
    const badCert = structuredClone(root);
    badCert.certificateAuthorities[0].certChain.certificates[0].rawBytes = 'AAAA';
    expect(codeOf(() => run(happy, { trustedRoot: badCert }))).toBe('SIGSTORE_TRUST_ROOT_MALFORMED');
    const noCerts = structuredClone(root);
    noCerts.certificateAuthorities[0].certChain.certificates = [];
    expect(codeOf(() => run(happy, { trustedRoot: noCerts }))).toBe('SIGSTORE_TRUST_ROOT_MALFORMED');
    const badTime = structuredClone(root);
    badTime.certificateAuthorities[0].validFor.start = 'yesterday';
    expect(codeOf(() => run(happy, { trustedRoot: badTime }))).toBe('SIGSTORE_TRUST_ROOT_MALFORMED');
    // a CA window that ends before the signing time rejects the certificate
    const ended = structuredClone(root);
    for (const ca of ended.certificateAuthorities)
      ca.validFor = { start: '2020-01-01T00:00:00Z', end: '2021-01-01T00:00:00Z' };
    expect(codeOf(() => run(happy, { trustedRoot: ended }))).toBe('SIGSTORE_CERTIFICATE_INVALID');
  });
});
