// I-SERVE-4 between real processes: `helmts serve` and two `helmts witness` processes. The
// witnesses cosign the log's checkpoints only along a consistent history — a rollback (an older
// checkpoint, or a stale old size) and a fork (another root at a size they cosigned, or a
// consistency proof that fails) are refused — and `helmts verify --checkpoint --witness --quorum`
// then catches a truncated or forked pack. SIGTERM stops the server with exit 0.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, requireCurrentBuild } from '../../cli/test/cli-process.ts';
import {
  formatCheckpoint,
  noteSigner,
  parseCheckpoint,
  parseNote,
  SIG_ED25519,
  signNote,
} from '../src/index.ts';
import { bearer, jsonPost, makeHome, makeKeys, tempRoot } from './helpers.ts';

const root = tempRoot('helm-serve-proc-');
const children: ChildProcess[] = [];

function helmSync(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--json'], { encoding: 'utf8', cwd: root });
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {}
  return { code: r.status, json, out: `${r.stdout}${r.stderr}` };
}

/** Start a long-running `helmts …` and resolve with its first JSON line. */
function helmDaemon(
  ...args: string[]
): Promise<{ child: ChildProcess; first: Record<string, unknown>; out: () => string }> {
  const child = spawn(process.execPath, [BIN, ...args, '--json'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      const before = out;
      out += d.toString();
      if (!before.includes('\n') && out.includes('\n'))
        resolve({ child, first: JSON.parse(out.slice(0, out.indexOf('\n'))), out: () => out });
    });
    child.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on('exit', (code) => resolve(code));
  });

let home = '';
let keys: Awaited<ReturnType<typeof makeKeys>>;
let serve: Awaited<ReturnType<typeof helmDaemon>>;
let url = '';
let logVkey = '';
const witnesses: { url: string; vkey: string }[] = [];

async function addCheckpoint(witness: string, body: string) {
  const res = await fetch(`${witness}/add-checkpoint`, { method: 'POST', body });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

async function checkpoint(): Promise<string> {
  return (await fetch(`${url}/v1/log/checkpoint`, { headers: bearer(keys.audit) })).text();
}

async function consistency(old: number, size: number): Promise<string[]> {
  const r = await fetch(`${url}/v1/log/consistency?old=${old}&size=${size}`, { headers: bearer(keys.audit) });
  return ((await r.json()) as { proof: string[] }).proof;
}

async function call(x: number) {
  const r = await fetch(`${url}/v1/calls`, jsonPost(keys.call, { tool: 'echo', args: { x } }));
  expect(r.status).toBe(200);
}

beforeAll(async () => {
  requireCurrentBuild();
  home = await makeHome(root, 'home');
  keys = await makeKeys(home);
  serve = await helmDaemon('--data-dir', home, 'serve', '--port', '0', '--rate', '0');
  url = serve.first.listening as string;
  logVkey = serve.first.log_vkey as string;
  for (const name of ['w1', 'w2']) {
    const key = join(root, `${name}.key`);
    const gen = helmSync('witness', 'keygen', '--name', `witness.example/${name}`, '--out', key);
    expect(gen.code, gen.out).toBe(0);
    const w = await helmDaemon(
      'witness',
      '--key',
      key,
      '--log',
      logVkey,
      '--state',
      join(root, `${name}.state`),
      '--port',
      '0',
    );
    witnesses.push({ url: w.first.listening as string, vkey: w.first.vkey as string });
    expect(w.first.vkey).toBe(gen.json.vkey);
  }
}, 120_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('I-SERVE-4 witnesses cosign a consistent log and refuse rollback and fork', () => {
  const cosigned: string[] = [];
  let size1 = 0;
  let note1 = '';

  it('cosigns the first checkpoint (old 0) and a consistent successor; the state survives on disk', async () => {
    await call(1);
    await call(2);
    note1 = await checkpoint();
    size1 = parseCheckpoint(parseNote(note1).text).size;
    expect(size1).toBe(2);
    for (const w of witnesses) {
      const r = await addCheckpoint(w.url, `old 0\n\n${note1}`);
      expect(r.status, r.text).toBe(200);
      expect(r.text).toMatch(/^\u2014 witness\.example\/w[12] [A-Za-z0-9+/=]+\n$/);
    }
    await call(3);
    await call(4);
    await call(5);
    const note2 = await checkpoint();
    const size2 = parseCheckpoint(parseNote(note2).text).size;
    const proof = await consistency(size1, size2);
    expect(proof.length).toBeGreaterThan(0);
    for (const w of witnesses) {
      const r = await addCheckpoint(w.url, `old ${size1}\n${proof.map((p) => `${p}\n`).join('')}\n${note2}`);
      expect(r.status, r.text).toBe(200);
      cosigned.push(r.text);
    }
    writeFileSync(join(root, 'cosigned.note'), `${note2}${cosigned.join('')}`);
    expect(JSON.parse(readFileSync(join(root, 'w1.state'), 'utf8'))).toMatchObject({
      [parseCheckpoint(parseNote(note2).text).origin]: { size: size2 },
    });
  });

  it('refuses a rollback: an older checkpoint (409 with the size it knows) or a stale old size', async () => {
    const w = witnesses[0]?.url as string;
    const stale = await addCheckpoint(w, `old 0\n\n${note1}`);
    expect(stale.status).toBe(409);
    expect(stale.type).toBe('text/x.tlog.size');
    expect(stale.text).toBe('5\n');
    const backwards = await addCheckpoint(w, `old 5\n\n${note1}`);
    expect(backwards.status).toBe(400);
  });

  it('refuses a fork signed with the real log key: another root at size 5 (409), a bad proof (422)', async () => {
    // The operator holds the log key and signs another history.
    const seed = readFileSync(join(home, 'serve', 'log-note.seed'), 'utf8').trim();
    const origin = logVkey.slice(0, logVkey.indexOf('+'));
    const log = noteSigner(origin, new Uint8Array(Buffer.from(seed, 'hex')), SIG_ED25519);
    const forged = (size: number) =>
      signNote(formatCheckpoint({ origin, size, root: new Uint8Array(32).fill(7), extensions: [] }), log);
    const w = witnesses[0]?.url as string;
    const sameSize = await addCheckpoint(w, `old 5\n\n${forged(5)}`);
    expect(sameSize.status).toBe(409);
    const proof = await consistency(2, 5);
    const grown = await addCheckpoint(w, `old 5\n${proof.map((p) => `${p}\n`).join('')}\n${forged(6)}`);
    expect(grown.status).toBe(422);
    // A checkpoint under a key the witness does not trust, and an unknown log.
    const stranger = noteSigner(origin, new Uint8Array(32).fill(1), SIG_ED25519);
    const untrusted = signNote(
      formatCheckpoint({ origin, size: 6, root: new Uint8Array(32), extensions: [] }),
      stranger,
    );
    expect((await addCheckpoint(w, `old 5\n\n${untrusted}`)).status).toBe(403);
    const unknown = noteSigner('other.example/log', new Uint8Array(32).fill(2), SIG_ED25519);
    const other = signNote(
      formatCheckpoint({ origin: 'other.example/log', size: 1, root: new Uint8Array(32), extensions: [] }),
      unknown,
    );
    expect((await addCheckpoint(w, `old 0\n\n${other}`)).status).toBe(404);
    expect((await addCheckpoint(w, 'garbage')).status).toBe(400);
  });

  it('helmts verify --witness --quorum: passes the witnessed pack, fails quorum, truncation and fork', async () => {
    const note = join(root, 'cosigned.note');
    const [w1, w2] = witnesses.map((w) => w.vkey) as [string, string];
    const pack = join(root, 'pack.tar');
    expect(helmSync('--data-dir', home, 'export', '--out', pack).code).toBe(0);
    const pass = helmSync(
      '--data-dir',
      home,
      'verify',
      pack,
      '--checkpoint',
      note,
      '--witness',
      w1,
      '--witness',
      w2,
      '--quorum',
      '2',
    );
    expect(pass.code, pass.out).toBe(0);
    expect(pass.json.witness).toMatchObject({ ok: true, code: 'WITNESS_OK', checkpoint_size: 5 });
    const three = helmSync(
      '--data-dir',
      home,
      'verify',
      pack,
      '--checkpoint',
      note,
      '--witness',
      w1,
      '--witness',
      w2,
      '--quorum',
      '3',
    );
    expect(three.code).toBe(1);
    expect(three.json.witness).toMatchObject({ code: 'QUORUM_NOT_MET' });
    // The operator hands out a pack cut before what the witnesses saw.
    const cut = join(root, 'cut.tar');
    expect(helmSync('--data-dir', home, 'export', '--out', cut, '--to', '3').code).toBe(0);
    const truncated = helmSync(
      '--data-dir',
      home,
      'verify',
      cut,
      '--checkpoint',
      note,
      '--witness',
      w1,
      '--quorum',
      '1',
    );
    expect(truncated.code).toBe(1);
    expect(truncated.json.witness).toMatchObject({ code: 'PACK_TRUNCATED' });
    // Another chain's pack (a fork) against the witnessed checkpoint.
    const forkHome = await makeHome(root, 'fork');
    const fk = await makeKeys(forkHome);
    const s = await helmDaemon('--data-dir', forkHome, 'serve', '--port', '0', '--rate', '0');
    for (let i = 0; i < 5; i++)
      await fetch(`${s.first.listening}/v1/calls`, jsonPost(fk.call, { tool: 'echo', args: { x: i } }));
    s.child.kill('SIGTERM');
    expect(await exited(s.child)).toBe(0);
    const forkPack = join(root, 'fork.tar');
    expect(helmSync('--data-dir', forkHome, 'export', '--out', forkPack).code).toBe(0);
    const fork = helmSync(
      '--data-dir',
      forkHome,
      'verify',
      forkPack,
      '--checkpoint',
      note,
      '--witness',
      w1,
      '--quorum',
      '1',
    );
    expect(fork.code).toBe(1);
    expect(fork.json.witness).toMatchObject({ code: 'ROOT_MISMATCH' });
  });

  it('I-SERVE-3 SIGKILL: every acknowledged call is in the store and the exported chain verifies', async () => {
    const killHome = await makeHome(root, 'killed');
    const kk = await makeKeys(killHome);
    const s = await helmDaemon('--data-dir', killHome, 'serve', '--port', '0', '--rate', '0');
    const acked = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        fetch(`${s.first.listening}/v1/calls`, jsonPost(kk.call, { tool: 'echo', args: { x: i } })).then(
          (r) => r.status,
        ),
      ),
    );
    expect(acked.every((status) => status === 200)).toBe(true);
    s.child.kill('SIGKILL');
    await exited(s.child);
    const pack = join(root, 'killed.tar');
    const exported = helmSync('--data-dir', killHome, 'export', '--out', pack);
    expect(exported.code, exported.out).toBe(0);
    expect((exported.json.manifest as { counts: { receipts: number } }).counts.receipts).toBe(6);
    const verified = helmSync('--data-dir', killHome, 'verify', pack);
    expect(verified.code, verified.out).toBe(0);
  });

  it('I-SERVE-3 SIGTERM: the server finishes, reports and exits 0', async () => {
    serve.child.kill('SIGTERM');
    expect(await exited(serve.child)).toBe(0);
    expect(serve.out()).toMatch(/"stopped": "SIGTERM"/);
  });
});
