// The HELM data directory: configuration, keys, trust registry, policies, tools and the store.
//
//   <dir>/config.json            chain id, trust anchor, fingerprint, initial identity bindings and
//                                egress rules (docs/cli.md §config.json)
//   <dir>/keys/<name>.json       one Ed25519 key per file (seed included; mode 0600); the root
//                                key(s) too, unless `init --root-key-dir` put them elsewhere
//   <dir>/policy/p0.json         P0 ceilings
//   <dir>/policy/bundle.json     the P1 bundle source; bundle.signed.json its signed envelope
//   <dir>/tools/<name>.json      registered tool descriptors; modules/<hex>.wasm their WASM modules
//   <dir>/helm.db                the SQLite store (receipts, nodes, decisions, trust events, …)
//
// Every <name> / <hex> comes from input and passes the one name rule of names.ts before it is
// used in a path (I-DATADIR-1); every file is parsed by the strict JSON parser (I-INPUT-1).
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { SignedEnvelope, TrustRole } from '@helm/contracts';
import { createSigner, fromBase64Url, type Signer, signEnvelope, toBase64Url } from '@helm/crypto';
import type { EgressRule, IdentityBinding } from '@helm/guardian';
import { openSqliteStore, type RuntimeStore, type SqliteStore } from '@helm/store';
import { commitTrustEvent, createGenesisEvent, TrustRegistry, trustEventDigest } from '@helm/trust';
import { RuntimeError } from '../errors.js';
import { parseJson } from './json.js';
import { keyOfFile, requireRole } from './keys.js';
import { listedPath, namedPath } from './names.js';

export const CONFIG_TYPE = 'helm.cli.config.v1';

export interface HelmConfig {
  readonly type: typeof CONFIG_TYPE;
  readonly chain_id: string;
  readonly trust_anchor: string;
  readonly environment_fingerprint: string;
  /** Gate 2: the initial identity bindings (`helmts identity add|remove` edits them as governance events). */
  readonly identity: readonly IdentityBinding[];
  /**
   * Gate 3: the initial egress allowlist (default: none — all egress denied), `{"rules": [...]}` as in
   * docs/spec/policy.md; earlier versions wrote the bare list, which is still read. `helmts egress
   * allow|remove` edit it as governance events.
   */
  readonly egress?: { readonly rules: readonly EgressRule[] } | readonly EgressRule[];
}

/**
 * A key file as written. Only `seed` is ever trusted: `keyid` and `public_key` must be the seed's
 * (checked on every read), `roles` and `status` are notes for humans (I-ROOT-2).
 */
export interface KeyFile {
  readonly name: string;
  readonly roles: readonly TrustRole[];
  readonly keyid: string;
  readonly public_key: string;
  readonly seed: string;
  readonly status: 'active' | 'revoked';
}

/** A key of the data directory: its file name and the signer its seed is. */
export interface LocalKey {
  readonly name: string;
  readonly seed: Uint8Array;
  readonly signer: Signer;
}

export const SETUP_KEYS: readonly { name: string; roles: TrustRole[] }[] = [
  { name: 'executor', roles: ['executor'] },
  { name: 'guardian', roles: ['guardian'] },
  { name: 'policy', roles: ['policy'] },
  { name: 'approver-1', roles: ['approver'] },
  { name: 'approver-2', roles: ['approver'] },
  { name: 'approver-3', roles: ['approver'] },
  { name: 'checkpoint', roles: ['checkpoint'] },
];

/**
 * The P0 `helmts init` writes. Its budgets refill every UTC hour: a ceiling on runaway loops that
 * never locks a principal out for good (a `fixed` budget would, until an administrative reset).
 */
export const DEFAULT_P0 = {
  type: 'helm.policy.p0.v1',
  name: 'default-ceiling',
  forbidden_effect_types: ['payment.transfer'],
  budgets: { default_principal_max: 1000, default_tenant_max: 10000, window: 'hour' },
  max_delegation_ttl_ms: 3_600_000,
  require_delegation_mfa: true,
};

export const DEFAULT_BUNDLE = {
  type: 'helm.policy.bundle.v1',
  name: 'default-rules',
  version: 1,
  rules: [{ id: 'local-echo', effect: 'allow', when: { principal: { eq: 'local' }, tool: { eq: 'echo' } } }],
};

export function resolveDataDir(option: string | undefined): string {
  return resolve(option ?? process.env.HELM_HOME ?? '.helm');
}

const readJson = (path: string): unknown => parseJson(new Uint8Array(readFileSync(path)), path);
/**
 * Write a file whole and without following links: the bytes go to a fresh temporary file created
 * exclusively (O_CREAT|O_EXCL never follows a symlink), which then replaces the target entry by
 * rename. A symlink a data-dir writer planted at the target is replaced, never written through, so
 * a write cannot land outside the data directory (I-DATADIR-1), and a crash leaves the old file.
 */
export function writeWhole(path: string, data: string | Uint8Array, mode?: number): void {
  // The directory itself must be a real directory: a `tools/` or `keys/` replaced by a link to
  // somewhere else would carry the write (a new private key, say) out of the data directory.
  if (lstatSync(dirname(path)).isSymbolicLink()) {
    throw new RuntimeError(
      'DATA_DIR_UNSAFE',
      `${dirname(path)} is a symbolic link; nothing was written`,
      'the directories inside the data directory (keys/, tools/, modules/, policy/) must be real directories: remove the link',
    );
  }
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  rmSync(temp, { force: true });
  writeFileSync(temp, data, { flag: 'wx', ...(mode === undefined ? {} : { mode }) });
  if (mode !== undefined) chmodSync(temp, mode);
  renameSync(temp, path);
}

const writeJson = (path: string, value: unknown, mode?: number) =>
  writeWhole(path, `${JSON.stringify(value, null, 2)}\n`, mode);

/**
 * Synchronous store methods the runtime only *looks up* to learn whether a store answers its
 * decision reads synchronously (runtime.ts readsSynchronously, idempotency.ts): on a shared
 * database they are absent, so the runtime takes the async port path.
 */
const PROBED_SYNC = new Set([
  'ledgerStateSync',
  'ledgerReservationSync',
  'ledgerCounterSync',
  'nonceUsedSync',
  'consumeNonceSync',
  'idempotencyEntrySync',
]);

/**
 * A shared (networked) store seen through the data directory's `store`: its async port as is, and
 * every synchronous method of the embedded store — which a networked store has not — a stable
 * refusal (DATABASE_RUNTIME_UNSUPPORTED) instead of a TypeError, so a code path not yet ported to
 * the port fails closed with a code, before it could record anything anywhere else.
 */
function sharedView(shared: RuntimeStore): SqliteStore {
  return new Proxy(shared, {
    get(target, key) {
      if (typeof key === 'string' && key.endsWith('Sync') && !(key in target)) {
        if (PROBED_SYNC.has(key)) return undefined;
        return () => {
          throw new RuntimeError(
            'DATABASE_RUNTIME_UNSUPPORTED',
            `this operation (${key}) does not run on the shared database yet; nothing was recorded`,
            'run it without --database-url on a node whose data directory holds the embedded store, or see docs/deployment.md for the commands that run on the database',
          );
        };
      }
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as unknown as SqliteStore;
}

export class DataDir {
  readonly dir: string;
  #store: SqliteStore | undefined;
  /** The shared database this node's runtime runs on, when one was attached (attachStore). */
  #shared: RuntimeStore | undefined;

  constructor(dir: string) {
    this.dir = dir;
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** `keys/<name>.json` for a name that passes the name rule (else NAME_INVALID). */
  keyPath(name: unknown): string {
    return namedPath(this.path('keys'), 'key', name, '.json');
  }

  /** `tools/<name>.json` for a name that passes the name rule (else NAME_INVALID). */
  toolPath(name: unknown): string {
    return namedPath(this.path('tools'), 'tool', name, '.json');
  }

  /** `modules/<hex>.wasm` for a lowercase SHA-256 hex digest (else NAME_INVALID). */
  modulePath(hex: unknown): string {
    return namedPath(this.path('modules'), 'module', hex, '.wasm');
  }

  exists(): boolean {
    return existsSync(this.path('config.json'));
  }

  requireInitialized(): this {
    if (!this.exists()) {
      throw new RuntimeError(
        'DATA_DIR_MISSING',
        `no HELM data directory at ${this.dir}`,
        'run `helmts init` first, or pass --data-dir <dir> (or set HELM_HOME)',
      );
    }
    return this;
  }

  /**
   * The store of this node: the shared database once attached (attachStore; its synchronous
   * methods refuse with DATABASE_RUNTIME_UNSUPPORTED), else `helm.db`, the embedded store.
   */
  get store(): SqliteStore {
    if (this.#shared) {
      this.#sharedView ??= sharedView(this.#shared);
      return this.#sharedView;
    }
    this.#store ??= openSqliteStore(this.path('helm.db'));
    return this.#store;
  }
  #sharedView: SqliteStore | undefined;

  /**
   * Run this node on a shared database (docs/deployment.md): from now on `store` is that database
   * and `helm.db` is never opened — decisions, budgets, grants and receipts are recorded there only.
   * Keys, config, policy and tools stay in this directory.
   */
  attachStore(shared: RuntimeStore, governanceLog?: string): this {
    if (this.#store)
      throw new RuntimeError(
        'INTERNAL',
        'the embedded store was opened before a shared database was attached',
      );
    this.#shared = shared;
    this.#sharedView = undefined;
    this.#governanceLog = governanceLog;
    return this;
  }

  /**
   * On a shared database: the name of the database's one governance log (every node applies it;
   * events are signed for it, not for a node's chain — docs/spec/multi-node.md §3.1). Undefined
   * on the embedded store, whose log is named by the data directory's chain id.
   */
  get governanceLog(): string | undefined {
    return this.#governanceLog;
  }
  #governanceLog: string | undefined;

  /** The shared database attached to this node, if any. */
  get shared(): RuntimeStore | undefined {
    return this.#shared;
  }

  /** The trust registry's events from the node's store, through the async port (any store). */
  async trustEventsAsync(): Promise<SignedEnvelope[]> {
    const store: RuntimeStore = this.#shared ?? this.store;
    return (await store.listDocuments('trust')).map((d) => d.value as unknown as SignedEnvelope);
  }

  /** The trust registry of the node's store, read through the async port. */
  async registryAsync(): Promise<TrustRegistry> {
    return this.registryFrom(await this.trustEventsAsync());
  }

  close(): void {
    this.#store?.closeSync();
    this.#store = undefined;
  }

  /** close(), and the shared database's connections too (the caller that attached it may also). */
  async closeAll(): Promise<void> {
    this.close();
    const shared = this.#shared as (RuntimeStore & { close?: () => Promise<void> }) | undefined;
    this.#shared = undefined;
    this.#sharedView = undefined;
    await shared?.close?.();
  }

  config(): HelmConfig {
    return readJson(this.path('config.json')) as HelmConfig;
  }

  writeConfig(config: HelmConfig): void {
    writeJson(this.path('config.json'), config);
  }

  // ── keys ──────────────────────────────────────────────────────────────────────────────────
  // A key file names its key only through its seed (src/keys.ts, I-ROOT-2): nothing here returns
  // a key id, role or status read from a file.

  /** The key of `keys/<name>.json` as its seed says (KEY_UNKNOWN, KEY_FILE_MISMATCH). */
  localKey(name: string): LocalKey {
    const path = this.keyPath(name);
    if (!existsSync(path))
      throw new RuntimeError('KEY_UNKNOWN', `no key named ${name}`, 'list keys with `helmts keys list`');
    return { name, ...keyOfFile(readJson(path), `keys/${name}.json`) };
  }

  /** Every `keys/*.json`, by name: its seed's signer, or why the file names no key. */
  localKeys(): (LocalKey | { readonly name: string; readonly error: RuntimeError })[] {
    const dir = this.path('keys');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => {
        const name = f.slice(0, -'.json'.length);
        const file = readJson(listedPath(dir, 'key', f, '.json'));
        try {
          return { name, ...keyOfFile(file, `keys/${f}`) };
        } catch (error) {
          if (error instanceof RuntimeError) return { name, error };
          throw error;
        }
      });
  }

  /**
   * The signer of `keys/<name>.json`, only if the registry (default: this directory's, at its
   * head) says its key holds `role` now: a seed swapped into a key file, a revoked key whose file
   * still says "active", or a key of another role is KEY_NOT_VALID, never used to sign.
   */
  signer(name: string, role: TrustRole, registry: TrustRegistry = this.registry()): Signer {
    return requireRole(registry, this.localKey(name).signer, role, name);
  }

  /**
   * Write `keys/<name>.json` for `seed`. `roles` and `status` are notes for a human reading the
   * file; no command reads them back (roles and validity come from the registry).
   */
  writeKey(
    name: string,
    roles: readonly TrustRole[],
    seed: Uint8Array,
    status: KeyFile['status'] = 'active',
  ): KeyFile {
    return writeKeyFile(this.path('keys'), name, roles, seed, status);
  }

  /**
   * Signers for a root-signed registry event: the keys of the files in `keyDir` (the directory
   * `init --root-key-dir` wrote them to, e.g. removable media brought online for the ceremony) or
   * else `keys/` whose seeds are keys holding `root` in the registry at its head. A file's own
   * `roles`/`status` do not matter, and a file whose keyid/public_key are not its seed's is not a
   * root key (it is skipped). Fewer than the root threshold is `ROOT_KEYS_INSUFFICIENT`: nothing
   * is signed.
   */
  rootSigners(registry: TrustRegistry, keyDir?: string): Signer[] {
    const dir = keyDir === undefined ? this.path('keys') : resolve(keyDir);
    // keys/ inside the data directory must be a real directory (I-DATADIR-1): root keys are not
    // read through a link a data-dir writer planted. A --root-key-dir is the operator's own path.
    if (keyDir === undefined && existsSync(dir) && lstatSync(dir).isSymbolicLink())
      throw new RuntimeError(
        'DATA_DIR_UNSAFE',
        `${dir} is a symbolic link; nothing was written`,
        'the directories inside the data directory (keys/, tools/, modules/, policy/) must be real directories: remove the link',
      );
    let mismatched = 0;
    const signers = (existsSync(dir) ? readdirSync(dir) : [])
      .filter((f) => f.endsWith('.json'))
      .sort()
      .flatMap((f) => {
        try {
          return [keyOfFile(readJson(listedPath(dir, 'key', f, '.json')), f).signer];
        } catch (error) {
          if (!(error instanceof RuntimeError) || error.code !== 'KEY_FILE_MISMATCH') throw error;
          mismatched++;
          return [];
        }
      })
      .filter((s) => registry.keyValidFor(s.keyId, 'root', registry.seq).ok)
      .filter((s, i, all) => all.findIndex((o) => o.keyId === s.keyId) === i);
    const threshold = registry.stateAt().root_threshold;
    if (signers.length < threshold) {
      throw new RuntimeError(
        'ROOT_KEYS_INSUFFICIENT',
        `${signers.length} root key(s) of this registry in ${dir}; the root threshold is ${threshold}${
          mismatched > 0
            ? ` (${mismatched} file(s) whose keyid/public_key are not their seed's were skipped)`
            : ''
        }`,
        'bring the offline root keys online for this operation and pass --root-key-dir <dir>',
      );
    }
    return signers.slice(0, threshold);
  }

  // ── trust registry (events persisted in the store) ────────────────────────────────────────
  trustEvents(): SignedEnvelope[] {
    return this.store.listDocumentsSync('trust').map((d) => d.value as unknown as SignedEnvelope);
  }

  registry(): TrustRegistry {
    return this.registryFrom(this.trustEvents());
  }

  /** The registry of these trust events (read from another store) under this directory's anchor. */
  registryFrom(events: readonly SignedEnvelope[]): TrustRegistry {
    return TrustRegistry.load([...events], { genesis: this.config().trust_anchor });
  }

  appendTrustEvent(registry: TrustRegistry, envelope: SignedEnvelope): void {
    this.store.putDocumentSync('trust', String(registry.seq).padStart(8, '0'), envelope as never);
  }

  // ── policy ────────────────────────────────────────────────────────────────────────────────
  p0(): unknown {
    return readJson(this.path('policy', 'p0.json'));
  }

  signedBundle(): SignedEnvelope {
    return readJson(this.path('policy', 'bundle.signed.json')) as SignedEnvelope;
  }

  writePolicy(p0: unknown, bundle: { type: string }, signer: Signer): SignedEnvelope {
    mkdirSync(this.path('policy'), { recursive: true });
    writeJson(this.path('policy', 'p0.json'), p0);
    writeJson(this.path('policy', 'bundle.json'), bundle);
    const signed = signEnvelope(bundle, [signer]);
    writeJson(this.path('policy', 'bundle.signed.json'), signed);
    return signed;
  }

  // ── tools ─────────────────────────────────────────────────────────────────────────────────
  toolDescriptors(): Record<string, unknown>[] {
    const dir = this.path('tools');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => readJson(listedPath(dir, 'tool', f, '.json')) as Record<string, unknown>);
  }

  writeTool(descriptor: Record<string, unknown>): string {
    const path = this.toolPath(descriptor.name);
    mkdirSync(this.path('tools'), { recursive: true });
    writeJson(path, descriptor);
    return path;
  }

  writeModule(hex: string, bytes: Uint8Array): string {
    const path = this.modulePath(hex);
    mkdirSync(this.path('modules'), { recursive: true });
    writeWhole(path, bytes);
    return path;
  }

  module(hex: string): Uint8Array | undefined {
    const path = this.modulePath(hex);
    return existsSync(path) ? new Uint8Array(readFileSync(path)) : undefined;
  }

  /** The signed instrumentation pin of the module `<hex>` (src/module-cache.ts), as text, if any. */
  instrumentedPin(hex: string): string | undefined {
    const path = namedPath(this.path('modules'), 'module', hex, '.instrumented.json');
    return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  }

  writeInstrumentedPin(hex: string, text: string): void {
    const path = namedPath(this.path('modules'), 'module', hex, '.instrumented.json');
    mkdirSync(this.path('modules'), { recursive: true });
    writeWhole(path, text);
  }
}

/** Write `<dir>/<name>.json` (mode 0600, directory 0700) through writeWhole. */
export function writeKeyFile(
  dir: string,
  name: string,
  roles: readonly TrustRole[],
  seed: Uint8Array,
  status: KeyFile['status'] = 'active',
): KeyFile {
  const path = namedPath(dir, 'key', name, '.json');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const signer = createSigner(seed);
  const file: KeyFile = {
    name,
    roles: [...roles],
    keyid: signer.keyId,
    public_key: toBase64Url(signer.publicKey),
    seed: toBase64Url(seed),
    status,
  };
  writeJson(path, file, 0o600);
  return file;
}

export interface InitOptions {
  /** Seed source (default: node:crypto randomBytes; the demo passes fixed, labelled demo seeds). */
  readonly seedFor?: (name: string) => Uint8Array;
  readonly chainId?: string;
  readonly p0?: unknown;
  readonly bundle?: { type: string };
  readonly identity?: HelmConfig['identity'];
  readonly fingerprint?: string;
  /** Root keys in the genesis (default 1, named `root`; more are `root-1` … `root-N`). */
  readonly rootKeys?: number;
  /** Root signatures every registry event needs (default 1; at most `rootKeys`). */
  readonly rootThreshold?: number;
  /**
   * Where the root key files go (default `<dir>/keys`). Outside the data directory, a data-dir
   * writer holds no root key: it can neither publish a key nor fork the registry.
   */
  readonly rootKeyDir?: string;
}

/** Create a data directory: keys, trust registry (genesis + key publications), default policy. */
export function initDataDir(
  dir: string,
  options: InitOptions = {},
): { data: DataDir; anchor: string; keys: KeyFile[]; rootKeyDir: string; rootThreshold: number } {
  const data = new DataDir(dir);
  if (data.exists()) {
    throw new RuntimeError(
      'DATA_DIR_EXISTS',
      `${dir} is already a HELM data directory`,
      'use it as is, or choose another --data-dir',
    );
  }
  const rootCount = options.rootKeys ?? 1;
  const threshold = options.rootThreshold ?? 1;
  if (!Number.isSafeInteger(rootCount) || rootCount < 1 || rootCount > 16)
    throw new RuntimeError('USAGE', '--root-keys must be an integer from 1 to 16');
  if (!Number.isSafeInteger(threshold) || threshold < 1 || threshold > rootCount)
    throw new RuntimeError(
      'USAGE',
      `--root-threshold must be an integer from 1 to ${rootCount} (--root-keys)`,
    );
  const rootDir = options.rootKeyDir === undefined ? data.path('keys') : resolve(options.rootKeyDir);
  const rootNames = rootCount === 1 ? ['root'] : Array.from({ length: rootCount }, (_, i) => `root-${i + 1}`);
  for (const name of rootNames) {
    if (existsSync(namedPath(rootDir, 'key', name, '.json')))
      throw new RuntimeError(
        'DATA_DIR_EXISTS',
        `${rootDir} already holds a key named ${name}`,
        'choose an empty --root-key-dir',
      );
  }
  mkdirSync(dir, { recursive: true });
  const seedFor = options.seedFor ?? (() => new Uint8Array(randomBytes(32)));
  const rootFiles = rootNames.map((name) => writeKeyFile(rootDir, name, ['root'], seedFor(name)));
  const roots = rootFiles.map((f) => createSigner(fromBase64Url(f.seed) as Uint8Array));
  const genesis = createGenesisEvent(
    { registry: 'helm', rootKeys: roots.map((r) => r.publicKey), rootThreshold: threshold },
    roots,
  );
  const anchor = trustEventDigest(genesis);
  const registry = TrustRegistry.fromGenesis(genesis);
  const root = roots.slice(0, threshold);
  const keys = [...rootFiles];
  data.writeConfig({
    type: CONFIG_TYPE,
    chain_id: options.chainId ?? 'main',
    trust_anchor: anchor,
    environment_fingerprint: options.fingerprint ?? `sha256:${'0'.repeat(64)}`,
    identity: options.identity ?? [{ credential_id: 'cred-local', principal: 'local' }],
    egress: { rules: [] },
  });
  data.appendTrustEvent(registry, genesis);
  for (const k of SETUP_KEYS) {
    const file = data.writeKey(k.name, k.roles, seedFor(k.name));
    keys.push(file);
    const env = commitTrustEvent(
      registry,
      { kind: 'key_publish', publicKey: fromBase64Url(file.public_key) as Uint8Array, roles: k.roles },
      root,
    );
    data.appendTrustEvent(registry, env);
  }
  data.writePolicy(
    options.p0 ?? DEFAULT_P0,
    options.bundle ?? DEFAULT_BUNDLE,
    data.signer('policy', 'policy', registry),
  );
  return { data, anchor, keys, rootKeyDir: rootDir, rootThreshold: threshold };
}
