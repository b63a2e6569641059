// I-EVIDENCE-8 at the command line — `helmts replay <pack>` verifies the pack first and exits 1 with
// "NOT VERIFIED" on a pack that does not verify (never "matches the signed evidence"); and
// `helmts verify --expect-head/--expect-lamport` FAILS (exit 1, EXPECTED_HEAD_MISMATCH) a pack the
// sealer cut before the head the verifier holds.
//
// Written from the attacker's side: packs exported by `helmts export`, a policy edited without a key,
// and an honest but truncated export (`--to 1`) presented as the whole chain.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SignedEnvelope } from '@helm/contracts';
import { canonicalBytes } from '@helm/crypto';
import {
  bindEntries,
  ENTRIES_PATH,
  envelopeBody,
  manifestEntries,
  readTar,
  type TarEntry,
  writeTar,
} from '@helm/evidencepack';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportCommand, runCall } from '../../src/commands/index.ts';
import { initEchoHome, runCli, tempRoot } from '../helpers.ts';

const root = tempRoot('helm-adv-evidence8-');
const full = join(root, 'full.tar');
const cut = join(root, 'cut.tar');
const edited = join(root, 'edited.tar');
let anchor: string;
let head: { lamport: number; hash: string };

beforeAll(async () => {
  const { data } = await initEchoHome(root, 'home');
  for (const x of [1, 2, 3]) await runCall(data, { tool: 'echo', principal: 'local', args: `{"x":${x}}` });
  expect(exportCommand(data, { out: full }).exitCode).toBe(0);
  expect(exportCommand(data, { out: cut, to: '2' }).exitCode).toBe(0);
  anchor = data.config().trust_anchor;
  const entries = readTar(new Uint8Array(readFileSync(full)));
  const manifest = entries.find((e) => e.path === 'manifest.json') as TarEntry;
  head = envelopeBody<{ head: typeof head }>(
    JSON.parse(new TextDecoder().decode(manifest.data)) as SignedEnvelope,
  ).head;
  // A policy edited, the manifest entry list patched, the signature not renewed (no key).
  const policy = entries.find((e) => e.path.startsWith('policies/')) as TarEntry;
  const doc = JSON.parse(new TextDecoder().decode(policy.data)) as Record<string, unknown>;
  const changed = entries.map((e) =>
    e === policy ? { path: e.path, data: canonicalBytes({ ...doc, x: 1 }) } : e,
  );
  const files = new Map(changed.filter((e) => e.path !== 'manifest.json').map((e) => [e.path, e.data]));
  const env = JSON.parse(new TextDecoder().decode(manifest.data)) as SignedEnvelope;
  const body = envelopeBody<Record<string, unknown>>(env);
  const { ref, data: list } = bindEntries(manifestEntries(files));
  const payload = Buffer.from(canonicalBytes({ ...body, entries: ref })).toString('base64url');
  writeFileSync(
    edited,
    writeTar(
      changed.map((e) =>
        e === manifest
          ? { path: e.path, data: canonicalBytes({ ...env, payload }) }
          : e.path === ENTRIES_PATH
            ? { path: e.path, data: list }
            : e,
      ),
    ),
  );
});

describe('I-EVIDENCE-8: helmts replay exits 1 on a pack that does not verify', () => {
  it('the honest pack replays (exit 0), pinned or not', async () => {
    expect((await runCli(['replay', full, '--trust-anchor', anchor])).code).toBe(0);
    expect((await runCli(['replay', full])).code).toBe(0);
  });

  it('an edited pack: exit 1, NOT VERIFIED, never "matches the signed evidence"', async () => {
    for (const args of [[edited], [edited, '--trust-anchor', anchor]]) {
      const r = await runCli(['replay', ...args]);
      expect(r.code, r.out).toBe(1);
      expect(r.out).toMatch(/NOT VERIFIED/);
      expect(r.out).not.toMatch(/matches the signed evidence/);
    }
    const r = await runCli(['replay', full, '--trust-anchor', `sha256:${'0'.repeat(64)}`]);
    expect(r.code).toBe(1);
  });

  it('a truncated pack against the expected head: replay exits 1 too', async () => {
    const r = await runCli(['replay', cut, '--trust-anchor', anchor, '--expect-head', head.hash]);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/NOT VERIFIED/);
  });
});

describe('I-EVIDENCE-8: helmts verify --expect-head / --expect-lamport', () => {
  const verify = (path: string, ...extra: string[]) =>
    runCli(['verify', path, '--trust-anchor', anchor, '--workers', '0', ...extra]);

  it('the whole chain passes against its head (exit 0)', async () => {
    const r = await verify(full, '--expect-head', head.hash, '--expect-lamport', String(head.lamport));
    expect(r.code, r.out).toBe(0);
  });

  it('a pack cut by the sealer verifies alone, and is FAILED against the expected head or Lamport (exit 1)', async () => {
    expect((await verify(cut)).code).toBe(0);
    for (const extra of [
      ['--expect-head', head.hash],
      ['--expect-lamport', String(head.lamport)],
    ]) {
      const r = await verify(cut, ...extra);
      expect(r.code, r.out).toBe(1);
      expect(r.out).toMatch(/FAILED\s+RECEIPT_SCOPE/);
      const j = await verify(cut, ...extra, '--json');
      expect(JSON.stringify(j.json)).toContain('EXPECTED_HEAD_MISMATCH');
    }
  });

  it('a malformed --expect-head or --expect-lamport is a usage error (exit 2)', async () => {
    expect((await verify(full, '--expect-head', 'abc')).code).toBe(2);
    expect((await verify(full, '--expect-lamport', '-1')).code).toBe(2);
  });
});
