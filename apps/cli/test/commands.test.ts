import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataDir, RuntimeError } from '@helm/runtime';
import { describe, expect, it } from 'vitest';
import {
  exportCommand,
  initCommand,
  keysGenerate,
  keysList,
  keysRevoke,
  keysRotate,
  policyHash,
  policyShow,
  policySign,
  policyValidate,
  reexecuteCommand,
  replayCommand,
  runCall,
  toolRegister,
  verifyCommand,
} from '../src/commands/index.ts';
import { CliError, errorResult } from '../src/errors.ts';
import { main } from '../src/main.ts';
import { emit, progressBar } from '../src/output.ts';
import { ECHO_TOOL, initEchoHome, tempRoot } from './helpers.ts';

const root = tempRoot('helm-cli-');

const echo = ECHO_TOOL;

describe('operator commands on a temp data directory', () => {
  const dir = join(root, 'home');
  const data = new DataDir(dir);
  const file = (name: string, value: unknown) => {
    const p = join(root, name);
    writeFileSync(p, typeof value === 'string' ? value : JSON.stringify(value));
    return p;
  };

  it('init creates keys (0600), a trust root and a signed policy; a second init is a usage error', () => {
    const r = initCommand(dir);
    expect(r.exitCode).toBe(0);
    expect(r.json.trust_anchor).toMatch(/^sha256:/);
    expect(statSync(join(dir, 'keys', 'root.json')).mode & 0o777).toBe(0o600);
    // The default budgets are windowed, and init says so (human and --json), as the P0 on disk has it.
    const p0 = JSON.parse(readFileSync(join(dir, 'policy', 'p0.json'), 'utf8'));
    expect(p0.budgets).toEqual({ default_principal_max: 1000, default_tenant_max: 10000, window: 'hour' });
    expect(r.json.budgets).toEqual({
      window: 'hour',
      default_principal_max: 1000,
      default_tenant_max: 10000,
    });
    expect(r.human.join('\n')).toContain(
      'budgets: 1000 calls per principal and 10000 per tenant per hour, refilling every UTC hour (',
    );
    expect(() => initCommand(dir)).toThrow(RuntimeError);
    expect(errorResult(new CliError('DATA_DIR_EXISTS', 'x', 'y')).exitCode).toBe(2);
  });

  it('commands need an initialized data directory', async () => {
    const empty = new DataDir(join(root, 'nothing'));
    expect(() => keysList(empty)).toThrow(
      expect.objectContaining({ code: 'DATA_DIR_MISSING' }) as unknown as Error,
    );
    await expect(runCall(empty, { tool: 'echo', principal: 'local' })).rejects.toMatchObject({
      code: 'DATA_DIR_MISSING',
    });
  });

  it('tool register validates and pins; run executes, denies, and commits receipts', async () => {
    expect((await toolRegister(data, file('echo.json', echo), undefined)).exitCode).toBe(0);
    await expect(toolRegister(data, file('bad.json', { type: 'nope' }), undefined)).rejects.toBeInstanceOf(
      RuntimeError,
    );
    await expect(
      toolRegister(
        data,
        file('badfn.json', { ...echo, name: 'x', driver: { kind: 'function', ref: 'nope', timeout_ms: 1 } }),
        undefined,
      ),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(
      toolRegister(data, file('w.json', { ...echo, name: 'w' }), join(root, 'missing.wasm')),
    ).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
    });
    const okRun = await runCall(data, {
      tool: 'echo',
      principal: 'local',
      args: '{"x":1}',
      idempotencyKey: 'k1',
    });
    expect(okRun).toMatchObject({ exitCode: 0, json: { status: 'SUCCEEDED', output: { x: 1 } } });
    const repeat = await runCall(data, {
      tool: 'echo',
      principal: 'local',
      args: '{"x":1}',
      idempotencyKey: 'k1',
    });
    // A repeat is re-authorized and gets its own receipt (IDEMPOTENT_REPLAY) with the original output.
    expect(repeat.json).toMatchObject({ replayed: true, reason_code: 'IDEMPOTENT_REPLAY', output: { x: 1 } });
    expect(repeat.json.receipt_hash).not.toBe(okRun.json.receipt_hash);
    const schema = await runCall(data, { tool: 'echo', principal: 'local', args: '{"x":"one"}' });
    expect(schema).toMatchObject({ exitCode: 1, json: { reason_code: 'SCHEMA_VIOLATION' } });
    const unknown = await runCall(data, { tool: 'nope', principal: 'local' });
    expect(unknown).toMatchObject({ exitCode: 1, json: { reason_code: 'TOOL_UNKNOWN' } });
    // --args text goes to the executor's strict PEP unchanged: not JSON is a receipted denial.
    const malformed = await runCall(data, { tool: 'echo', principal: 'local', args: '{bad' });
    expect(malformed).toMatchObject({ exitCode: 1, json: { reason_code: 'ARGS_MALFORMED' } });
    expect(malformed.human.join('\n')).toContain('hint: --args must be strict JSON');
    // ALLOW, IDEMPOTENT_REPLAY, SCHEMA_VIOLATION, TOOL_UNKNOWN, ARGS_MALFORMED
    expect(data.store.receiptsSync().length).toBe(5);
    data.close();
  });

  it('keys: list, generate, rotate, revoke — and old receipts still verify after rotation', async () => {
    expect(keysList(data).json.keys).toHaveLength(8);
    expect(keysGenerate(data, 'ck-1', 'checkpoint').exitCode).toBe(0);
    expect(() => keysGenerate(data, 'ck-1', 'checkpoint')).toThrow(RuntimeError);
    expect(() => keysGenerate(data, 'x', 'wizard')).toThrow(RuntimeError);
    expect(() => keysGenerate(data, 'Bad Name', 'approver')).toThrow(RuntimeError);
    const rotated = keysRotate(data, 'executor');
    expect(rotated.json.new_keyid).not.toBe(rotated.json.old_keyid);
    expect(() => keysRotate(data, 'root')).toThrow(RuntimeError);
    expect(() => keysRevoke(data, 'root')).toThrow(RuntimeError);
    expect(() => keysRotate(data, 'ghost')).toThrow(
      expect.objectContaining({ code: 'KEY_UNKNOWN' }) as unknown as Error,
    );
    expect((await runCall(data, { tool: 'echo', principal: 'local', args: '{"x":2}' })).exitCode).toBe(0);
    // Each receipt names the registry state it was signed under: the ones before the rotation an
    // earlier seq (and head) than the one after it, which is the registry head now.
    const registry = data.registry();
    const bodies = data.store
      .receiptsSync()
      .map((r) => JSON.parse(Buffer.from(r.envelope.payload, 'base64url').toString('utf8')));
    const last = bodies[bodies.length - 1];
    expect(last).toMatchObject({ trust_seq: registry.seq, trust_head: registry.head });
    expect(bodies[0].trust_seq).toBeLessThan(last.trust_seq);
    for (const b of bodies) expect(registry.headAt(b.trust_seq)).toBe(b.trust_head);
    expect(keysList(data).json).toMatchObject({ trust_seq: registry.seq, trust_head: registry.head });
    const out = join(root, 'rotated.tar');
    expect(exportCommand(data, { out }).exitCode).toBe(0);
    const anchor = data.config().trust_anchor;
    expect((await verifyCommand(out, { trustAnchor: anchor })).exitCode).toBe(0);
    expect(keysRevoke(data, 'approver-2').exitCode).toBe(0);
    expect(keysList(data).json.keys).toContainEqual(
      expect.objectContaining({ name: 'approver-2', status: 'revoked' }),
    );
    data.close();
  });

  it('policy: validate, hash, sign, show', () => {
    const bundle = JSON.parse(readFileSync(join(dir, 'policy', 'bundle.json'), 'utf8'));
    expect(policyValidate(join(dir, 'policy', 'p0.json')).exitCode).toBe(0);
    expect(policyValidate(join(dir, 'policy', 'bundle.json')).exitCode).toBe(0);
    expect(policyValidate(join(dir, 'policy', 'bundle.signed.json')).exitCode).toBe(1); // unsigned by a trusted key here
    expect(policyValidate(file('badp0.json', { type: 'helm.policy.p0.v1' })).exitCode).toBe(1);
    expect(() => policyValidate(file('other.json', { type: 'x' }))).toThrow(RuntimeError);
    expect(() => policyValidate(join(root, 'none.json'))).toThrow(
      expect.objectContaining({ code: 'FILE_NOT_FOUND' }) as unknown as Error,
    );
    expect(() => policyValidate(file('notjson.json', '{'))).toThrow(
      expect.objectContaining({ code: 'JSON_INVALID' }) as unknown as Error,
    );
    expect(policyHash(join(dir, 'policy', 'bundle.json')).json.digest).toMatch(/^sha256:/);
    const next = file('bundle2.json', { ...bundle, version: 2 });
    expect(policySign(data, next).exitCode).toBe(0);
    expect(() => policySign(data, join(dir, 'policy', 'p0.json'))).toThrow(RuntimeError);
    expect(policyShow(data).human.join('\n')).toContain('local-echo=allow');
    data.close();
  });

  it('export, verify (with and without anchor, tampered), replay, ranges', async () => {
    const out = join(root, 'pack.tar');
    const r = exportCommand(data, { out });
    expect(r.exitCode).toBe(0);
    expect(existsSync(out)).toBe(true);
    const anchor = data.config().trust_anchor;
    expect((await verifyCommand(out, { trustAnchor: anchor, workers: '0' })).exitCode).toBe(0);
    const unpinned = await verifyCommand(out, {});
    expect(unpinned.exitCode).toBe(1);
    expect(unpinned.human.join('\n')).toContain('--trust-anchor');
    const bytes = readFileSync(out);
    bytes[bytes.length - 1200] ^= 1; // inside the last entries' data
    const bad = join(root, 'bad.tar');
    writeFileSync(bad, bytes);
    expect((await verifyCommand(bad, { trustAnchor: anchor })).exitCode).toBe(1);
    expect(replayCommand(out).exitCode).toBe(0);
    // This data dir rotated its executor key and re-signed its policy after the first calls:
    // re-execution with today's keys cannot reproduce yesterday's signatures, and says where.
    const rerun = await reexecuteCommand(data);
    expect(rerun.exitCode).toBe(1);
    expect(
      (rerun.json.reexecution as { divergences: { lamport: number; field: string }[] }).divergences[0],
    ).toMatchObject({
      lamport: 1,
      field: 'receipt',
    });
    await expect(verifyCommand(join(root, 'none.tar'), {})).rejects.toBeInstanceOf(RuntimeError);
    expect(() => replayCommand(join(root, 'none.tar'))).toThrow(RuntimeError);
    const range = exportCommand(data, { out: join(root, 'range.tar'), from: '2', to: '3' });
    expect(range.json.manifest).toMatchObject({ scope: { from_lamport: 2, to_lamport: 3 } });
    const rv = await verifyCommand(join(root, 'range.tar'), { trustAnchor: anchor });
    expect(rv.human.join('\n')).toContain('PASS: every check');
    const condensed = exportCommand(data, { out: join(root, 'condensed.tar'), condense: true });
    expect((condensed.json.manifest as { counts: { checkpoints: number } }).counts.checkpoints).toBe(1);
    expect((await verifyCommand(join(root, 'condensed.tar'), { trustAnchor: anchor })).exitCode).toBe(0);
    expect(() => exportCommand(data, { from: '2', condense: true })).toThrow(RuntimeError);
    expect(() => exportCommand(data, { from: '0' })).toThrow(
      expect.objectContaining({ code: 'USAGE' }) as unknown as Error,
    );
    expect(() => exportCommand(data, { from: '500' })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }) as unknown as Error,
    );
    data.close();
  });

  it('main: exit codes 0/1/2, --json, usage errors without stack traces', async () => {
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const ewrite = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => out.push(String(s)) > 0) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => out.push(String(s)) > 0) as typeof process.stderr.write;
    try {
      expect(await main(['node', 'helm', '-d', dir, 'keys', 'list', '--json'])).toBe(0);
      expect(JSON.parse(out.join('')).keys.length).toBeGreaterThan(6);
      out.length = 0;
      expect(
        await main([
          'node',
          'helm',
          '-d',
          dir,
          'run',
          '--tool',
          'echo',
          '--principal',
          'local',
          '--args',
          '{"x":"s"}',
        ]),
      ).toBe(1);
      expect(await main(['node', 'helm', 'bogus'])).toBe(2);
      expect(await main(['node', 'helm', '-d', join(root, 'none'), 'keys', 'list'])).toBe(2);
      expect(out.join('')).toContain('hint: run `helmts init` first');
      expect(out.join('')).not.toContain('    at ');
      expect(await main(['node', 'helm', '--version'])).toBe(0);
      expect(await main(['node', 'helm', '-d', dir, 'policy', 'hash', join(dir, 'policy', 'p0.json')])).toBe(
        0,
      );
      // doctor runs the whole TCB boundary check (seconds of CPU): once, human; db.test.ts runs --json
      expect(await main(['node', 'helm', 'doctor'])).toBeLessThan(2);
      out.length = 0;
      expect(await main(['node', 'helm', 'demo', '--json', '--keep', join(root, 'demo-main')])).toBe(0);
      expect(JSON.parse(out.join('')).ok).toBe(true);
      expect(await main(['node', 'helm', 'demo', '--keep', join(root, 'demo-main')])).toBe(2);
      expect(await main(['node', 'helm', '-d', dir, 'export', '--from', 'x'])).toBe(2);
      expect(await main(['node', 'helm', '-d', dir, 'replay'])).toBe(2);
      expect(await main(['node', 'helm', '-d', dir, 'replay', '--reexecute', '--json'])).toBe(1);
    } finally {
      process.stdout.write = write;
      process.stderr.write = ewrite;
      new DataDir(dir).close();
    }
    // dozens of in-process commands; about 10 s idle, over 60 s when turbo runs every suite on 2 cores
  }, 300_000);

  it('output helpers: json vs human, progress bar only on a TTY, internal errors are coded', () => {
    const lines: string[] = [];
    const sink = { write: (s: string) => lines.push(s) > 0 } as unknown as NodeJS.WritableStream;
    emit({ exitCode: 0, json: { a: 1 }, human: ['hello'] }, { json: true }, sink);
    emit({ exitCode: 0, json: { a: 1 }, human: ['hello'] }, {}, sink);
    expect(lines).toEqual(['{\n  "a": 1\n}\n', 'hello\n']);
    const tty = { isTTY: true, write: (s: string) => lines.push(s) > 0 } as unknown as NodeJS.WriteStream;
    const bar = progressBar({}, tty);
    bar.update('receipts', 5, 10);
    bar.update('receipts', 10, 10);
    bar.update('receipts', 0, 0);
    expect(lines.join('')).toContain('100%');
    const e = errorResult(Object.assign(new Error('boom'), { code: 'STORE_IO' }));
    expect(e).toMatchObject({ exitCode: 2, json: { error: { code: 'STORE_IO' } } });
    expect(errorResult('plain').json).toMatchObject({ error: { code: 'INTERNAL' } });
  });
});

describe('re-execution replay on an unchanged data directory', () => {
  it('reproduces every receipt byte for byte through a fresh guardian and executor', async () => {
    const { data } = await initEchoHome(root, 'rerun');
    await runCall(data, { tool: 'echo', principal: 'local', args: '{"x":1}' });
    await runCall(data, { tool: 'echo', principal: 'local', args: '{"x":"bad"}' });
    await runCall(data, { tool: 'echo', principal: 'nobody', args: '{"x":2}' });
    const r = await reexecuteCommand(data);
    expect(r.json.reexecution).toMatchObject({ ok: true, calls: 3, identical: 3 });
    data.close();
  });
});

describe('error paths', () => {
  it('HELM_DEBUG shows stacks of internal errors only; a revoked executor key is a clear error', async () => {
    process.env.HELM_DEBUG = '1';
    try {
      expect(errorResult(new Error('x')).human.join('\n')).toContain('    at ');
    } finally {
      delete process.env.HELM_DEBUG;
    }
    expect(errorResult(new Error('x')).human.join('\n')).not.toContain('    at ');
    const dir = join(root, 'revoked');
    initCommand(dir);
    const data = new DataDir(dir);
    keysRevoke(data, 'executor');
    await expect(runCall(data, { tool: 'echo', principal: 'local' })).rejects.toMatchObject({
      code: 'KEY_NOT_VALID',
    });
    expect(() => data.signer('ghost', 'executor')).toThrow(
      expect.objectContaining({ code: 'KEY_UNKNOWN' }) as unknown as Error,
    );
    expect(keysGenerate(data, 'exec-2', 'executor').exitCode).toBe(0);
    data.close();
  });

  it('registers a sandbox tool from a WASM module and runs it', async () => {
    const dir = join(root, 'wasm');
    initCommand(dir);
    const data = new DataDir(dir);
    const desc = join(root, 'wasm-echo.json');
    writeFileSync(
      desc,
      JSON.stringify({
        ...echo,
        name: 'echo',
        input_schema: { type: 'object' },
        driver: { kind: 'sandbox', ref: 'set-by-register', timeout_ms: 5000 },
      }),
    );
    const wasm = new URL('../assets/wasm/echo.wasm', import.meta.url).pathname;
    const reg = await toolRegister(data, desc, wasm);
    expect((reg.json.driver as { kind: string }).kind).toBe('sandbox');
    const r = await runCall(data, { tool: 'echo', principal: 'local', args: '{"hello":"wasm"}' });
    expect(r.json).toMatchObject({ status: 'SUCCEEDED', output: { hello: 'wasm' } });
    const bad = join(root, 'unsupported.json');
    writeFileSync(
      bad,
      JSON.stringify({ ...echo, name: 'h', driver: { kind: 'http', ref: 'https://x', timeout_ms: 1 } }),
    );
    await expect(toolRegister(data, bad, undefined)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    data.close();
  });
});

describe('HTTP tools and the egress gate', () => {
  it('denies egress until the host is allowlisted, then runs the call over HTTP', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += String(c);
      });
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const dir = join(root, 'http');
      initCommand(dir);
      const data = new DataDir(dir);
      const desc = join(root, 'http-echo.json');
      writeFileSync(
        desc,
        JSON.stringify({
          ...echo,
          effect_type: 'net.egress',
          destination: `http://localhost:${port}`,
          driver: { kind: 'http', ref: `http://localhost:${port}/echo`, timeout_ms: 5000 },
        }),
      );
      expect((await toolRegister(data, desc, undefined)).exitCode).toBe(0);
      const denied = await runCall(data, { tool: 'echo', principal: 'local', args: '{"x":1}' });
      expect(denied.json).toMatchObject({ status: 'DENIED', reason_code: 'GATE_EGRESS_DENIED' });
      data.writeConfig({
        ...data.config(),
        egress: [{ hosts: ['localhost'], protocols: ['http'], max_payload_bytes: 4096 }],
      });
      const allowed = await runCall(data, { tool: 'echo', principal: 'local', args: '{"x":2}' });
      expect(allowed.json).toMatchObject({ status: 'SUCCEEDED', output: { x: 2 } });
      data.close();
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
