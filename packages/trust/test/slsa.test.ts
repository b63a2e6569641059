import { digest, type Signer } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { commitTrustEvent, createGenesisEvent, defaultRoleMapping, TrustRegistry } from '../src/index.ts';
import { verifySlsaProvenance } from '../src/sigstore.ts';
import { signer } from './helpers.ts';

const builderKey = signer(20);
const otherKey = signer(21);
const ARTIFACT = new TextEncoder().encode('\0asm\x01\0\0\0 a sandbox module');
const ARTIFACT_DIGEST = digest(ARTIFACT);
const HEX = ARTIFACT_DIGEST.slice(7);
const BUILDER =
  'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml@refs/tags/v2.1.0';
const BUILD_TYPE = 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1';
const EXPECT = {
  builderId: BUILDER,
  sourceRepository: 'https://github.com/acme/tools',
  sourceRef: 'refs/heads/main',
};

/** DSSE PAE written out independently of @sigstore/core (cross-check). */
function pae(type: string, body: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(`DSSEv1 ${type.length} ${type} ${body.length} `);
  return new Uint8Array(Buffer.concat([head, body]));
}

function statement(patch: Record<string, unknown> = {}) {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'tool.wasm', digest: { sha256: HEX } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: {
          workflow: {
            ref: 'refs/heads/main',
            repository: 'https://github.com/acme/tools',
            path: '.github/workflows/release.yml',
          },
        },
        resolvedDependencies: [
          { uri: 'git+https://github.com/acme/tools@refs/heads/main', digest: { gitCommit: 'a'.repeat(40) } },
        ],
      },
      runDetails: { builder: { id: BUILDER }, metadata: { invocationId: 'run-1' } },
    },
    ...patch,
  };
}

function dsse(body: unknown, signers: Signer[] = [builderKey], payloadType = 'application/vnd.in-toto+json') {
  const payload = new TextEncoder().encode(JSON.stringify(body));
  return {
    payloadType,
    payload: Buffer.from(payload).toString('base64'),
    signatures: signers.map((s) => ({
      keyid: s.keyId,
      sig: Buffer.from(s.sign(pae(payloadType, payload))).toString('base64'),
    })),
  };
}

/** The statement with `buildDefinition` fields replaced (others kept). */
function withBuild(patch: Record<string, unknown>) {
  const base = statement();
  return {
    ...base,
    predicate: { ...base.predicate, buildDefinition: { ...base.predicate.buildDefinition, ...patch } },
  };
}

const keys = (id: string) => (id === builderKey.keyId ? builderKey.publicKey : undefined);

/** The failure code of a verifier's answer ('NO_ERROR' when it verifies); a verifier never throws. */
function codeOf(fn: () => { readonly ok: boolean }): string {
  const answer = fn() as { readonly ok: boolean; readonly code?: string };
  return answer.ok ? 'NO_ERROR' : String(answer.code);
}

describe('SLSA v1 provenance', () => {
  it('verifies a valid Ed25519-signed DSSE provenance', () => {
    const result = verifySlsaProvenance(dsse(statement()), ARTIFACT_DIGEST, EXPECT, keys);
    expect(result).toMatchObject({
      builderId: BUILDER,
      buildType: BUILD_TYPE,
      subjectName: 'tool.wasm',
      keyIds: [builderKey.keyId],
    });
    expect(result.source).toEqual({
      repository: 'https://github.com/acme/tools',
      ref: 'refs/heads/main',
      path: '.github/workflows/release.yml',
    });
    // any ref, exact build type and workflow path
    expect(
      codeOf(() =>
        verifySlsaProvenance(
          dsse(statement()),
          ARTIFACT_DIGEST,
          {
            builderId: BUILDER,
            sourceRepository: EXPECT.sourceRepository,
            sourcePath: '.github/workflows/release.yml',
            buildType: BUILD_TYPE,
          },
          keys,
        ),
      ),
    ).toBe('NO_ERROR');
    // GitHub's own workflow build type (artifact attestations)
    expect(
      verifySlsaProvenance(
        dsse(
          withBuild({
            buildType: 'https://actions.github.io/buildtypes/workflow/v1',
            externalParameters: {
              runner_environment: 'github-hosted',
              workflow: {
                ref: 'refs/heads/main',
                repository: 'https://github.com/acme/tools',
                path: '.github/workflows/release.yml',
              },
            },
          }),
        ),
        ARTIFACT_DIGEST,
        EXPECT,
        keys,
      ).buildType,
    ).toBe('https://actions.github.io/buildtypes/workflow/v1');
  });

  it('refuses a wrong subject digest', () => {
    expect(
      codeOf(() => verifySlsaProvenance(dsse(statement()), digest(new Uint8Array([1])), EXPECT, keys)),
    ).toBe('SLSA_SUBJECT_MISMATCH');
    expect(codeOf(() => verifySlsaProvenance(dsse(statement()), 'sha256:XYZ', EXPECT, keys))).toBe(
      'SLSA_SUBJECT_MISMATCH',
    );
  });

  it('refuses a wrong builder, build type or source', () => {
    expect(
      codeOf(() =>
        verifySlsaProvenance(
          dsse(statement()),
          ARTIFACT_DIGEST,
          { ...EXPECT, builderId: `${BUILDER}x` },
          keys,
        ),
      ),
    ).toBe('SLSA_BUILDER_MISMATCH');
    expect(
      codeOf(() =>
        verifySlsaProvenance(
          dsse(statement()),
          ARTIFACT_DIGEST,
          { ...EXPECT, buildType: 'https://example.com/other' },
          keys,
        ),
      ),
    ).toBe('SLSA_BUILDER_MISMATCH');
    expect(
      codeOf(() =>
        verifySlsaProvenance(
          dsse(statement()),
          ARTIFACT_DIGEST,
          { ...EXPECT, sourceRepository: 'https://github.com/evil/tools' },
          keys,
        ),
      ),
    ).toBe('SLSA_SOURCE_MISMATCH');
    expect(
      codeOf(() =>
        verifySlsaProvenance(
          dsse(statement()),
          ARTIFACT_DIGEST,
          { ...EXPECT, sourceRef: 'refs/heads/dev' },
          keys,
        ),
      ),
    ).toBe('SLSA_SOURCE_MISMATCH');
    const noBuildType = statement();
    delete (noBuildType.predicate.buildDefinition as Record<string, unknown>).buildType;
    expect(codeOf(() => verifySlsaProvenance(dsse(noBuildType), ARTIFACT_DIGEST, EXPECT, keys))).toBe(
      'SLSA_STATEMENT_MALFORMED',
    );
  });

  it('refuses a tampered statement and bad signatures', () => {
    const env = dsse(statement());
    const tampered = {
      ...env,
      payload: Buffer.from(
        JSON.stringify(statement({ subject: [{ name: 'evil', digest: { sha256: HEX } }] })),
      ).toString('base64'),
    };
    expect(codeOf(() => verifySlsaProvenance(tampered, ARTIFACT_DIGEST, EXPECT, keys))).toBe(
      'SLSA_SIGNATURE_INVALID',
    );
    const badSig = {
      ...env,
      signatures: [{ keyid: builderKey.keyId, sig: Buffer.alloc(64, 7).toString('base64') }],
    };
    expect(codeOf(() => verifySlsaProvenance(badSig, ARTIFACT_DIGEST, EXPECT, keys))).toBe(
      'SLSA_SIGNATURE_INVALID',
    );
    expect(
      codeOf(() => verifySlsaProvenance(dsse(statement(), [otherKey]), ARTIFACT_DIGEST, EXPECT, keys)),
    ).toBe('SLSA_SIGNATURE_INVALID');
    expect(
      codeOf(() =>
        verifySlsaProvenance(
          { ...env, signatures: [{ sig: env.signatures[0]?.sig }] },
          ARTIFACT_DIGEST,
          EXPECT,
          keys,
        ),
      ),
    ).toBe('SLSA_SIGNATURE_INVALID');
    // the signature binds the payload type too
    expect(
      codeOf(() =>
        verifySlsaProvenance({ ...env, payloadType: 'application/json' }, ARTIFACT_DIGEST, EXPECT, keys),
      ),
    ).toBe('SLSA_SIGNATURE_INVALID');
    // threshold of distinct trusted keys (I-SLSA-2 has the attacker's cases)
    const both = (id: string) => (id === otherKey.keyId ? otherKey.publicKey : keys(id));
    expect(codeOf(() => verifySlsaProvenance(env, ARTIFACT_DIGEST, EXPECT, both, 2))).toBe(
      'SLSA_SIGNATURE_INVALID',
    );
    expect(
      verifySlsaProvenance(dsse(statement(), [builderKey, otherKey]), ARTIFACT_DIGEST, EXPECT, both, 2)
        .keyIds,
    ).toHaveLength(2);
    expect(codeOf(() => verifySlsaProvenance(env, ARTIFACT_DIGEST, EXPECT, keys, 0))).toBe(
      'SLSA_ENVELOPE_MALFORMED',
    );
  });

  it('answers every input with a result (never throws on input); a throwing key lookup propagates', () => {
    for (const junk of [
      null,
      undefined,
      0,
      'x',
      [],
      {},
      { payloadType: 1 },
      { payloadType: 'x', signatures: {} },
    ])
      expect(codeOf(() => verifySlsaProvenance(junk, ARTIFACT_DIGEST, EXPECT, keys))).toBe(
        'SLSA_ENVELOPE_MALFORMED',
      );
    expect(codeOf(() => verifySlsaProvenance(dsse(statement()), 42 as unknown as string, EXPECT, keys))).toBe(
      'SLSA_SUBJECT_MISMATCH',
    );
    expect(() =>
      verifySlsaProvenance(dsse(statement()), ARTIFACT_DIGEST, EXPECT, () => {
        throw new Error('lookup down');
      }),
    ).toThrow('lookup down');
  });

  it('refuses malformed envelopes and statements (after the signature check)', () => {
    expect(codeOf(() => verifySlsaProvenance(null, ARTIFACT_DIGEST, EXPECT, keys))).toBe(
      'SLSA_ENVELOPE_MALFORMED',
    );
    expect(
      codeOf(() =>
        verifySlsaProvenance(
          { payloadType: 'x', payload: '***', signatures: [] },
          ARTIFACT_DIGEST,
          EXPECT,
          keys,
        ),
      ),
    ).toBe('SLSA_ENVELOPE_MALFORMED');
    expect(
      codeOf(() =>
        verifySlsaProvenance(
          dsse(statement(), [builderKey], 'application/json'),
          ARTIFACT_DIGEST,
          EXPECT,
          keys,
        ),
      ),
    ).toBe('SLSA_STATEMENT_MALFORMED');
    expect(codeOf(() => verifySlsaProvenance(dsse('just a string'), ARTIFACT_DIGEST, EXPECT, keys))).toBe(
      'SLSA_STATEMENT_MALFORMED',
    );
    expect(
      codeOf(() =>
        verifySlsaProvenance(
          dsse(statement({ _type: 'https://in-toto.io/Statement/v0.1' })),
          ARTIFACT_DIGEST,
          EXPECT,
          keys,
        ),
      ),
    ).toBe('SLSA_STATEMENT_MALFORMED');
    expect(
      codeOf(() =>
        verifySlsaProvenance(
          dsse(statement({ predicateType: 'https://slsa.dev/provenance/v0.2' })),
          ARTIFACT_DIGEST,
          EXPECT,
          keys,
        ),
      ),
    ).toBe('SLSA_PREDICATE_TYPE_INVALID');
    expect(
      codeOf(() => verifySlsaProvenance(dsse(statement({ predicate: null })), ARTIFACT_DIGEST, EXPECT, keys)),
    ).toBe('SLSA_STATEMENT_MALFORMED');
    const notJson = {
      payloadType: 'application/vnd.in-toto+json',
      payload: Buffer.from('{').toString('base64'),
      signatures: [] as { keyid: string; sig: string }[],
    };
    notJson.signatures.push({
      keyid: builderKey.keyId,
      sig: Buffer.from(builderKey.sign(pae(notJson.payloadType, new TextEncoder().encode('{')))).toString(
        'base64',
      ),
    });
    expect(codeOf(() => verifySlsaProvenance(notJson, ARTIFACT_DIGEST, EXPECT, keys))).toBe(
      'SLSA_STATEMENT_MALFORMED',
    );
    const weirdDeps = statement();
    const bd = weirdDeps.predicate.buildDefinition as Record<string, unknown>;
    bd.externalParameters = {};
    bd.resolvedDependencies = [{ uri: 'https://not-git' }, { uri: 'git+@x' }, 7];
    expect(codeOf(() => verifySlsaProvenance(dsse(weirdDeps), ARTIFACT_DIGEST, EXPECT, keys))).toBe(
      'SLSA_SOURCE_MISMATCH',
    );
  });

  it('takes its keys from the trust registry (a revoked builder key no longer verifies)', () => {
    const roots = [signer(1)];
    const registry = TrustRegistry.fromGenesis(
      createGenesisEvent({ registry: 'slsa', rootKeys: [roots[0]!.publicKey], rootThreshold: 1 }, roots),
    );
    commitTrustEvent(
      registry,
      { kind: 'key_publish', publicKey: builderKey.publicKey, roles: ['policy'] },
      roots,
    );
    commitTrustEvent(registry, { kind: 'key_revoke', keyid: builderKey.keyId }, roots);
    expect(
      verifySlsaProvenance(dsse(statement()), ARTIFACT_DIGEST, EXPECT, registry.lookupFor('policy', 2))
        .keyIds,
    ).toEqual([builderKey.keyId]);
    expect(
      codeOf(() =>
        verifySlsaProvenance(dsse(statement()), ARTIFACT_DIGEST, EXPECT, registry.lookupFor('policy', 3)),
      ),
    ).toBe('SLSA_SIGNATURE_INVALID');
  });
});

describe('registry roles of checkpoint signers', () => {
  const ckSigner = signer(30);

  it('maps ProofGraph role names onto registry roles', () => {
    expect(defaultRoleMapping('checkpoint-signer')).toBe('checkpoint');
    expect(defaultRoleMapping('approver')).toBe('approver');
    expect(defaultRoleMapping('node:RECEIPT')).toBeUndefined();
    expect(defaultRoleMapping('receipt-signer')).toBe('executor');
    const roots = [signer(1)];
    const registry = TrustRegistry.fromGenesis(
      createGenesisEvent({ registry: 'ck', rootKeys: [roots[0]!.publicKey], rootThreshold: 1 }, roots),
    );
    commitTrustEvent(
      registry,
      { kind: 'key_publish', publicKey: ckSigner.publicKey, roles: ['checkpoint'] },
      roots,
    );
    const lookupFn = registry.keyLookup();
    expect(lookupFn(ckSigner.keyId, 'checkpoint-signer', 2)).toBeInstanceOf(Uint8Array);
    expect(lookupFn(ckSigner.keyId, 'node:RECEIPT', 2)).toBeUndefined();
    const custom = registry.keyLookup((role) => (role.startsWith('node:') ? 'checkpoint' : undefined));
    expect(custom(ckSigner.keyId, 'node:RECEIPT', 2)).toBeInstanceOf(Uint8Array);
    expect(registry.lookupFor('checkpoint', 2)(ckSigner.keyId)).toEqual(ckSigner.publicKey);
    // "authorized now": follows the head as events are appended
    const now = registry.keyAuthorization();
    expect(now(ckSigner.keyId, 'checkpoint')).toBeInstanceOf(Uint8Array);
    commitTrustEvent(registry, { kind: 'key_revoke', keyid: ckSigner.keyId }, roots);
    expect(now(ckSigner.keyId, 'checkpoint')).toBeUndefined();
    expect(
      registry.keyAuthorization((r) => (r === 'x' ? 'checkpoint' : undefined))(roots[0]!.keyId, 'x'),
    ).toBeUndefined();
  });
});

describe('I-SLSA-1: the source is the parameter the build type defines, and only known build types pass', () => {
  const GITHUB_BUILD_TYPE = 'https://actions.github.io/buildtypes/workflow/v1';
  const evilWorkflow = {
    ref: 'refs/heads/main',
    repository: 'https://github.com/evil/tools',
    path: '.github/workflows/release.yml',
  };
  const verify = (s: unknown, expect_: Record<string, unknown> = EXPECT) =>
    codeOf(() => verifySlsaProvenance(dsse(s), ARTIFACT_DIGEST, expect_ as typeof EXPECT, keys, 1));

  it('a resolvedDependencies entry naming the expected repository is not the source', () => {
    // the attacker builds from evil/tools and lists acme/tools as one more (unused) input
    const smuggled = withBuild({
      externalParameters: { workflow: evilWorkflow },
      resolvedDependencies: [
        { uri: 'git+https://github.com/evil/tools@refs/heads/main', digest: { gitCommit: 'b'.repeat(40) } },
        { uri: 'git+https://github.com/acme/tools@refs/heads/main', digest: { gitCommit: 'a'.repeat(40) } },
      ],
    });
    expect(verify(smuggled)).toBe('SLSA_SOURCE_MISMATCH');
    // no workflow at all: the dependency alone never names the source
    const depsOnly = withBuild({
      externalParameters: {},
      resolvedDependencies: [{ uri: 'git+https://github.com/acme/tools@refs/heads/main' }],
    });
    expect(verify(depsOnly)).toBe('SLSA_SOURCE_MISMATCH');
    // and the ref of a dependency does not stand in for the workflow's ref
    const refSmuggled = withBuild({
      externalParameters: {
        workflow: { ...evilWorkflow, repository: 'https://github.com/acme/tools', ref: 'refs/heads/evil' },
      },
      resolvedDependencies: [{ uri: 'git+https://github.com/acme/tools@refs/heads/main' }],
    });
    expect(verify(refSmuggled)).toBe('SLSA_SOURCE_MISMATCH');
  });

  it('workflow parameters under a build type we do not know are refused, whatever they say', () => {
    for (const buildType of [
      'https://example.com/build/v1',
      'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v2',
      'https://github.com/slsa-framework/slsa-github-generator/generic@v1',
      `${BUILD_TYPE}/`,
      BUILD_TYPE.toUpperCase(),
    ]) {
      expect(verify(withBuild({ buildType })), buildType).toBe('SLSA_BUILD_TYPE_UNSUPPORTED');
      // an expectation naming it does not make it acceptable
      expect(verify(withBuild({ buildType }), { ...EXPECT, buildType }), buildType).toBe(
        'SLSA_BUILD_TYPE_UNSUPPORTED',
      );
    }
    expect(verify(withBuild({ buildType: 7 }))).toBe('SLSA_STATEMENT_MALFORMED');
  });

  it('refuses external parameters the build type does not define (the source cannot hide elsewhere)', () => {
    const wf = statement().predicate.buildDefinition.externalParameters.workflow;
    expect(
      verify(withBuild({ externalParameters: { workflow: wf, source: 'https://github.com/acme/tools' } })),
    ).toBe('SLSA_STATEMENT_MALFORMED');
    // runner_environment is GitHub's parameter, not the SLSA community type's; inputs the reverse
    expect(
      verify(withBuild({ externalParameters: { workflow: wf, runner_environment: 'github-hosted' } })),
    ).toBe('SLSA_STATEMENT_MALFORMED');
    expect(
      verify(
        withBuild({ buildType: GITHUB_BUILD_TYPE, externalParameters: { workflow: wf, inputs: { a: '1' } } }),
      ),
    ).toBe('SLSA_STATEMENT_MALFORMED');
    expect(verify(withBuild({ externalParameters: { workflow: wf, inputs: {}, release: {} } }))).toBe(
      'SLSA_STATEMENT_MALFORMED',
    );
    expect(verify(withBuild({ externalParameters: { workflow: wf, inputs: { a: '1' }, vars: {} } }))).toBe(
      'NO_ERROR',
    );
    expect(verify(withBuild({ externalParameters: undefined }))).toBe('SLSA_STATEMENT_MALFORMED');
  });

  it('the workflow parameter is exactly {repository, ref, path}, all required', () => {
    const wf = statement().predicate.buildDefinition.externalParameters.workflow;
    const bad: unknown[] = [
      { repository: wf.repository, ref: wf.ref },
      { repository: wf.repository, path: wf.path },
      { ...wf, ref: 'main' },
      { ...wf, repository: '' },
      { ...wf, path: 7 },
      { ...wf, source: 'https://github.com/acme/tools' },
      [wf],
      'https://github.com/acme/tools',
    ];
    for (const workflow of bad) {
      expect(verify(withBuild({ externalParameters: { workflow } })), JSON.stringify(workflow)).toBe(
        'SLSA_SOURCE_MISMATCH',
      );
    }
    expect(verify(statement(), { ...EXPECT, sourcePath: '.github/workflows/other.yml' })).toBe(
      'SLSA_SOURCE_MISMATCH',
    );
  });
});

describe('I-SLSA-2: a DSSE threshold counts distinct public keys, not key ids', () => {
  it('one key under two key ids does not meet threshold 2', () => {
    const env = dsse(statement());
    const sig = env.signatures[0]?.sig as string;
    const twice = {
      ...env,
      signatures: [
        { keyid: 'alias-a', sig },
        { keyid: 'alias-b', sig },
      ],
    };
    const aliases = (id: string) => (id === 'alias-a' || id === 'alias-b' ? builderKey.publicKey : undefined);
    expect(codeOf(() => verifySlsaProvenance(twice, ARTIFACT_DIGEST, EXPECT, aliases, 2))).toBe(
      'SLSA_SIGNATURE_INVALID',
    );
    // a lookup handing out a fresh copy of the same key per id is the same key
    const copies = (id: string) =>
      id.startsWith('alias-') ? Uint8Array.from(builderKey.publicKey) : undefined;
    expect(codeOf(() => verifySlsaProvenance(twice, ARTIFACT_DIGEST, EXPECT, copies, 2))).toBe(
      'SLSA_SIGNATURE_INVALID',
    );
    // the same signature repeated under one id, too
    const repeated = { ...env, signatures: [env.signatures[0], env.signatures[0]] };
    expect(codeOf(() => verifySlsaProvenance(repeated, ARTIFACT_DIGEST, EXPECT, keys, 2))).toBe(
      'SLSA_SIGNATURE_INVALID',
    );
    // threshold 1 still passes, reporting the key once
    expect(verifySlsaProvenance(twice, ARTIFACT_DIGEST, EXPECT, aliases, 1).keyIds).toEqual(['alias-a']);
    // two distinct keys meet 2 (one of them under two ids still counts once: 2, not 3)
    const two = dsse(statement(), [builderKey, otherKey]);
    const three = { ...two, signatures: [...two.signatures, { keyid: 'alias-a', sig }] };
    const lookup = (id: string) =>
      id === otherKey.keyId ? otherKey.publicKey : id === 'alias-a' ? builderKey.publicKey : keys(id);
    expect(verifySlsaProvenance(three, ARTIFACT_DIGEST, EXPECT, lookup, 2).keyIds).toHaveLength(2);
    expect(codeOf(() => verifySlsaProvenance(three, ARTIFACT_DIGEST, EXPECT, lookup, 3))).toBe(
      'SLSA_SIGNATURE_INVALID',
    );
  });
});
