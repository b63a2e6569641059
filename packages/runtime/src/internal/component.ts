// WASI preview2 components as sandbox tools, through jco (docs/spec/sandbox.md §Components via
// jco). jco stays outside the TCB: the CLI owns it and hands @helm/runtime-sandbox only what it
// generated and checked, through `componentTranspiler`.
//
// Registration (`helmts tool register <descriptor> --component <file>`, stageComponent): the
// component is transpiled by the pinned @bytecodealliance/jco-transpile in a worker thread, its
// imports are checked against the interfaces a tool component may use (no wasi:filesystem,
// wasi:sockets, wasi:http, nothing else the deny-by-default host does not provide), and it is
// admitted by a scratch sandbox — all before anything is written. Then writeComponent stores,
// by content digest, in `modules/`:
//
//   <C>.wasm       the component (C = SHA-256 of its bytes = the descriptor's driver.ref)
//   <M>.wasm       each core module jco extracted (M = SHA-256 of its bytes)
//   <G>.js         the generated glue (G = SHA-256 of its UTF-8 bytes), an audit copy
//   <C>.jco.json   the pin: transpiler name, version and options, the imports, the artifacts'
//                  digests and `transpiled` = digest(JCS({type, glue, core_modules}))
//
// Every runtime open (PinnedComponents.register) transpiles the component again with the pinned
// jco and refuses the tool (COMPONENT_PIN_MISMATCH) unless the output equals the pin and the stored
// artifacts, byte for byte. No code is ever loaded from the data directory: the glue that runs is
// jco's output for the pinned component bytes, and equal to what was pinned at registration.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { GenerateOptions } from '@bytecodealliance/jco-transpile/component';
import { canonicalBytes, digest } from '@helm/crypto';
import {
  createSandbox,
  type ModuleHandle,
  PREVIEW2_INTERFACES,
  type Sandbox,
  SandboxError,
  type TranspiledComponent,
} from '@helm/runtime-sandbox';
import { RuntimeError } from '../errors.js';
import { type DataDir, writeWhole } from './datadir.js';
import { parseJson } from './json.js';
import { namedPath } from './names.js';

/** The transpiler, pinned to the exact version in package.json (a test keeps the two equal). */
export const JCO_TRANSPILER = { name: '@bytecodealliance/jco-transpile', version: '0.15.0' } as const;

/** jco's `generate` options, pinned with every component: the output the sandbox's runner expects. */
export const JCO_OPTIONS: GenerateOptions = {
  // Output file names (`component.js`, `component.core*.wasm`) do not depend on the tool.
  name: 'component',
  // `instantiate(getCoreModule, imports, instantiateCore)`: every import comes from the host.
  instantiation: { tag: 'sync' },
  // Core modules are separate files (metered and pinned by the sandbox), never inlined.
  base64Cutoff: 0,
  noTypescript: true,
  noNodejsCompat: true,
  // `run` returning `err` throws a ComponentError (with `payload`): the sandbox's exit 1.
  noComponentErrorWrapping: false,
  tlaCompat: false,
  validLiftingOptimization: false,
  tracing: false,
  multiMemory: false,
  map: [],
};

/**
 * The interfaces a tool component may import: the sandbox's deny-by-default preview2 host
 * (`PREVIEW2_INTERFACES`) without wasi:filesystem — one list, so the two cannot drift apart.
 */
export function componentInterfaces(): readonly string[] {
  // Computed on first use, not at load: reading the sandbox's list at this module's top level would
  // initialise @helm/runtime-sandbox in every bundled command, which the CLI loads only on first use
  // (apps/cli/scripts/bundle.mjs, LAZY_PACKAGES).
  interfaces ??= PREVIEW2_INTERFACES.filter((name) => !name.startsWith('wasi:filesystem/'));
  return interfaces;
}
let interfaces: readonly string[] | undefined;

const REFUSED_FAMILIES: readonly (readonly [string, string])[] = [
  ['wasi:filesystem/', 'file system'],
  ['wasi:sockets/', 'network sockets'],
  ['wasi:http/', 'HTTP'],
];

export const COMPONENT_IMPORT_HINT =
  'a tool component reads its JSON input on stdin and prints one JSON document on stdout; it may ' +
  'import only wasi:cli (stdin, stdout, stderr, exit, environment, terminal-*), wasi:clocks, wasi:io ' +
  'and wasi:random — never wasi:filesystem, wasi:sockets or wasi:http (components made with the ' +
  'WASI preview1 adapter import wasi:filesystem); see docs/spec/sandbox.md §Components via jco';

const PIN_HINT =
  'the pin in modules/ or an artifact it names was changed, or helm now runs another jco: review the ' +
  'component and register it again (`helmts tool register <descriptor> --component <file>`)';

/** Largest component accepted (the sandbox's default maxModuleBytes). */
export const MAX_COMPONENT_BYTES = 16 * 1024 * 1024;
/** Deadline of one transpilation; the worker is terminated when it passes. */
export const TRANSPILE_TIMEOUT_MS = 60_000;
const COMPONENT_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
const PIN_TYPE = 'helm.cli.component-pin.v1';
const OUTPUT_TYPE = 'helm.cli.jco-output.v1';
const GLUE_FILE = 'component.js';
const CORE_FILE = /^component\.core[0-9]*\.wasm$/;

/** What jco generated for one component. */
export interface JcoOutput {
  /** The ES module exporting `instantiate`, UTF-8. */
  readonly glue: Uint8Array;
  /** The core modules, by the name the glue passes to getCoreModule. */
  readonly coreModules: Readonly<Record<string, Uint8Array>>;
  readonly imports: readonly string[];
  readonly exports: readonly string[];
}

/** The pin file `modules/<C>.jco.json`. */
export interface ComponentPin {
  readonly type: typeof PIN_TYPE;
  readonly component: string;
  readonly transpiler: { readonly name: string; readonly version: string; readonly options: GenerateOptions };
  readonly imports: readonly string[];
  /** digest(JCS({ type: 'helm.cli.jco-output.v1', glue, core_modules })): the canonical transpiled output. */
  readonly transpiled: string;
  readonly glue: string;
  readonly core_modules: Readonly<Record<string, string>>;
}

/** A component that passed every registration check; nothing of it is on disk yet. */
export interface StagedComponent {
  readonly bytes: Uint8Array;
  readonly pin: ComponentPin;
  readonly output: JcoOutput;
}

/** Whether `bytes` start with the component header (layer 1), not a core module's. */
export function isComponent(bytes: Uint8Array): boolean {
  return COMPONENT_HEADER.every((b, i) => bytes[i] === b);
}

/** `wasi:cli/stdout@0.2.3` → `wasi:cli/stdout`. */
function unversioned(name: string): string {
  const at = name.indexOf('@');
  return at < 0 ? name : name.slice(0, at);
}

const hexOf = (d: string): string => d.slice('sha256:'.length);

// ── transpilation ────────────────────────────────────────────────────────────────────────────

/**
 * The worker's entry point, next to this file. Found on first use, not at load: in the CLI's bundle
 * `import.meta.url` is this file's URL located through the package resolver (apps/cli/scripts/
 * bundle.mjs), which every command would otherwise pay at start.
 */
function workerUrl(): URL {
  workerEntry ??= new URL(
    import.meta.url.endsWith('.ts') ? './jco-worker.ts' : './jco-worker.js',
    import.meta.url,
  );
  return workerEntry;
}
let workerEntry: URL | undefined;

type WorkerAnswer =
  | {
      readonly files: [string, Uint8Array][];
      readonly imports: string[];
      readonly exports: [string, string][];
    }
  | { readonly error: string };

/** Run jco in a fresh worker: empty environment, no arguments, stdio captured, heap cap, deadline. */
function runJco(component: Uint8Array, timeoutMs: number): Promise<WorkerAnswer> {
  return new Promise((resolve) => {
    const worker = new Worker(workerUrl(), {
      workerData: { component, options: JCO_OPTIONS },
      env: {},
      argv: [],
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: 512 },
    });
    worker.stdout.resume();
    worker.stderr.resume();
    let settled = false;
    const settle = (answer: WorkerAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(answer);
    };
    const timer = setTimeout(() => settle({ error: `jco did not finish within ${timeoutMs} ms` }), timeoutMs);
    worker.on('message', (answer: WorkerAnswer) => settle(answer));
    worker.on('error', (error: Error) => settle({ error: error.message }));
    worker.on('exit', (code) => settle({ error: `jco's worker exited (code ${code})` }));
  });
}

function invalid(message: string): RuntimeError {
  return new RuntimeError(
    'COMPONENT_INVALID',
    message,
    'give a WASI preview2 command component (exporting wasi:cli/run); a core module goes with --wasm',
  );
}

function outputOf(answer: WorkerAnswer): JcoOutput {
  if ('error' in answer) throw invalid(`jco could not transpile the component: ${answer.error}`);
  let glue: Uint8Array | undefined;
  const coreModules: Record<string, Uint8Array> = {};
  for (const [name, bytes] of answer.files) {
    if (name === GLUE_FILE) glue = bytes;
    else if (CORE_FILE.test(name)) coreModules[name] = bytes;
    else throw invalid(`jco produced an unexpected file ${JSON.stringify(name)}`);
  }
  if (glue === undefined) throw invalid('jco produced no glue module');
  return {
    glue,
    coreModules,
    imports: [...new Set(answer.imports)].sort(),
    exports: answer.exports.map(([name]) => name).sort(),
  };
}

/** Outputs of this process, by component digest (the bytes are the only input): bounded. */
const transpiled = new Map<string, Promise<JcoOutput>>();
const MEMO_ENTRIES = 8;

/** Transpile a component with the pinned jco and options (COMPONENT_INVALID when jco fails). */
export function transpileComponent(
  component: Uint8Array,
  timeoutMs = TRANSPILE_TIMEOUT_MS,
): Promise<JcoOutput> {
  const key = digest(component);
  let out = transpiled.get(key);
  if (out === undefined) {
    out = runJco(component, timeoutMs).then(outputOf);
    transpiled.set(key, out);
    out.catch(() => transpiled.delete(key));
    if (transpiled.size > MEMO_ENTRIES) transpiled.delete(transpiled.keys().next().value as string);
  }
  return out;
}

// ── checks and the pin ─────────────────────────────────────────────────────────────────────────

/** Refuse (COMPONENT_IMPORT_DENIED) any import outside componentInterfaces(). */
export function checkImports(imports: readonly string[]): void {
  const denied = imports.filter((name) => !componentInterfaces().includes(unversioned(name)));
  if (denied.length === 0) return;
  const what = new Set(
    denied.map(
      (name) =>
        REFUSED_FAMILIES.find(([prefix]) => name.startsWith(prefix))?.[1] ?? 'not provided by the sandbox',
    ),
  );
  throw new RuntimeError(
    'COMPONENT_IMPORT_DENIED',
    `the component imports ${denied.join(', ')} (${[...what].join(', ')}): refused, a tool component ` +
      'gets no file system, sockets or HTTP',
    COMPONENT_IMPORT_HINT,
  );
}

/** The sandbox's input for this output. */
function asTranspiled(output: JcoOutput): TranspiledComponent {
  return {
    js: new TextDecoder('utf-8', { fatal: true }).decode(output.glue),
    core_modules: output.coreModules,
    imports: output.imports,
  };
}

/** The pin of `component` given jco's output for it. */
export function pinOf(component: Uint8Array, output: JcoOutput): ComponentPin {
  const core_modules: Record<string, string> = {};
  for (const name of Object.keys(output.coreModules).sort())
    core_modules[name] = digest(output.coreModules[name] as Uint8Array);
  const glue = digest(output.glue);
  return {
    type: PIN_TYPE,
    component: digest(component),
    transpiler: { name: JCO_TRANSPILER.name, version: JCO_TRANSPILER.version, options: JCO_OPTIONS },
    imports: output.imports,
    transpiled: digest(canonicalBytes({ type: OUTPUT_TYPE, glue, core_modules })),
    glue,
    core_modules,
  };
}

/** `modules/<C>.jco.json`. */
export function pinPath(data: DataDir, componentDigest: string): string {
  return namedPath(data.path('modules'), 'module', hexOf(componentDigest), '.jco.json');
}

/** `modules/<G>.js`. */
export function gluePath(data: DataDir, glueDigest: string): string {
  return namedPath(data.path('modules'), 'module', hexOf(glueDigest), '.js');
}

/** Map a sandbox refusal of the component to COMPONENT_INVALID (anything else is rethrown). */
function sandboxRefusal(error: unknown, what: string): unknown {
  if (!(error instanceof SandboxError)) return error;
  return invalid(`${what}: the sandbox refused the component (${error.code}: ${error.message})`);
}

/**
 * Everything `tool register --component` checks before it writes: a component (size, header),
 * jco's transpilation, the imports, a `wasi:cli/run` export, and the sandbox's own admission
 * (validation, instrumentation, its host's interface list) in a scratch sandbox.
 */
export async function stageComponent(path: string): Promise<StagedComponent> {
  if (!existsSync(path)) throw new RuntimeError('FILE_NOT_FOUND', `no such component: ${path}`);
  const bytes = new Uint8Array(readFileSync(path));
  if (bytes.length > MAX_COMPONENT_BYTES) throw invalid(`${path} exceeds ${MAX_COMPONENT_BYTES} bytes`);
  if (!isComponent(bytes)) throw invalid(`${path} is not a WebAssembly component`);
  const output = await transpileComponent(bytes);
  checkImports(output.imports);
  if (!output.exports.some((name) => unversioned(name) === 'wasi:cli/run'))
    throw invalid(`${path} does not export wasi:cli/run (it is not a WASI command)`);
  const scratch = createSandbox({ componentTranspiler: async () => asTranspiled(output) });
  try {
    await scratch.registerComponent(bytes);
  } catch (error) {
    throw sandboxRefusal(error, path);
  } finally {
    await scratch.close();
  }
  return { bytes, pin: pinOf(bytes, output), output };
}

/**
 * Store the component's transpiled artifacts and its pin in `modules/` (the component bytes
 * themselves are the tool's module, written by `tool register`). Returns the files it created, for
 * a rollback.
 */
export function writeComponent(data: DataDir, staged: StagedComponent): string[] {
  mkdirSync(data.path('modules'), { recursive: true });
  const created: string[] = [];
  const put = (path: string, contents: string | Uint8Array): void => {
    if (!existsSync(path)) created.push(path);
    writeWhole(path, contents);
  };
  for (const [name, d] of Object.entries(staged.pin.core_modules))
    put(data.modulePath(hexOf(d)), staged.output.coreModules[name] as Uint8Array);
  put(gluePath(data, staged.pin.glue), staged.output.glue);
  put(pinPath(data, staged.pin.component), `${JSON.stringify(staged.pin, null, 2)}\n`);
  return created;
}

/** What `tool register` reports about a component. */
export function componentSummary(pin: ComponentPin): Record<string, unknown> {
  return {
    digest: pin.component,
    transpiled: pin.transpiled,
    transpiler: `${pin.transpiler.name}@${pin.transpiler.version}`,
    imports: pin.imports,
  };
}

// ── every runtime open ───────────────────────────────────────────────────────────────────────

function mismatch(tool: string, message: string): RuntimeError {
  return new RuntimeError(
    'COMPONENT_PIN_MISMATCH',
    `tool ${tool}: ${message}; the tool is refused`,
    PIN_HINT,
  );
}

/** The first top-level members of `found` that differ from `expected` (JCS comparison). */
function differences(found: Record<string, unknown>, expected: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(found), ...Object.keys(expected)])].sort();
  const same = (a: unknown, b: unknown): boolean => {
    try {
      return Buffer.from(canonicalBytes(a)).equals(Buffer.from(canonicalBytes(b)));
    } catch {
      return false;
    }
  };
  return keys.filter((k) => !same(found[k], expected[k]));
}

/**
 * The components of one governed runtime. `register` re-transpiles a component with the pinned
 * jco, checks the output against the pin and the stored artifacts, then registers it with the
 * sandbox, whose `componentTranspiler` (`transpiler`) serves only output verified that way.
 */
export class PinnedComponents {
  readonly #verified = new Map<string, TranspiledComponent>();

  /** Pass as the sandbox's `componentTranspiler`. */
  readonly transpiler = async (component: Uint8Array): Promise<TranspiledComponent> => {
    const out = this.#verified.get(digest(component));
    if (out === undefined) throw new Error('the component was not verified against its pin');
    return out;
  };

  async register(sandbox: Sandbox, data: DataDir, bytes: Uint8Array, tool: string): Promise<ModuleHandle> {
    const c = digest(bytes);
    const path = pinPath(data, c);
    if (!existsSync(path)) throw mismatch(tool, `component ${c} has no pin (modules/${hexOf(c)}.jco.json)`);
    const found = parseJson(new Uint8Array(readFileSync(path)), path);
    if (typeof found !== 'object' || found === null || Array.isArray(found))
      throw mismatch(tool, `the pin of component ${c} is not an object`);
    const pin = found as Record<string, unknown>;
    const output = await transpileComponent(bytes);
    const expected = pinOf(bytes, output);
    const changed = differences(pin, expected as unknown as Record<string, unknown>);
    if (changed.length > 0) {
      const pinnedWith = pin.transpiler as { version?: unknown } | undefined;
      const detail =
        pinnedWith?.version !== JCO_TRANSPILER.version
          ? `it was pinned with ${JCO_TRANSPILER.name}@${String(pinnedWith?.version)}, this helm runs ${JCO_TRANSPILER.version}`
          : `the pin differs from jco's output in ${changed.join(', ')} (transpiled: pinned ${String(pin.transpiled)}, jco now ${expected.transpiled})`;
      throw mismatch(tool, `component ${c}: ${detail}`);
    }
    // The stored artifacts must be exactly what runs.
    const stored: [string, Uint8Array][] = [
      [gluePath(data, expected.glue), output.glue],
      ...Object.entries(expected.core_modules).map(([name, d]): [string, Uint8Array] => [
        data.modulePath(hexOf(d)),
        output.coreModules[name] as Uint8Array,
      ]),
    ];
    for (const [file, bytesNow] of stored) {
      if (!existsSync(file) || !Buffer.from(readFileSync(file)).equals(Buffer.from(bytesNow)))
        throw mismatch(tool, `the stored artifact ${file} is missing or differs from jco's output`);
    }
    checkImports(output.imports);
    this.#verified.set(c, asTranspiled(output));
    try {
      return await sandbox.registerComponent(bytes);
    } catch (error) {
      throw sandboxRefusal(error, `tool ${tool}`);
    } finally {
      this.#verified.delete(c);
    }
  }
}
