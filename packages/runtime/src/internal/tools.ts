// Tool registration (`helmts tool register`, docs/cli.md §Tools). A registration adds a tool; it
// never changes one: a name already registered with another descriptor is refused
// (TOOL_ALREADY_REGISTERED) — a registered descriptor is pinned, receipts bind its digest, and
// replacing it is the signed, receipted `tool repin` governance event.
//
// Order: everything that can be checked without the data directory is checked first (descriptor
// JSON and type, the name rule, the module: WASM bytes, WAT compiled with wabt, a component
// transpiled by jco, a plugin loaded). Then the governed runtime is opened (its lock held), the
// files are written, and the runtime loads the new tool from disk exactly as every later open
// will — the executor validates and pins the descriptor, the sandbox admits the module. If that
// fails, every file and directory the registration created is removed again before the lock is
// released: a rejected descriptor or module is not left on disk.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TOOL_DESCRIPTOR_TYPE, type ToolDescriptor } from '@helm/contracts';
import { canonicalBytes, digest } from '@helm/crypto';
import { httpDriver } from '@helm/driver-http';
import { type Driver, ToolRegistry } from '@helm/executor';
import { createSandbox, SandboxError } from '@helm/runtime-sandbox';
import type { Json } from '@helm/store';
import type { TrustRegistry } from '@helm/trust';
import { RuntimeError } from '../errors.js';
import { HOST_DRIVER_KINDS } from '../host-drivers.js';
import {
  type ComponentPin,
  isComponent,
  type StagedComponent,
  stageComponent,
  writeComponent,
} from './component.js';
import type { DataDir } from './datadir.js';
import { appendGovernanceEvent, type GovernanceEventRecord } from './governance.js';
import { parseJson, readJsonFile } from './json.js';
import {
  PLUGIN_DRIVER_KIND,
  pluginPath,
  type StagedPlugin,
  stagePlugin,
  writePluginRecord,
} from './plugin.js';
import { BUILTIN_FUNCTIONS, GovernedRuntime } from './runtime.js';
import type { ToolRepinBody } from './tool-repin.js';

/** Where a tool's body comes from, besides its descriptor (at most one). */
export interface ToolSources {
  /** A core WebAssembly module: binary, or WebAssembly text (compiled with wabt). */
  readonly wasm?: string;
  /** A WASI preview2 command component (transpiled with jco and pinned). */
  readonly component?: string;
  /** A plugin module (an ES module file whose default export is the tool body). */
  readonly plugin?: string;
}

export interface ToolRegistration {
  readonly name: string;
  readonly descriptor: Record<string, unknown>;
  readonly descriptor_digest: string;
  /** True when exactly this descriptor was registered already (nothing was written). */
  readonly unchanged: boolean;
  /** The module was WebAssembly text, compiled with wabt. */
  readonly compiled_from_wat: boolean;
  readonly component?: ComponentPin;
  readonly plugin?: StagedPlugin;
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

export const WAT_HINT =
  'give a binary .wasm module, or WebAssembly text (.wat) that `wat2wasm` accepts; the error names the line and column';

/**
 * Compile WebAssembly text with the optional `wabt` package (a dependency of @helm/cli; install it
 * next to @helm/runtime elsewhere). Refused with a hint when wabt is missing or the text is invalid.
 */
export async function compileWat(text: Uint8Array, file: string): Promise<Uint8Array> {
  let init: () => Promise<{
    parseWat(
      name: string,
      source: Uint8Array,
    ): {
      resolveNames(): void;
      validate(): void;
      toBinary(o: object): { buffer: Uint8Array };
      destroy(): void;
    };
  }>;
  try {
    init = ((await import('wabt')) as { default: typeof init }).default;
  } catch {
    throw new RuntimeError(
      'WAT_COMPILER_MISSING',
      `${file} is WebAssembly text, and the optional wabt package that compiles it is not installed`,
      'install wabt next to @helm/runtime (`npm install wabt`), or compile it yourself: wat2wasm file.wat -o file.wasm',
    );
  }
  const wabt = await init();
  let module: ReturnType<Awaited<ReturnType<typeof init>>['parseWat']> | undefined;
  try {
    module = wabt.parseWat(file, text);
    module.resolveNames();
    module.validate();
    return new Uint8Array(module.toBinary({}).buffer);
  } catch (error) {
    const detail = String((error as Error)?.message ?? error)
      .trim()
      .split('\n')
      .slice(0, 6)
      .join('\n  ');
    throw new RuntimeError('WAT_INVALID', `${file} is not valid WebAssembly text:\n  ${detail}`, WAT_HINT);
  } finally {
    module?.destroy();
  }
}

/** The bytes of `--wasm <file>`: a binary module as is, WebAssembly text compiled. */
export async function readModuleSource(file: string): Promise<{ bytes: Uint8Array; fromWat: boolean }> {
  if (!existsSync(file)) throw new RuntimeError('FILE_NOT_FOUND', `no such WASM module: ${file}`);
  const bytes = new Uint8Array(readFileSync(file));
  if (WASM_MAGIC.every((b, i) => bytes[i] === b)) return { bytes, fromWat: false };
  // Anything else is taken as text: wabt either compiles it or says where it stops.
  return { bytes: await compileWat(bytes, file), fromWat: true };
}

const canonicalDigest = (value: unknown): string => digest(canonicalBytes(value));

const isLink = (path: string): boolean => {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
};

/** Entries of `dir` (none when it does not exist). */
const entries = (dir: string): Set<string> => new Set(existsSync(dir) ? readdirSync(dir) : []);

/** A descriptor and its tool body, read and checked, with nothing written yet. */
interface Staged {
  readonly name: string;
  readonly toolPath: string;
  /** The descriptor as it will be pinned (driver.kind/ref set from the sources). */
  readonly descriptor: Record<string, unknown> & { driver?: { kind?: string; ref?: string } };
  readonly descriptorDigest: string;
  readonly bytes: Uint8Array | undefined;
  readonly fromWat: boolean;
  readonly component: StagedComponent | undefined;
  readonly plugin: StagedPlugin | undefined;
}

/**
 * Read the descriptor file `path` and its body (`sources`) and check everything that needs no
 * runtime: strict JSON, the descriptor type, the name rule, the module (WAT compiled, a component
 * transpiled and admitted, a plugin loaded), and no planted links where files will go.
 */
async function stage(data: DataDir, path: string, sources: ToolSources, verb: string): Promise<Staged> {
  data.requireInitialized();
  const given = [sources.wasm, sources.component, sources.plugin].filter((s) => s !== undefined);
  if (given.length > 1)
    throw new RuntimeError('USAGE', '--wasm, --component and --driver exclude each other: give one');
  const descriptor = readJsonFile(path) as Staged['descriptor'];
  if (descriptor === null || typeof descriptor !== 'object' || descriptor.type !== TOOL_DESCRIPTOR_TYPE)
    throw new RuntimeError(
      'INVALID_INPUT',
      `${path} is not a ${TOOL_DESCRIPTOR_TYPE} descriptor`,
      'docs/spec/tool-descriptor.md lists its members',
    );
  // Every name that becomes a path is checked before anything is read or written (I-DATADIR-1).
  const toolPath = data.toolPath(descriptor.name);
  const name = descriptor.name as string;

  let bytes: Uint8Array | undefined;
  let fromWat = false;
  let component: StagedComponent | undefined;
  let plugin: StagedPlugin | undefined;
  if (sources.component !== undefined) {
    component = await stageComponent(sources.component);
    bytes = component.bytes;
  } else if (sources.wasm !== undefined) {
    ({ bytes, fromWat } = await readModuleSource(sources.wasm));
  } else if (sources.plugin !== undefined) {
    plugin = await stagePlugin(sources.plugin);
    descriptor.driver = { ...(descriptor.driver ?? {}), kind: PLUGIN_DRIVER_KIND, ref: plugin.digest };
  } else if (descriptor.driver?.kind === 'sandbox') {
    const ref = descriptor.driver.ref;
    data.modulePath(typeof ref === 'string' && ref.startsWith('sha256:') ? ref.slice('sha256:'.length) : ref);
  } else if (descriptor.driver?.kind === PLUGIN_DRIVER_KIND) {
    throw new RuntimeError(
      'USAGE',
      `${path} is a plugin tool: give its module with --driver <file.mjs>`,
      `helmts tool ${verb} ${path} --driver ./my-tool.mjs`,
    );
  }
  if (bytes) descriptor.driver = { ...(descriptor.driver ?? {}), kind: 'sandbox', ref: digest(bytes) };

  // Nothing is read or written through a link a data-directory writer planted (I-DATADIR-1).
  for (const p of [data.path('tools'), data.path('modules'), data.path('plugins'), toolPath]) {
    if (isLink(p))
      throw new RuntimeError(
        'DATA_DIR_UNSAFE',
        `${p} is a symbolic link; nothing was written`,
        'the entries of the data directory (keys/, tools/, modules/, plugins/ and the files in them) must not be links: remove it',
      );
  }
  return {
    name,
    toolPath,
    descriptor,
    descriptorDigest: canonicalDigest(descriptor),
    bytes,
    fromWat,
    component,
    plugin,
  };
}

/** Write what a staged tool's sources derive, under the digests its descriptor pins. */
function writeArtifacts(data: DataDir, staged: Staged, registry: TrustRegistry): void {
  if (staged.component) writeComponent(data, staged.component);
  if (staged.bytes) data.writeModule(digest(staged.bytes).slice('sha256:'.length), staged.bytes);
  if (staged.plugin)
    writePluginRecord(data, staged.plugin, registry, data.signer('policy', 'policy', registry));
}

function registrationOf(staged: Staged, unchanged: boolean): ToolRegistration {
  return {
    name: staged.name,
    descriptor: staged.descriptor,
    descriptor_digest: staged.descriptorDigest,
    unchanged,
    compiled_from_wat: staged.fromWat,
    ...(staged.component ? { component: staged.component.pin } : {}),
    ...(staged.plugin ? { plugin: staged.plugin } : {}),
  };
}

/**
 * Register the tool of the descriptor file `path` (docs/cli.md §Tools). Opens the governed runtime
 * (DATA_DIR_LOCKED while another process has it open).
 */
export async function registerTool(
  data: DataDir,
  path: string,
  sources: ToolSources = {},
): Promise<ToolRegistration> {
  const staged = await stage(data, path, sources, 'register');
  const { name, toolPath, descriptor, descriptorDigest } = staged;

  // A registered tool is pinned: the same descriptor again is a no-op, another one is refused.
  if (existsSync(toolPath)) {
    const pinned = canonicalDigest(parseJson(new Uint8Array(readFileSync(toolPath)), toolPath));
    if (pinned === descriptorDigest) {
      // The same tool again: the descriptor stays as it is, and what its sources derive — the
      // module bytes, a component's jco pin and artifacts, a plugin's signed record, all named by
      // the digests the descriptor pins — is written again. That is how a tampered or stale
      // component pin is repaired (COMPONENT_PIN_MISMATCH's hint) without changing the tool.
      writeArtifacts(data, staged, data.registry());
      return registrationOf(staged, true);
    }
    throw new RuntimeError(
      'TOOL_ALREADY_REGISTERED',
      `tool ${name} is already registered with descriptor ${pinned}; this one is ${descriptorDigest}. Nothing was changed`,
      `to replace it, \`helmts tool repin ${path}\` (with the same --wasm/--component/--driver) — a signed, receipted change; or give this tool another name`,
    );
  }

  const rt = await GovernedRuntime.open(data, { clock: { now: () => Date.now() } });
  // What this registration creates, so a rejection can remove exactly that.
  const dirs = ['tools', 'modules', 'plugins'].map((d) => data.path(d));
  const before = new Map(dirs.map((d) => [d, existsSync(d) ? entries(d) : undefined]));
  try {
    try {
      writeArtifacts(data, staged, rt.registry);
      mkdirSync(data.path('tools'), { recursive: true });
      data.writeTool(descriptor);
      await rt.loadTool(descriptor as unknown as ToolDescriptor);
    } catch (error) {
      for (const [dir, had] of before) {
        if (had === undefined) rmSync(dir, { recursive: true, force: true });
        else for (const entry of entries(dir)) if (!had.has(entry)) rmSync(join(dir, entry), { force: true });
      }
      throw refusal(error);
    }
  } finally {
    await rt.close();
  }
  return registrationOf(staged, false);
}

/** A refusal of the executor or the sandbox as the RuntimeError a caller sees. */
function refusal(error: unknown): RuntimeError {
  if (error instanceof RuntimeError) return error;
  if (error instanceof SandboxError)
    return new RuntimeError(
      'INVALID_INPUT',
      `the sandbox refused the module (${error.code}: ${error.message}); nothing was written`,
      'a sandbox tool is a WASI preview1 command module: it reads its JSON arguments on stdin and prints one JSON document on stdout (docs/spec/sandbox.md)',
    );
  return new RuntimeError(
    'INVALID_INPUT',
    `tool descriptor rejected: ${(error as Error)?.message ?? String(error)}`,
    'docs/spec/tool-descriptor.md lists the members and their rules; nothing was written',
  );
}

/** A change of a registered tool, checked and its artifacts written, for a `tool.repin` event. */
export interface StagedRepin extends ToolRegistration {
  /** The descriptor the tool is pinned to now (what the repin replaces), and its digest. */
  readonly previous_descriptor: Record<string, unknown>;
  readonly previous_digest: string;
}

/**
 * Prepare `tool repin`: the tool must be registered (TOOL_NOT_REGISTERED), and the new descriptor
 * and body are checked as a registration would check them — but without opening the runtime, so a
 * repin works while `helmts serve` holds the data directory: the executor's descriptor rules in a
 * scratch registry, the module in a scratch sandbox (components and plugins are checked by staging).
 * Then what the body derives is written under its digests (harmless until an event names them).
 * Nothing about the registered tool changes here; the governance event does that.
 */
export async function prepareRepin(
  data: DataDir,
  path: string,
  sources: ToolSources = {},
): Promise<StagedRepin> {
  const staged = await stage(data, path, sources, 'repin');
  if (!existsSync(staged.toolPath))
    throw new RuntimeError(
      'TOOL_NOT_REGISTERED',
      `no tool ${staged.name} is registered in ${data.dir}; nothing to repin`,
      `register it: \`helmts tool register ${path}\``,
    );
  const previousDescriptor = parseJson(
    new Uint8Array(readFileSync(staged.toolPath)),
    staged.toolPath,
  ) as Record<string, unknown>;
  const previous = {
    previous_descriptor: previousDescriptor,
    previous_digest: canonicalDigest(previousDescriptor),
  };
  if (previous.previous_digest === staged.descriptorDigest)
    return { ...registrationOf(staged, true), ...previous };
  await checkWithoutRuntime(data, staged);
  writeArtifacts(data, staged, data.registry());
  return { ...registrationOf(staged, false), ...previous };
}

async function checkWithoutRuntime(data: DataDir, staged: Staged): Promise<void> {
  const descriptor = staged.descriptor as unknown as ToolDescriptor;
  const kind = staged.descriptor.driver?.kind;
  const ref = String(staged.descriptor.driver?.ref);
  const stub = (k: string): Driver => ({ kind: k, invoke: () => undefined });
  let driver: Driver;
  if (kind === 'function') {
    if (!Object.hasOwn(BUILTIN_FUNCTIONS, ref))
      throw new RuntimeError('INVALID_INPUT', `tool ${staged.name}: unknown built-in function ${ref}`);
    driver = stub('function');
  } else if (kind === 'http') {
    driver = httpDriver();
  } else if (kind === 'sandbox') {
    const bytes = staged.bytes ?? data.module(ref.slice('sha256:'.length));
    if (!bytes)
      throw new RuntimeError(
        'FILE_NOT_FOUND',
        `tool ${staged.name}: WASM module ${ref} is missing`,
        'give it with --wasm',
      );
    // A component was admitted by its staging; a core module is admitted by a scratch sandbox.
    if (!staged.component && !isComponent(bytes)) {
      const scratch = createSandbox();
      try {
        await scratch.register(bytes);
      } catch (error) {
        throw refusal(error);
      } finally {
        await scratch.close();
      }
    }
    driver = stub('sandbox');
  } else if (kind === PLUGIN_DRIVER_KIND) {
    driver = stub(PLUGIN_DRIVER_KIND);
  } else if (typeof kind === 'string' && HOST_DRIVER_KINDS.includes(kind)) {
    // A host's kind (the MCP gateway's `mcp`): its host checks the body when it loads the repin.
    driver = stub(kind);
  } else {
    throw new RuntimeError(
      'INVALID_INPUT',
      `tool ${staged.name}: driver kind ${String(kind)} is not supported`,
      'driver.kind is one of: function (built-ins such as builtin.echo), sandbox, http, plugin',
    );
  }
  try {
    new ToolRegistry().register(descriptor, driver);
  } catch (error) {
    throw refusal(error);
  }
}

/** A registered tool as `tool list` shows it. */
export interface ToolListing {
  readonly name: string;
  readonly driver: { readonly kind: string; readonly ref: string };
  readonly descriptor_digest: string;
  /** Plugin tools: the plugin file registered for driver.ref. */
  readonly plugin_path?: string;
}

/** The registered tools: name, driver and descriptor digest of each `tools/<name>.json`. */
export function listTools(data: DataDir): ToolListing[] {
  data.requireInitialized();
  const registry = data.registry();
  return data.toolDescriptors().map((d) => {
    const driver = (d.driver ?? {}) as { kind?: unknown; ref?: unknown };
    const kind = String(driver.kind);
    const ref = String(driver.ref);
    let path: string | undefined;
    if (kind === PLUGIN_DRIVER_KIND) {
      try {
        path = pluginPath(data, ref, registry);
      } catch {
        path = '(no valid registration)';
      }
    }
    return {
      name: String(d.name),
      driver: { kind, ref },
      descriptor_digest: canonicalDigest(d),
      ...(path === undefined ? {} : { plugin_path: path }),
    };
  });
}

/**
 * `helmts tool repin`: prepare the change (prepareRepin) and append the `tool.repin` governance
 * event signed by the data directory's policy key (tool-repin.ts). The runtime applies it at its
 * next open or decision; nothing here needs the runtime.
 */
export async function repinTool(
  data: DataDir,
  path: string,
  sources: ToolSources = {},
  at: number = Date.now(),
): Promise<{ staged: StagedRepin; event: GovernanceEventRecord | undefined }> {
  const staged = await prepareRepin(data, path, sources);
  if (staged.unchanged) return { staged, event: undefined };
  const body: ToolRepinBody = {
    tool: staged.name,
    descriptor: staged.descriptor as Record<string, Json>,
    descriptor_digest: staged.descriptor_digest,
    previous_digest: staged.previous_digest,
    previous_descriptor: staged.previous_descriptor as Record<string, Json>,
  };
  const event = appendGovernanceEvent(data, {
    action: 'tool.repin',
    body: body as unknown as Json,
    signer: data.signer('policy', 'policy'),
    at,
  });
  return { staged, event };
}
