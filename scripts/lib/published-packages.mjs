// What a published package must carry that is derived from the repository rather than from the
// package itself (pack-check checks it; `node scripts/pack-check.mjs --fix` writes it):
// - `repository` / `homepage` / `bugs` built from the ONE repository URL in the root package.json
//   (a placeholder until a real repository exists — DECISIONS "Releases (18)"), with `directory`;
// - a LICENSE file identical to the root LICENSE;
// - README links that work on the npm registry page: absolute, into the repository, and naming a
//   file or folder that exists (a relative link resolves against npmjs.com and breaks).
// "Published" = every workspace package that is not `"private": true`, found through pnpm, so a new
// package (packages/runtime, …) is covered without a list to update.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const posix = (path) => path.split(sep).join('/');

/** Every non-private workspace package, sorted by folder: `{name, dir, absDir, manifest}`. */
export function publishedPackages() {
  const listed = JSON.parse(
    execFileSync('pnpm', ['ls', '-r', '--depth', '-1', '--json'], { cwd: ROOT, encoding: 'utf8' }),
  );
  const out = [];
  for (const entry of listed) {
    const absDir = resolve(entry.path);
    if (absDir === ROOT) continue;
    const manifest = JSON.parse(readFileSync(join(absDir, 'package.json'), 'utf8'));
    if (manifest.private === true) continue;
    out.push({ name: manifest.name, dir: posix(relative(ROOT, absDir)), absDir, manifest });
  }
  return out.sort((a, b) => a.dir.localeCompare(b.dir));
}

/** The repository's web address, from the root package.json: `git+https://h/o/r.git` → `https://h/o/r`. */
export function repositoryWeb() {
  const url = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).repository?.url;
  const m = typeof url === 'string' ? /^git\+(https:\/\/[^\s]+?)(\.git)?$/.exec(url) : null;
  if (!m) throw new Error('root package.json needs repository.url of the form git+https://…/<repo>.git');
  return m[1];
}

/** The repository-derived manifest fields of the package in `dir` (relative to the root). */
export function expectedLinks(dir, web = repositoryWeb()) {
  return {
    homepage: `${web}/tree/main/${dir}#readme`,
    bugs: { url: `${web}/issues` },
    repository: { type: 'git', url: `git+${web}.git`, directory: dir },
  };
}

/** Markdown outside fenced code blocks, as [start, end) ranges of `text`. */
function proseRanges(text) {
  const ranges = [];
  const fence = /^ {0,3}(```|~~~)/gm;
  let from = 0;
  let open = null;
  for (let m = fence.exec(text); m !== null; m = fence.exec(text)) {
    if (open === null) {
      ranges.push([from, m.index]);
      open = m[1];
    } else if (m[1] === open) {
      open = null;
      from = text.indexOf('\n', m.index) + 1 || text.length;
    }
  }
  if (open === null) ranges.push([from, text.length]);
  return ranges;
}

/** Link targets of inline links/images (`[t](x)`, `![a](x)`) and definitions (`[r]: x`). */
export function markdownLinks(text) {
  const links = [];
  for (const [start, end] of proseRanges(text)) {
    const prose = text.slice(start, end);
    const patterns = [/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g, /^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/gm];
    for (const re of patterns) {
      for (const m of prose.matchAll(re)) {
        const at = start + m.index + m[0].indexOf(m[1]);
        links.push({ target: m[1], start: at, end: at + m[1].length });
      }
    }
  }
  return links.sort((a, b) => a.start - b.start);
}

const isExternal = (target) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

/**
 * The problems of a package README: relative links, and links into the repository
 * that name no existing file or folder.
 */
export function readmeProblems(text, web = repositoryWeb()) {
  const problems = [];
  for (const { target } of markdownLinks(text)) {
    if (target.startsWith('#')) continue;
    if (!isExternal(target)) {
      problems.push(`README: relative link ${target} (breaks on the npm registry page)`);
      continue;
    }
    if (!target.startsWith(`${web}/`)) continue;
    const m = /^(?:blob|tree)\/main\/([^#?]*)/.exec(target.slice(web.length + 1));
    if (m && !existsSync(join(ROOT, decodeURIComponent(m[1])))) {
      problems.push(`README: link ${target} names no file of the repository`);
    }
  }
  return problems;
}

/** `text` with every relative link made absolute into the repository (blob for files, tree for folders). */
export function absoluteReadme(absDir, text, web = repositoryWeb()) {
  let out = '';
  let last = 0;
  for (const { target, start, end } of markdownLinks(text)) {
    if (target.startsWith('#') || isExternal(target)) continue;
    const hash = target.indexOf('#');
    const path = hash < 0 ? target : target.slice(0, hash);
    const anchor = hash < 0 ? '' : target.slice(hash);
    const abs = resolve(absDir, decodeURIComponent(path));
    const inRepo = posix(relative(ROOT, abs));
    if (inRepo.startsWith('..') || !existsSync(abs)) continue; // left for readmeProblems to report
    const kind = statSync(abs).isDirectory() ? 'tree' : 'blob';
    out += text.slice(last, start) + `${web}/${kind}/main/${inRepo}${anchor}`;
    last = end;
  }
  return out + text.slice(last);
}
