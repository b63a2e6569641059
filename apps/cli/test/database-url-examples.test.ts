// Every database URL the CLI's help and the docs show an operator is one the CLI accepts: a
// database on another host is refused unless the URL says `sslmode=verify-full`
// (DATABASE_TLS_REQUIRED, docs/deployment.md "TLS to PostgreSQL"), so an example without it
// teaches a command that fails — or, copied into a weaker setup, a cleartext connection.
// The check is the store's own (`insecureTransport`), not a copy of its rule.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { insecureTransport } from '@helm/store-postgres';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../../', import.meta.url).pathname;
const URL_RE = /postgres(?:ql)?:\/\/[^\s'"`)<>\]]+/g;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

const FILES = [
  ...sources('apps/cli/src'),
  'docs/cli.md',
  'docs/deployment.md',
  'README.md',
  'apps/cli/README.md',
  'apps/server/README.md',
  'packages/store-postgres/README.md',
];

describe('database URLs in help texts and docs', () => {
  const found: { file: string; url: string }[] = [];
  for (const file of FILES)
    for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(URL_RE)) found.push({ file, url: m[0] });

  it('there are examples to check (the scan finds the help texts and docs)', () => {
    expect(found.filter((f) => f.file.startsWith('apps/cli/src')).length).toBeGreaterThan(5);
    expect(found.filter((f) => f.file === 'docs/cli.md').length).toBeGreaterThan(0);
  });

  it('each one names a local host or says sslmode=verify-full (the CLI would refuse it otherwise)', () => {
    const refused = found
      .filter(({ url }) => insecureTransport(url) !== undefined)
      .map((f) => `${f.file}: ${f.url}`);
    expect(refused).toEqual([]);
  });
});
