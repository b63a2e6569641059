// A CLI that tells the truth about how it was called (issue #17 §3), through the built `helmts` in
// separate processes: a missing command, an unknown option or command, a missing or excess
// argument are usage errors — exit 2, `error:`/`hint:` on stderr and nothing on stdout, or one JSON
// document on stdout under --json — and every command's --help has a description and examples.
// An old Node gets one line, not a stack trace.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { runInNewContext } from 'node:vm';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, commandPath, wantedCommand } from '../src/main.ts';
import { BIN, REPO, spawnHelmts } from './cli-process.ts';
import { tempRoot } from './helpers.ts';

const nodeRequire = createRequire(import.meta.url);

const root = tempRoot('helm-cli-usage-');

/** A usage error, as the user sees it without --json. */
function expectUsage(r: { code: number | null; stdout: string; stderr: string }, message: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toMatch(/^hint: /m);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** The same error under --json: one document on stdout, nothing on stderr. */
function expectJsonUsage(r: { code: number | null; stderr: string; json?: Record<string, unknown> }): {
  message: string;
  hint: string;
} {
  expect(r.code).toBe(2);
  expect(r.stderr).toBe('');
  expect(r.json).toMatchObject({ ok: false, error: { code: 'USAGE' } });
  return (r.json as { error: { message: string; hint: string } }).error;
}

describe('usage errors through the built helmts (separate processes)', () => {
  it('`helmts` alone and `helmts keys` alone are usage errors (exit 2), help on stderr', async () => {
    const bare = await spawnHelmts([]);
    expectUsage(bare, /error: helmts needs a command: doctor, demo, init, keys/);
    expect(bare.stderr).toContain('Usage: helmts');
    const group = await spawnHelmts(['keys']);
    expectUsage(group, /error: helmts keys needs a command: list, generate, rotate, revoke/);
    const nested = await spawnHelmts(['-d', join(root, 'x'), 'trust']);
    expectUsage(nested, /helmts trust needs a command: head/);
  });

  it('under --json the same errors are one JSON document on stdout', async () => {
    expect(expectJsonUsage(await spawnHelmts(['--json'])).message).toMatch(/^helmts needs a command/);
    expect(expectJsonUsage(await spawnHelmts(['keys', '--json'])).message).toMatch(/^helmts keys needs/);
    const unknown = expectJsonUsage(await spawnHelmts(['init', '--bogus', '--json']));
    expect(unknown.message).toBe("unknown option '--bogus'");
    expect(unknown.hint).toContain('helmts init --help');
    const excess = expectJsonUsage(await spawnHelmts(['verify', 'a.tar', 'b.tar', '--json']));
    expect(excess.message).toMatch(/too many arguments for 'verify'/);
    const missing = expectJsonUsage(await spawnHelmts(['run', '--json']));
    expect(missing.message).toMatch(/run needs --tool and --principal \(or --challenge <id>\)/);
  });

  it('unknown options and commands are reported by name, with a pointer to the right --help', async () => {
    const option = await spawnHelmts(['keys', 'list', '--jsn']);
    expectUsage(option, /error: unknown option '--jsn'/);
    expect(option.stderr).toContain('(Did you mean --json?)');
    expect(option.stderr).toContain('`helmts keys list --help`');
    const command = await spawnHelmts(['frobnicate']);
    expectUsage(command, /error: unknown command 'frobnicate'/);
    const sub = await spawnHelmts(['keys', 'rotat']);
    expectUsage(sub, /unknown command 'rotat'/);
    expect(sub.stderr).toContain('`helmts keys --help`');
    expectUsage(await spawnHelmts(['export', '--from']), /option '--from <lamport>' argument missing/);
  });

  it('--help and --version exit 0 on stdout; the alias `helm` is the same program', async () => {
    const help = await spawnHelmts(['tool', 'register', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: helmts tool register');
    expect(help.stdout).toContain('Examples:');
    expect(help.stderr).toBe('');
    const version = await spawnHelmts(['--version']);
    expect(version.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(REPO, 'apps/cli/package.json'), 'utf8')) as {
      version: string;
      bin: Record<string, string>;
    };
    expect(version.stdout.trim()).toBe(manifest.version);
    expect(manifest.bin).toEqual({ helmts: './dist/bin.cjs', helm: './dist/bin.cjs' });
  });

  it('a malformed --trust-anchor is a usage error, not a verdict on the pack', async () => {
    for (const anchor of ['abc', 'sha256:XYZ', `sha256:${'A'.repeat(64)}`, `sha1:${'a'.repeat(40)}`]) {
      const r = await spawnHelmts(['verify', join(root, 'any.tar'), '--trust-anchor', anchor, '--json']);
      expect(expectJsonUsage(r).message).toMatch(/--trust-anchor must be sha256:<64 lowercase hex>/);
      const replay = await spawnHelmts(['replay', join(root, 'any.tar'), '--trust-anchor', anchor]);
      expectUsage(replay, /--trust-anchor must be/);
    }
  });

  it('the repository launcher ./helmts runs the built CLI from any directory', () => {
    const out = execFileSync(join(REPO, 'helmts'), ['--version'], { cwd: root, encoding: 'utf8' });
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('help: every command has a description and examples', () => {
  const program = buildProgram(() => {});
  const all: Command[] = [];
  const walk = (c: Command): void => {
    all.push(c);
    for (const sub of c.commands) walk(sub);
  };
  walk(program);

  it.each(all.filter((c) => c.name() !== 'help').map((c) => [c]))('%s', (command: Command) => {
    let text = '';
    command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
    command.outputHelp();
    expect(command.description().length, `${command.name()} has no description`).toBeGreaterThan(10);
    expect(text).toMatch(/\nExamples:\n {2}\$ helmts /);
  });

  it('a program defining only the command asked for defines it exactly as the whole program does', () => {
    const helpTree = (c: Command): string => {
      let text = '';
      c.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
      c.outputHelp();
      return [text, ...c.commands.map(helpTree)].join('\n');
    };
    for (const command of program.commands) {
      const only = buildProgram(() => {}, undefined, undefined, command.name());
      expect(only.commands.map((c) => c.name())).toEqual([command.name()]);
      expect(helpTree(only.commands[0] as Command)).toBe(helpTree(command));
    }
    expect(buildProgram(() => {}, undefined, undefined, '').commands).toEqual([]);
  });

  it('wantedCommand: the first operand past the global options; "" for a bare --version', () => {
    const wanted = (...argv: string[]) => wantedCommand(['node', 'helmts', ...argv]);
    expect(wanted('-d', 'run', 'keys', 'list')).toBe('keys');
    expect(wanted('--database-url', 'postgres://x', 'run', '--tool', 'echo')).toBe('run');
    expect(wanted('--version')).toBe('');
    expect(wanted('--json')).toBeUndefined();
    expect(wanted('--', 'run')).toBeUndefined();
  });

  it('commandPath finds the command the arguments name, past options and --data-dir', () => {
    const names = (argv: string[]) =>
      commandPath(program, ['node', 'helmts', ...argv])
        .map((c) => c.name())
        .join(' ');
    expect(names(['-d', 'keys', 'keys', 'list', '--json'])).toBe('helmts keys list');
    expect(names(['--data-dir', 'x', 'tool', 'nope'])).toBe('helmts tool');
    expect(names(['--', 'keys'])).toBe('helmts');
  });
});

describe('Node older than 22: one line, exit 2, before any ESM code loads', () => {
  // The entry's one dynamic import becomes a recorded call, and so does its require of the bundle's
  // loader (dist/code-cache.cjs), so the gate runs without loading the CLI.
  const source = readFileSync(BIN, 'utf8');
  const gated = source.replace('import(entry)', '__import(entry)');

  /** Evaluate bin.cjs with a fake process object reporting `version`. */
  function gate(version: string): { code: number | undefined; stderr: string; imported: boolean } {
    let stderr = '';
    let code: number | undefined;
    let imported = false;
    const fake = {
      versions: { node: version },
      execPath: '/usr/bin/node',
      env: {},
      stderr: { write: (s: string) => (stderr += s) },
      exit: (c: number) => {
        code = c;
        throw new Error('exit');
      },
    };
    const __import = (specifier: string) => {
      imported = specifier === './bin.js';
      return { catch: () => undefined };
    };
    // The real built-ins, but no compile cache: the gate alone is under test here.
    const require = (id: string) => {
      if (id === './code-cache.cjs') {
        imported = true;
        return { runBundle: () => ({ catch: () => undefined }) };
      }
      return id === 'node:module' ? {} : nodeRequire(id);
    };
    try {
      runInNewContext(
        gated,
        { process: fake, exports: {}, __import, require, __dirname: dirname(BIN) },
        { filename: BIN },
      );
    } catch (error) {
      if ((error as Error).message !== 'exit') throw error;
    }
    return { code, stderr, imported };
  }

  it('the entry is CommonJS with one dynamic import, after the gate', () => {
    expect(gated).not.toBe(source);
    expect(source.indexOf('MIN_MAJOR')).toBeLessThan(source.indexOf('import(entry)'));
    expect(source.indexOf('process.exit(2)')).toBeLessThan(source.indexOf("require('./code-cache.cjs')"));
    expect(source.indexOf('process.exit(2)')).toBeLessThan(source.indexOf("require('node:"));
    expect(source).not.toMatch(/^\s*import\s/m);
  });

  it.each(['20.19.0', '18.20.4', '16.0.0', '10.24.1', 'garbage'])('refuses Node %s with one line', (v) => {
    const r = gate(v);
    expect(r.code).toBe(2);
    expect(r.imported).toBe(false);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      new RegExp(`^helmts needs Node 22 or newer; this is Node ${v.replace('.', '\\.')}`),
    );
  });

  it.each(['22.0.0', '24.21.0'])('lets Node %s through to the CLI', (v) => {
    const r = gate(v);
    expect(r.code).toBeUndefined();
    expect(r.imported).toBe(true);
  });

  it('a real older Node on this machine gets the one-line message', async (context) => {
    const candidates = ['/usr/bin/node', '/usr/local/bin/node', '/bin/node'].filter(existsSync);
    const old = candidates.find((p) => {
      const major = Number(
        execFileSync(p, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }),
      );
      return major < 22;
    });
    if (old === undefined) {
      context.annotate('no Node < 22 installed here: only the evaluated gate above ran');
      return;
    }
    const r = await spawnHelmts(['--version'], { node: old });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^helmts needs Node 22 or newer; this is Node \d+\./);
  });
});
