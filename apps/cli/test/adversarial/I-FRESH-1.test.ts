// I-FRESH-1 / I-FRESH-2 / I-ROOT-1 at the command line — the scenario end
// to end, from the attacker's side, with nothing but the CLI and file copies:
//
//   1. the operator runs `helmts init` with three root keys (threshold 2) written outside the data
//      directory, registers a tool and runs calls;
//   2. the attacker copies the data directory (executor key K1, helm.db) — not the offline root keys;
//   3. the operator rotates the executor key (`helmts keys rotate executor --root-key-dir …`) and
//      keeps working;
//   4. the attacker, in the copy, signs a call with K1 (`helmts run`) and exports a pack carrying the
//      pre-rotation trust snapshot, sealed by K1.
//
// Unpinned `helmts verify --trust-anchor` PASSes and says `unpinned` (human and --json);
// `--trust-head <current>` and `--min-trust-seq` FAIL it (TRUST_SNAPSHOT_STALE); verifying against
// the operator's data directory pins to its head automatically and FAILs it (I-FRESH-2). A
// data-dir writer who deletes the newest trust documents makes that automatic pin stale — the flag
// pin recorded outside the directory still FAILs the pack. Without the offline root keys the
// attacker cannot rotate or publish keys at all (I-ROOT-1).
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { beforeAll, describe, expect, it } from 'vitest';
import { ECHO_TOOL, runCli, tempRoot } from '../helpers.ts';

const root = tempRoot('helm-adv-fresh-');
const operator = join(root, 'operator');
const offline = join(root, 'offline-root-keys');
const stolen = join(root, 'stolen');
const attackPack = join(root, 'attack.tar');
const honestPack = join(root, 'honest.tar');
let anchor: string;
let current: string; // <seq>:<head> after the rotation
let rotatedAt: number;

const cli = (dir: string, ...args: string[]) => runCli(['--data-dir', dir, ...args]);
const verify = (...args: string[]) => runCli(['verify', ...args, '--workers', '0']);
type Freshness = {
  pinned: boolean;
  pin: string;
  source: string;
  seq: number;
  head: string;
  min_seq: number | null;
  pinned_head: { seq: number; head: string } | null;
};
interface Report {
  freshness: Freshness;
  checks: { code: string; status: string; detail?: string }[];
}
/** The --json report; a run without one fails the test here. */
function reportOf(r: { json: Record<string, unknown> | undefined }): Report {
  const report = r.json?.report as Report | undefined;
  if (!report)
    throw new Error(`no JSON report in: ${r.json === undefined ? 'non-JSON output' : 'the JSON body'}`);
  return report;
}
const freshnessOf = (r: { json: Record<string, unknown> | undefined }) => reportOf(r).freshness;
const snapshotCheck = (r: { json: Record<string, unknown> | undefined }) =>
  reportOf(r).checks.find((c) => c.code === 'TRUST_SNAPSHOT');

beforeAll(async () => {
  const init = await cli(
    operator,
    'init',
    '--root-keys',
    '3',
    '--root-threshold',
    '2',
    '--root-key-dir',
    offline,
    '--json',
  );
  expect(init.code).toBe(0);
  anchor = String(init.json?.trust_anchor);
  const descriptor = join(root, 'echo.json');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(descriptor, JSON.stringify(ECHO_TOOL));
  expect((await cli(operator, 'tool', 'register', descriptor)).code).toBe(0);
  for (const x of [1, 2])
    expect(
      (await cli(operator, 'run', '--tool', 'echo', '--principal', 'local', '--args', `{"x":${x}}`)).code,
    ).toBe(0);
  // The attacker's copy: everything in the data directory, K1 included.
  cpSync(operator, stolen, { recursive: true });
  const rotated = await cli(operator, 'keys', 'rotate', 'executor', '--root-key-dir', offline, '--json');
  expect(rotated.code).toBe(0);
  rotatedAt = Number(rotated.json?.trust_seq);
  for (const x of [3, 4])
    expect(
      (await cli(operator, 'run', '--tool', 'echo', '--principal', 'local', '--args', `{"x":${x}}`)).code,
    ).toBe(0);
  const head = await cli(operator, 'trust', 'head', '--json');
  current = String(head.json?.pin);
  expect(current).toBe(`${rotatedAt}:${String(rotated.json?.trust_head)}`);
  // The attack: a call signed by K1 in the stolen copy, exported with its pre-rotation snapshot.
  expect(
    (await cli(stolen, 'run', '--tool', 'echo', '--principal', 'local', '--args', '{"x":666}')).code,
  ).toBe(0);
  expect((await cli(stolen, 'export', '-o', attackPack)).code).toBe(0);
  expect((await cli(operator, 'export', '-o', honestPack)).code).toBe(0);
});

describe('I-FRESH-1: helmts verify with a freshness pin FAILs a pack that hides a key rotation', () => {
  it('unpinned, the attack PASSes, and both outputs say the freshness is unpinned at the stale seq', async () => {
    const human = await verify(attackPack, '--trust-anchor', anchor);
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/Trust freshness: unpinned \(registry seq \d+, head sha256:[0-9a-f]{64}\)/);
    const json = await verify(attackPack, '--trust-anchor', anchor, '--json');
    expect(json.code).toBe(0);
    expect(freshnessOf(json)).toMatchObject({
      pinned: false,
      source: 'none',
      seq: rotatedAt - 1,
      min_seq: null,
    });
  });

  it('--trust-head <current head> FAILs it (exit 1, TRUST_SNAPSHOT_STALE), human and --json', async () => {
    const human = await verify(attackPack, '--trust-anchor', anchor, '--trust-head', current);
    expect(human.code).toBe(1);
    expect(human.out).toMatch(/FAILED\s+TRUST_SNAPSHOT\s+the trust snapshot ends at seq/);
    expect(human.out).toMatch(/Trust freshness: pinned by flag/);
    const json = await verify(attackPack, '--trust-anchor', anchor, '--trust-head', current, '--json');
    expect(json.code).toBe(1);
    expect(snapshotCheck(json)).toMatchObject({ status: 'FAILED', detail: 'TRUST_SNAPSHOT_STALE' });
    expect(freshnessOf(json)).toMatchObject({ pinned: true, source: 'flag', min_seq: rotatedAt });
  });

  it('--min-trust-seq at the rotation FAILs it too; the honest pack PASSes both pins', async () => {
    const min = await verify(
      attackPack,
      '--trust-anchor',
      anchor,
      '--min-trust-seq',
      String(rotatedAt),
      '--json',
    );
    expect(min.code).toBe(1);
    expect(snapshotCheck(min)?.detail).toBe('TRUST_SNAPSHOT_STALE');
    expect((await verify(honestPack, '--trust-anchor', anchor, '--trust-head', current)).code).toBe(0);
    expect(
      (await verify(honestPack, '--trust-anchor', anchor, '--min-trust-seq', String(rotatedAt))).code,
    ).toBe(0);
  });

  it('a malformed --trust-head is a usage error (exit 2), never an unpinned PASS', async () => {
    for (const bad of [
      'sha256:00',
      `0:${current.split(':').slice(1).join(':')}`,
      current.split(':').slice(1).join(':'),
    ])
      expect((await verify(attackPack, '--trust-anchor', anchor, '--trust-head', bad)).code).toBe(2);
  });
});

describe('I-FRESH-2: verify against a data directory pins to its registry head', () => {
  it('the operator’s data directory FAILs the attack and PASSes its own export, source data-dir', async () => {
    const attack = await cli(operator, 'verify', attackPack, '--workers', '0', '--json');
    expect(attack.code).toBe(1);
    expect(snapshotCheck(attack)?.detail).toBe('TRUST_SNAPSHOT_STALE');
    expect(freshnessOf(attack)).toMatchObject({ pinned: true, source: 'data-dir' });
    const honest = await cli(operator, 'verify', honestPack, '--workers', '0');
    expect(honest.code).toBe(0);
    expect(honest.out).toMatch(/pinned by the data directory/);
    // The anchor came from the data directory too: no --trust-anchor needed to reach PASS.
    expect(honest.out).toMatch(/PASS: every check passed/);
  });

  it('an explicit --trust-head replaces the data directory’s pin; another registry’s anchor turns the data-dir pin off', async () => {
    const flagged = await cli(
      operator,
      'verify',
      honestPack,
      '--workers',
      '0',
      '--trust-anchor',
      anchor,
      '--trust-head',
      current,
      '--json',
    );
    expect(flagged.code).toBe(0);
    expect(freshnessOf(flagged)).toMatchObject({ pinned: true, pin: 'trust-head', source: 'flag' });
    const foreign = `sha256:${'ab'.repeat(32)}`;
    const other = await cli(
      operator,
      'verify',
      honestPack,
      '--workers',
      '0',
      '--trust-anchor',
      foreign,
      '--json',
    );
    expect(other.code).toBe(1); // TRUST_ANCHOR FAILED: the pack is not of that registry
    expect(freshnessOf(other)).toMatchObject({ pinned: false, source: 'none' });
  });

  it('a --min-trust-seq adds to the data directory’s head pin, never replaces it (a minimum seq alone does not refuse a fork)', async () => {
    // Before the fix, `--min-trust-seq 1` replaced the head pin and the stale attack PASSed.
    const attack = await cli(
      operator,
      'verify',
      attackPack,
      '--workers',
      '0',
      '--min-trust-seq',
      '1',
      '--json',
    );
    expect(attack.code).toBe(1);
    expect(snapshotCheck(attack)?.detail).toBe('TRUST_SNAPSHOT_STALE');
    expect(freshnessOf(attack)).toMatchObject({ pinned: true, pin: 'trust-head', source: 'data-dir' });
    const [seq] = current.split(':');
    const honest = await cli(
      operator,
      'verify',
      honestPack,
      '--workers',
      '0',
      '--min-trust-seq',
      '1',
      '--json',
    );
    expect(honest.code).toBe(0);
    expect(freshnessOf(honest)).toMatchObject({
      pin: 'trust-head',
      source: 'data-dir',
      min_seq: Number(seq),
      pinned_head: { seq: Number(seq) },
    });
    // The minimum still applies on top of the head pin.
    const beyond = await cli(
      operator,
      'verify',
      honestPack,
      '--workers',
      '0',
      '--min-trust-seq',
      String(Number(seq) + 1),
      '--json',
    );
    expect(beyond.code).toBe(1);
    expect(snapshotCheck(beyond)?.detail).toBe('TRUST_SNAPSHOT_STALE');
    expect(freshnessOf(beyond)).toMatchObject({ source: 'data-dir', min_seq: Number(seq) + 1 });
    // Without a data directory's head, a minimum seq alone is reported as the weaker pin it is.
    const alone = await verify(honestPack, '--trust-anchor', anchor, '--min-trust-seq', '1', '--json');
    expect(alone.code).toBe(0);
    expect(freshnessOf(alone)).toMatchObject({
      pinned: true,
      pin: 'min-seq',
      source: 'flag',
      pinned_head: null,
    });
    const human = await verify(honestPack, '--trust-anchor', anchor, '--min-trust-seq', '1');
    expect(human.out).toMatch(/refuses a stale copy of the registry, not a fork/);
  });

  it('deleting the newest trust documents in helm.db makes the automatic pin stale; a recorded flag pin still FAILs the attack', async () => {
    const tampered = join(root, 'tampered');
    cpSync(operator, tampered, { recursive: true });
    const db = new DatabaseSync(join(tampered, 'helm.db'));
    db.prepare("DELETE FROM documents WHERE namespace = 'trust' AND doc_key >= ?").run(
      String(rotatedAt).padStart(8, '0'),
    );
    db.close();
    const auto = await cli(tampered, 'verify', attackPack, '--workers', '0', '--json');
    expect(auto.code).toBe(0); // the directory's own head is now the stale one: documented limit
    expect(freshnessOf(auto)).toMatchObject({ pinned: true, source: 'data-dir', seq: rotatedAt - 1 });
    const pinned = await cli(
      tampered,
      'verify',
      attackPack,
      '--workers',
      '0',
      '--trust-head',
      current,
      '--json',
    );
    expect(pinned.code).toBe(1);
    expect(snapshotCheck(pinned)?.detail).toBe('TRUST_SNAPSHOT_STALE');
  });
});

describe('I-ROOT-1: with the root keys offline, the data directory holds no root key', () => {
  it('init wrote the root keys only to --root-key-dir, and the data directory’s keys/ has none', async () => {
    expect(readdirSync(offline).sort()).toEqual(['root-1.json', 'root-2.json', 'root-3.json']);
    expect(readdirSync(join(operator, 'keys')).filter((f) => f.startsWith('root'))).toEqual([]);
  });

  it('the attacker’s copy cannot rotate, publish or revoke a key (ROOT_KEYS_INSUFFICIENT), nor can the operator without the keys', async () => {
    for (const args of [
      ['keys', 'rotate', 'executor'],
      ['keys', 'generate', 'mine', '--role', 'executor'],
      ['keys', 'revoke', 'guardian'],
    ]) {
      const r = await cli(stolen, ...args, '--json');
      expect(r.code).toBe(2);
      expect(r.json).toMatchObject({ error: { code: 'ROOT_KEYS_INSUFFICIENT' } });
    }
    // A file that names a real root key id over another seed is not a root key.
    const { readFileSync, writeFileSync, mkdirSync } = await import('node:fs');
    const planted = join(root, 'planted-root-keys');
    mkdirSync(planted);
    for (const name of ['root-1.json', 'root-2.json']) {
      const real = JSON.parse(readFileSync(join(offline, name), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(planted, name), JSON.stringify({ ...real, seed: 'A'.repeat(43) }));
    }
    const forged = await cli(operator, 'keys', 'rotate', 'guardian', '--root-key-dir', planted, '--json');
    expect(forged.json).toMatchObject({ error: { code: 'ROOT_KEYS_INSUFFICIENT' } });
    // One root key of three is below the threshold 2.
    const one = join(root, 'one-root-key');
    cpSync(join(offline, 'root-1.json'), join(one, 'root-1.json'), { recursive: true });
    const r = await cli(operator, 'keys', 'rotate', 'guardian', '--root-key-dir', one, '--json');
    expect(r.json).toMatchObject({ error: { code: 'ROOT_KEYS_INSUFFICIENT' } });
  });

  it('init refuses a threshold above the key count and keeps the single-key default', async () => {
    expect((await cli(join(root, 'bad'), 'init', '--root-keys', '2', '--root-threshold', '3')).code).toBe(2);
    const simple = await cli(join(root, 'simple'), 'init', '--json');
    expect(simple.json).toMatchObject({ root: { threshold: 1, key_dir: join(root, 'simple', 'keys') } });
    expect(readdirSync(join(root, 'simple', 'keys'))).toContain('root.json');
  });
});
