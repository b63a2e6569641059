// I-EVIDENCE-2 (and I-EVIDENCE-4) at the command line — `helmts verify` answers every pack with a
// verdict: an edited pack is FAILED with exit 1, never `error (INTERNAL)` with exit 2; a pack of an
// unsupported manifest version says "NOT VERIFIED" and exits 1, never 0.
//
// Written from the attacker's side: an honest pack exported by `helmts export`, edited without any key.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SignedEnvelope } from '@helm/contracts';
import { canonicalBytes, fromBase64Url, toBase64Url } from '@helm/crypto';
import { readTar, type TarEntry, writeTar } from '@helm/evidencepack';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportCommand, runCall } from '../../src/commands/index.ts';
import { initEchoHome, runCli, tempRoot } from '../helpers.ts';

const root = tempRoot('helm-adv-evidence-');
let entries: TarEntry[];
let anchor: string;

beforeAll(async () => {
  const { data } = await initEchoHome(root, 'home');
  for (const x of [1, 2]) await runCall(data, { tool: 'echo', principal: 'local', args: `{"x":${x}}` });
  const out = join(root, 'honest.tar');
  expect(exportCommand(data, { out }).exitCode).toBe(0);
  entries = readTar(new Uint8Array(readFileSync(out)));
  anchor = data.config().trust_anchor;
});

const dec = new TextDecoder();
const put = (es: TarEntry[], path: string, data: Uint8Array) => [
  ...es.filter((e) => e.path !== path),
  { path, data },
];

/** Edit the manifest body in place: the signature is not renewed (no key needed). */
function editManifest(f: (m: Record<string, unknown>) => unknown, envelopeType?: string): TarEntry[] {
  const m = entries.find((e) => e.path === 'manifest.json') as TarEntry;
  const env = JSON.parse(dec.decode(m.data)) as SignedEnvelope;
  const body = JSON.parse(dec.decode(fromBase64Url(env.payload))) as Record<string, unknown>;
  const edited = { ...env, type: envelopeType ?? env.type, payload: toBase64Url(canonicalBytes(f(body))) };
  return put(entries, 'manifest.json', canonicalBytes(edited));
}

async function verify(name: string, es: TarEntry[], json = false) {
  const path = join(root, `${name}.tar`);
  writeFileSync(path, writeTar(es));
  return runCli(['verify', path, '--trust-anchor', anchor, '--workers', '0', ...(json ? ['--json'] : [])]);
}

describe('I-EVIDENCE-2: helmts verify gives every edited pack a verdict (exit 1 FAILED, never 2 INTERNAL)', () => {
  it('the honest pack passes (exit 0)', async () => {
    const r = await verify('pass', entries);
    expect(r.code, r.out).toBe(0);
  });

  const cases: [string, () => TarEntry[]][] = [
    [
      'a manifest payload without counts',
      () =>
        editManifest((m) => {
          const { counts: _c, ...rest } = m;
          return rest;
        }),
    ],
    [
      'index.json with "policies": 5',
      () => {
        const index = JSON.parse(dec.decode(entries.find((e) => e.path === 'index.json')?.data)) as object;
        return put(entries, 'index.json', canonicalBytes({ ...index, policies: 5 }));
      },
    ],
    [
      'index.json with "schemas": {"a":1}',
      () => {
        const index = JSON.parse(dec.decode(entries.find((e) => e.path === 'index.json')?.data)) as object;
        return put(entries, 'index.json', canonicalBytes({ ...index, schemas: { a: 1 } }));
      },
    ],
    [
      'an unlisted proofgraph node whose content is 1',
      () =>
        put(entries, `proofgraph/nodes/000000000001-${'0'.repeat(64)}.json`, new TextEncoder().encode('1')),
    ],
  ];
  for (const [what, edit] of cases) {
    it(what, async () => {
      const human = await verify('edited', edit());
      expect(human.code, human.out).toBe(1);
      expect(human.out).toMatch(/FAILED: the evidence contradicts itself/);
      expect(human.out).not.toMatch(/INTERNAL/);
      const json = await verify('edited-json', edit(), true);
      expect(json.code).toBe(1);
      expect(json.json?.report).toMatchObject({ status: 'FAILED' });
    });
  }
});

describe('I-EVIDENCE-4: helmts verify on an unsupported manifest version', () => {
  it('a pack relabelled helm.evidencepack.manifest.v2 is NOT VERIFIED and exits 1', async () => {
    const v2 = 'helm.evidencepack.manifest.v2';
    const relabelled = editManifest((m) => ({ ...m, type: v2 }), v2);
    const human = await verify('v2', relabelled);
    expect(human.code).toBe(1);
    expect(human.out).toMatch(/NOT VERIFIED: pack format helm\.evidencepack\.manifest\.v2/);
    expect(human.out).not.toMatch(/^PASS/m);
    const json = await verify('v2-json', relabelled, true);
    expect(json.code).toBe(1);
    expect(json.json?.report).toMatchObject({ status: 'FAILED', format_unsupported: true, manifest: null });
  });
});
