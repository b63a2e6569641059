// Runs the bundle (dist/bundle/helmts.cjs, scripts/bundle.mjs) with a V8 code cache of its top-level
// compile: the script is compiled, its cache data taken *before* it runs, and written after a
// successful command; the next start deserializes that instead of parsing the 3 MB script. Every
// function the bundle holds is then compiled on first call, fresh, exactly as without a cache — the
// scheme Node's own compile cache uses for modules.
//
// Why not a cache taken after the run (it holds every function the run compiled, so it saves more):
// V8 then mixes functions deserialized from one command's run with functions another command compiles
// afresh, and with this bundle that broke class private-member brand checks ("Receiver must be
// class #…") and crashed the process (SIGSEGV) — code that does not run as written. A start-up cache
// must never change what runs, so only the top-level compile, which every command shares, is cached
// (test/code-cache.test.ts: a cache made by one command runs every other command as no cache does).
//
// A cache entry is code this process will run, so where it lives and what it is checked against are
// the security of this file (docs/threat-model.md, I-CLICACHE-1 and I-CLICACHE-2):
// - never in the data directory (its writer is an attacker there): `$XDG_CACHE_HOME/helmts`, else
//   `~/.cache/helmts`, created 0700; entries 0600, written to a temporary file and renamed;
// - used only when the directory is a real directory (not a symlink), owned by the effective user and
//   not group- or world-writable, and the entry likewise (opened without following a symlink) —
//   otherwise the cache is ignored, which costs time and never fails the command; a process whose
//   effective uid does not own the directory (`sudo` with the user's HOME) neither reads nor writes;
// - keyed by the SHA-256 of the bundle's bytes, Node's version, the architecture and the flags V8 was
//   started with: V8 checks a cache against the source's *length* only, so an updated bundle of the
//   same length would otherwise run the old code. The key is also in the entry's header, so an entry
//   renamed or linked to another key's name is not taken for it;
// - written only after a command that exits 0, from the `exit` event (stdout and stderr are written
//   synchronously on Linux, so the output is out before), bounded in size, a few entries kept;
// - written once per key: an entry V8 accepted is never rewritten; one V8 rejects (`cachedDataRejected`:
//   another V8, a corrupt file) or of an older format (v1, taken after a run) is replaced.
// HELMTS_NO_CODE_CACHE=1 turns it off (nothing read, nothing written); so does V8 coverage
// (NODE_V8_COVERAGE), under which V8 failed brand checks with even this cache.
import fs = require('node:fs');
import path = require('node:path');
import vm = require('node:vm');
import crypto = require('node:crypto');
import os = require('node:os');
import nodeModule = require('node:module');
import nodeBuffer = require('node:buffer');

// An entry: MAGIC, the 32-byte key, then V8's data. (v1 entries, taken after a run, are never used.)
const MAGIC = Buffer.from('helmts-code-cache-v2\n', 'latin1');
const HEADER = MAGIC.length + 32;
/** The largest cache kept (the bundle's is a few MB): a bound on the disk one entry can take. */
const MAX_DATA = 64 * 1024 * 1024;
/** Entries kept per directory (one per bundle × Node × flags in use); the oldest go first. */
const KEEP = 4;
const ENTRY = /^bundle-[0-9a-f]{64}\.v8cache$/;
/** Group- and world-writable bits: either makes a directory or file someone else's to fill. */
const OTHERS_WRITE = 0o022;

/** The user's cache directory for `helmts`, checked, or undefined (no cache) if it is unsafe or absent. */
function cacheDir(): string | undefined {
  if (typeof process.geteuid !== 'function') return undefined; // no owner to check (Windows)
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  const dir = path.join(base, 'helmts');
  if (!fs.existsSync(dir)) {
    // Created only inside a directory of this effective user's (the cache base, or the home that
    // will hold it): `sudo helmts` keeping the user's HOME must not leave a root-owned directory
    // the user can then neither use nor remove.
    const holder = fs.existsSync(base) ? base : path.dirname(base);
    if (fs.statSync(holder).uid !== process.geteuid()) return undefined;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  return ownDirectory(dir) ? dir : undefined;
}

/** A directory (not a symlink to one) this effective user owns and no one else can write. */
function ownDirectory(dir: string): boolean {
  const st = fs.lstatSync(dir);
  return st.isDirectory() && st.uid === process.geteuid?.() && (st.mode & OTHERS_WRITE) === 0;
}

/** The cached data of `entry` if it is safe to use and was written for `key`. */
function readEntry(entry: string, key: Buffer): Buffer | undefined {
  let fd: number;
  try {
    fd = fs.openSync(entry, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (_error) {
    return undefined; // none yet, or a symlink (ELOOP)
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.uid !== process.geteuid?.() || (st.mode & OTHERS_WRITE) !== 0) return undefined;
    if (st.size <= HEADER || st.size > HEADER + MAX_DATA) return undefined;
    const bytes = fs.readFileSync(fd);
    if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    if (!bytes.subarray(MAGIC.length, HEADER).equals(key)) return undefined;
    return bytes.subarray(HEADER);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `data` as `entry` (temporary file, fsync, rename), and drops old entries. */
function writeEntry(dir: string, entry: string, key: Buffer, data: Buffer): void {
  if (!ownDirectory(dir)) return;
  if (data.length === 0 || data.length > MAX_DATA) return;
  const temp = path.join(dir, `.tmp-${process.pid}-${crypto.randomBytes(8).toString('hex')}`);
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
  const fd = fs.openSync(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    try {
      fs.writeSync(fd, MAGIC);
      fs.writeSync(fd, key);
      fs.writeSync(fd, data);
      fs.fsyncSync(fd); // a rename that outlives a crash never names a torn file
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, entry);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  const old = fs
    .readdirSync(dir)
    .filter((name) => ENTRY.test(name) && path.join(dir, name) !== entry)
    .map((name) => ({ file: path.join(dir, name), mtime: fs.lstatSync(path.join(dir, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { file } of old.slice(KEEP - 1)) fs.rmSync(file, { force: true });
}

/** What the cache is keyed by besides the bundle's bytes: anything that changes the code V8 makes. */
function environmentKey(): string {
  return JSON.stringify([
    process.version,
    process.versions.v8,
    process.arch,
    process.platform,
    process.execArgv,
    process.env.NODE_OPTIONS ?? '',
  ]);
}

/**
 * The bundle's text. scripts/bundle.mjs makes it ASCII, and ASCII bytes read as latin1 are the same
 * text, which Node hands V8 as an external one-byte string (kept outside the JavaScript heap,
 * copied without decoding): ~15 M instructions less per start than decoding UTF-8 onto the heap
 * (docs/PERFORMANCE.md). Any other bundle is decoded as UTF-8, as before.
 */
function sourceText(bytes: Buffer): string {
  return nodeBuffer.isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

/** Loads and runs the bundle `file`; the promise settles when the command's work is done. */
function runBundle(file: string): Promise<void> {
  const bytes = fs.readFileSync(file);
  let dir: string | undefined;
  let entry: string | undefined;
  let key: Buffer | undefined;
  let cached: Buffer | undefined;
  // Under V8 coverage (NODE_V8_COVERAGE: c8, the test suites) the cache is neither read nor written:
  // there, even this top-level cache made V8 fail private-member brand checks.
  if (process.env.HELMTS_NO_CODE_CACHE !== '1' && !process.env.NODE_V8_COVERAGE) {
    try {
      key = crypto.createHash('sha256').update(bytes).update('\0').update(environmentKey()).digest();
      dir = cacheDir();
      if (dir !== undefined) {
        entry = path.join(dir, `bundle-${key.toString('hex')}.v8cache`);
        cached = readEntry(entry, key);
      }
    } catch (_error) {
      dir = undefined; // no cache: slower, never wrong
    }
  }
  const script = new vm.Script(sourceText(bytes), {
    filename: file,
    ...(cached === undefined ? {} : { cachedData: cached }),
    // No importModuleDynamically: the bundle has no `import()` (scripts/bundle.mjs).
  });
  type Exports = { start?: (argv: readonly string[]) => Promise<void> };
  const mod: { exports: Exports } = { exports: {} };
  if (dir !== undefined && entry !== undefined && key !== undefined) {
    if (cached === undefined || script.cachedDataRejected === true) {
      // Taken now, before anything ran: the top-level compile only (see the file's header).
      let data: Buffer | undefined;
      try {
        data = script.createCachedData();
      } catch (_error) {
        data = undefined; // no cache next time: slower, never wrong
      }
      const [d, e, k] = [dir, entry, key];
      process.once('exit', (code) => {
        if (code !== 0 || data === undefined) return;
        try {
          writeEntry(d, e, k, data);
        } catch (_error) {
          // no cache next time: slower, never wrong
        }
      });
    }
  }
  const wrapper = script.runInThisContext() as (
    module: { exports: Exports },
    exports: object,
    require: NodeJS.Require,
    filename: string,
    dirname: string,
  ) => void;
  wrapper(mod, mod.exports, nodeModule.createRequire(file), file, path.dirname(file));
  if (typeof mod.exports.start !== 'function') throw new Error(`${file} exports no start()`);
  return mod.exports.start(process.argv);
}

export = { runBundle };
