import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CliIo, main } from '../src/main.ts';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export interface Run {
  code: number;
  out: string;
  err: string;
}

export function run(argv: string[], cwd = process.cwd()): Run {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), cwd };
  const code = main(argv, io);
  return { code, out, err };
}

/** Copies a fixture workspace to a fresh temp folder (the plant tests edit the copy). */
export function copyFixture(name: string): {
  root: string;
  write: (file: string, text: string) => void;
  read: (file: string) => string;
  dispose: () => void;
} {
  const root = mkdtempSync(join(tmpdir(), `tcb-${name}-`));
  cpSync(join(FIXTURES, name), root, { recursive: true });
  return {
    root,
    write: (file, text) => writeFileSync(join(root, file), text),
    read: (file) => readFileSync(join(root, file), 'utf8'),
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** `file:line:rule` for every `// expect: rule[, rule]` marker in the fixture's sources. */
export function expectedMarkers(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.startsWith('vitest')) {
        readFileSync(path, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            const m = /\/\/ expect: (.+)$/.exec(line);
            for (const rule of m?.[1]?.split(',') ?? []) {
              out.push(`${relative(root, path)}:${i + 1}:${rule.trim()}`);
            }
          });
      }
    }
  };
  walk(join(root, 'packages'));
  return out.sort();
}
