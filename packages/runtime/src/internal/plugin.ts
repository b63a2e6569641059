// Plugin tools (docs/cli.md §Plugin tools): a tool body the operator writes in JavaScript, as an
// ES module whose default export is a function `(args, context) => JSON`. This is the non-TCB
// layer: the executor treats the plugin as any driver (it runs only after the guardian allowed the
// call and the PEP validated the arguments, its output is untrusted until the pinned output schema
// accepts it, a throw is a receipted DRIVER_ERROR), but the plugin itself runs in the HELM process
// with all of its authority — it is neither sandboxed nor egress-checked. What is pinned:
//
//   - the descriptor's driver is `{"kind": "plugin", "ref": "sha256:<P>"}`, P = SHA-256 of the
//     plugin file's bytes, so every receipt binds (through the descriptor digest) the code it ran;
//   - `plugins/<P>.json` records where the file is: an envelope `helm.cli.plugin.v1` {digest, path,
//     trust_seq} signed by the data directory's policy key (the file stays where the operator keeps
//     it, so its relative imports and node_modules resolve as usual). A data-directory writer who
//     cannot read the policy key therefore cannot make the runtime load code of their choosing by
//     writing a descriptor and a record: the record must verify under a key that held `policy` in
//     the trust registry at the seq it names, and that key must not be revoked now (a rotated
//     key's records stay valid, a revoked key's do not);
//   - every runtime open reads the file, refuses the tool with PLUGIN_PIN_MISMATCH unless its bytes
//     still have digest P, and then loads exactly those bytes in a worker thread
//     (plugin-worker.ts): a module hook serves the verified text for the plugin's URL, so a file
//     changed between the check and the load cannot run.
//
// Not pinned: the modules the plugin imports (its dependencies) and anything it reads at run time.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SignedEnvelope, ToolDescriptor } from '@helm/contracts';
import { digest, fromBase64Url, type Signer, signEnvelope } from '@helm/crypto';
import type { DriverContext } from '@helm/executor';
import type { TrustRegistry } from '@helm/trust';
import { RuntimeError } from '../errors.js';
import { type DataDir, writeWhole } from './datadir.js';
import { parseJson } from './json.js';
import { recordsAtHead } from './keys.js';
import { namedPath } from './names.js';

export const PLUGIN_DRIVER_KIND = 'plugin';
export const PLUGIN_RECORD_TYPE = 'helm.cli.plugin.v1';

export const PLUGIN_HINT =
  'a plugin is an ES module whose default export is the tool body: ' +
  '`export default async function (args, context) { return { ... }; }` (docs/cli.md §Plugin tools)';

/** The signed body of `plugins/<P>.json`: where the plugin file of digest P lives. */
interface PluginRecord {
  readonly type: typeof PLUGIN_RECORD_TYPE;
  readonly digest: string;
  readonly path: string;
  /** The trust registry seq the policy key signed it under. */
  readonly trust_seq: number;
}

/** A plugin that loaded and exports a function; nothing of it is on disk in the data directory yet. */
export interface StagedPlugin {
  /** Absolute path of the plugin file. */
  readonly path: string;
  /** SHA-256 of its bytes: the descriptor's driver.ref. */
  readonly digest: string;
}

/**
 * The worker's entry point, next to this file. Found on first use, not at load: in the CLI's bundle
 * `import.meta.url` is this file's URL located through the package resolver (apps/cli/scripts/
 * bundle.mjs), which every command would otherwise pay at start.
 */
function workerUrl(): URL {
  workerEntry ??= new URL(
    import.meta.url.endsWith('.ts') ? './plugin-worker.ts' : './plugin-worker.js',
    import.meta.url,
  );
  return workerEntry;
}
let workerEntry: URL | undefined;

const pluginInvalid = (message: string): RuntimeError =>
  new RuntimeError('PLUGIN_INVALID', message, PLUGIN_HINT);

type Answer = { readonly id: number; readonly value?: unknown; readonly error?: string };

/**
 * A plugin loaded in its own worker thread from the checked bytes (plugin-worker.ts). Calls are
 * messages; a call whose deadline passes (its signal aborts) terminates the worker — the only way
 * to stop JavaScript that does not stop by itself — and the next call starts a fresh one. The
 * plugin's stdout goes to this process's stderr, so it cannot corrupt `--json` output.
 */
export class PluginHost {
  readonly path: string;
  readonly #workerData: { url: string; source: string };
  /** The worker being started or running; #live once it is ready. */
  #worker: Promise<Worker> | undefined;
  #live: Worker | undefined;
  #next = 0;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(path: string, source: string, hexDigest: string) {
    this.path = path;
    this.#workerData = { url: `${pathToFileURL(path).href}?helm-plugin=${hexDigest}`, source };
  }

  /** Load the plugin from `bytes` (which have `hexDigest`); PLUGIN_INVALID unless it exports a function. */
  static async load(path: string, bytes: Uint8Array, hexDigest: string): Promise<PluginHost> {
    let source: string;
    try {
      source = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw pluginInvalid(`${path} is not UTF-8 text`);
    }
    const host = new PluginHost(path, source, hexDigest);
    await host.#start();
    return host;
  }

  #start(): Promise<Worker> {
    this.#worker ??= new Promise((resolve, reject) => {
      const worker = new Worker(workerUrl(), { workerData: this.#workerData, stdout: true, stderr: true });
      worker.stdout.pipe(process.stderr);
      worker.stderr.pipe(process.stderr);
      worker.once('message', (m: { ready?: true; invalid?: string }) => {
        if (!m.ready) return reject(pluginInvalid(`${this.path}: ${m.invalid}`));
        this.#live = worker;
        worker.on('message', (answer: Answer) => this.#answer(answer));
        worker.unref();
        resolve(worker);
      });
      worker.on('error', (error) =>
        reject(pluginInvalid(`${this.path} could not be loaded: ${error.message}`)),
      );
      worker.on('exit', () => {
        reject(pluginInvalid(`${this.path} stopped before it was ready`));
        if (this.#live === worker) this.#ended('the plugin stopped');
        else if (this.#live === undefined) this.#worker = undefined;
      });
    });
    return this.#worker;
  }

  #answer(answer: Answer): void {
    const call = this.#pending.get(answer.id);
    if (!call) return;
    this.#pending.delete(answer.id);
    if (this.#pending.size === 0) this.#live?.unref();
    if (answer.error !== undefined) call.reject(new Error(answer.error));
    else call.resolve(answer.value);
  }

  /** The live worker ended: every call still waiting on it fails; the next call starts a new one. */
  #ended(why: string): void {
    this.#live = undefined;
    this.#worker = undefined;
    for (const [id, call] of this.#pending) {
      this.#pending.delete(id);
      call.reject(new Error(why));
    }
  }

  /** Run one call (the executor's driver contract: its promise races the tool's deadline). */
  async invoke(args: unknown, context: DriverContext): Promise<unknown> {
    const worker = await this.#start();
    const id = ++this.#next;
    const answer = new Promise<unknown>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    worker.ref();
    context.signal.addEventListener('abort', () => void this.close('the call passed its deadline'), {
      once: true,
    });
    const plain = { tool: context.descriptor.name, decision_id: context.decision_id, effect: context.effect };
    worker.postMessage({ id, args, context: JSON.parse(JSON.stringify(plain)) });
    return answer;
  }

  /** Stop the worker (pending calls fail with `why`). */
  async close(why = 'the runtime closed'): Promise<void> {
    const worker = this.#live;
    if (!worker) return;
    this.#ended(why);
    await worker.terminate();
  }
}

/** Read and load a plugin file for `tool register --driver` (its top-level code runs now). */
export async function stagePlugin(file: string): Promise<StagedPlugin> {
  const path = resolve(file);
  if (!existsSync(path)) throw new RuntimeError('FILE_NOT_FOUND', `no such plugin file: ${file}`);
  const bytes = new Uint8Array(readFileSync(path));
  const d = digest(bytes);
  const host = await PluginHost.load(path, bytes, d.slice('sha256:'.length));
  await host.close();
  return { path, digest: d };
}

function recordPath(data: DataDir, ref: unknown): string {
  const hex = typeof ref === 'string' && ref.startsWith('sha256:') ? ref.slice('sha256:'.length) : ref;
  return namedPath(data.path('plugins'), 'module', hex, '.json');
}

/** Write `plugins/<P>.json`, signed by `signer` (the policy key) under `registry`'s head. */
export function writePluginRecord(
  data: DataDir,
  staged: StagedPlugin,
  registry: TrustRegistry,
  signer: Signer,
): void {
  mkdirSync(data.path('plugins'), { recursive: true });
  const record: PluginRecord = {
    type: PLUGIN_RECORD_TYPE,
    digest: staged.digest,
    path: staged.path,
    trust_seq: registry.seq,
  };
  writeWhole(recordPath(data, staged.digest), `${JSON.stringify(signEnvelope(record, [signer]), null, 2)}\n`);
}

const mismatch = (message: string, hint: string): RuntimeError =>
  new RuntimeError('PLUGIN_PIN_MISMATCH', message, hint);

/**
 * The plugin file the signed record `plugins/<P>.json` names for `ref` = sha256:<P>, checked: the
 * envelope verifies under a key holding `policy` at its trust seq, and names `ref`.
 */
export function pluginPath(data: DataDir, ref: string, registry: TrustRegistry): string {
  const path = recordPath(data, ref);
  const register = 'register the tool again: `helmts tool register <descriptor> --driver <file>`';
  if (!existsSync(path))
    throw mismatch(`no plugin registration for ${ref} in ${data.path('plugins')}`, register);
  const envelope = parseJson(new Uint8Array(readFileSync(path)), path) as SignedEnvelope;
  try {
    const claimed = parseJson(
      fromBase64Url(String(envelope.payload)) ?? new Uint8Array(),
      `${path} payload`,
    ) as Partial<PluginRecord>;
    const seq = claimed.trust_seq;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) throw new Error('no trust_seq');
    const check = registry.verifyEnvelopeAt<PluginRecord & { readonly [k: string]: unknown }>(
      envelope,
      PLUGIN_RECORD_TYPE,
      'policy',
      seq,
    );
    if (!check.ok) throw Object.assign(new Error(check.message), { code: check.code });
    const record = check.body;
    if (record.digest !== ref || typeof record.path !== 'string' || !isAbsolute(record.path))
      throw new Error(`it names ${String(record.digest)}`);
    // A registration is a standing authorization, not history: a key revoked since (unlike one
    // rotated out) no longer vouches for the code it registered, whatever seq the record names.
    const keys = recordsAtHead(registry);
    if (envelope.signatures.some((s) => keys.get(s.keyid)?.revocation === 'revoked'))
      throw new Error('its signing key has been revoked');
    return record.path;
  } catch (error) {
    throw mismatch(
      `${path} is not a plugin registration signed by a policy key of this trust registry (${
        (error as { code?: string }).code ?? (error as Error).message
      }); nothing runs`,
      register,
    );
  }
}

/**
 * The checked plugin file of a plugin tool: its signed registration names it, and it still has the
 * pinned digest (else PLUGIN_PIN_MISMATCH). Synchronous: the bytes returned are the ones to load.
 */
export function checkedPlugin(
  data: DataDir,
  descriptor: ToolDescriptor,
  registry: TrustRegistry,
): { path: string; bytes: Uint8Array } {
  const ref = descriptor.driver.ref;
  let path: string;
  try {
    path = pluginPath(data, ref, registry);
  } catch (error) {
    if (error instanceof RuntimeError)
      throw mismatch(`tool ${descriptor.name}: ${error.message}`, error.hint ?? '');
    throw error;
  }
  const repin = `review it, then \`helmts tool repin <descriptor> --driver ${path}\` to pin it again`;
  if (!existsSync(path))
    throw mismatch(
      `tool ${descriptor.name}: its plugin file ${path} is missing; nothing runs`,
      `restore the file (digest ${ref}), or ${repin}`,
    );
  const bytes = new Uint8Array(readFileSync(path));
  const now = digest(bytes);
  if (now !== ref)
    throw mismatch(
      `tool ${descriptor.name}: its plugin file ${path} changed since it was registered (pinned ${ref}, now ${now}); nothing runs`,
      `restore the registered version, or ${repin}`,
    );
  return { path, bytes };
}
