// `helmts tool register|list`: thin over @helm/runtime's registration (packages/runtime/src/
// internal/tools.ts). A registration adds a tool and never changes one.
import {
  componentSummary,
  type DataDir,
  GovernedRuntime,
  listTools,
  RuntimeError,
  readGovernanceApplications,
  registerTool,
  repinTool,
} from '@helm/runtime';
import type { Command } from 'commander';
import { type CommandResult, failed, ok } from '../errors.js';
import { CLI_NAME } from '../help.js';
import { withDataDir } from './data.js';

type Wrap = <A extends unknown[]>(
  handler: (...args: A) => Promise<CommandResult> | CommandResult,
) => (...args: A) => Promise<void>;

export async function toolRegister(
  data: DataDir,
  path: string,
  wasm: string | undefined,
  component?: string,
  plugin?: string,
): Promise<CommandResult> {
  const r = await registerTool(data, path, {
    ...(wasm === undefined ? {} : { wasm }),
    ...(component === undefined ? {} : { component }),
    ...(plugin === undefined ? {} : { plugin }),
  });
  const driver = r.descriptor.driver as { kind?: string; ref?: string } | undefined;
  return ok(
    {
      name: r.name,
      descriptor_digest: r.descriptor_digest,
      driver: r.descriptor.driver,
      unchanged: r.unchanged,
      ...(r.compiled_from_wat ? { compiled_from_wat: true } : {}),
      ...(r.component ? { component: componentSummary(r.component) } : {}),
      ...(r.plugin ? { plugin: { path: r.plugin.path, digest: r.plugin.digest } } : {}),
    },
    [
      r.unchanged
        ? `${r.name} is already registered with exactly this descriptor (${r.descriptor_digest}); nothing changed.`
        : `Registered ${r.name} (${String(driver?.kind)} driver); descriptor ${r.descriptor_digest}`,
      ...(r.compiled_from_wat
        ? [`  module compiled from WebAssembly text with wabt: ${String(driver?.ref)}`]
        : []),
      ...(r.component
        ? [
            `  component ${r.component.component} transpiled by ${r.component.transpiler.name}@${r.component.transpiler.version}, pinned ${r.component.transpiled}`,
          ]
        : []),
      ...(r.plugin
        ? [
            `  plugin ${r.plugin.path} pinned at ${r.plugin.digest}: it runs in the ${CLI_NAME} process, unsandboxed; a changed file is refused until you repin it`,
          ]
        : []),
      `Next: ${CLI_NAME} run --tool ${r.name} --principal <p> --args '<json>'`,
    ],
  );
}

/**
 * `helmts tool repin`: the signed, receipted change of a registered tool. The change is checked
 * and appended as a `tool.repin` governance event without the runtime; then, if no other process
 * holds the data directory, a runtime is opened to apply it now (and closed); otherwise the running
 * runtime applies it before its next decision.
 */
export async function toolRepin(
  data: DataDir,
  path: string,
  wasm: string | undefined,
  component?: string,
  plugin?: string,
): Promise<CommandResult> {
  const { staged, event } = await repinTool(data, path, {
    ...(wasm === undefined ? {} : { wasm }),
    ...(component === undefined ? {} : { component }),
    ...(plugin === undefined ? {} : { plugin }),
  });
  const base = {
    name: staged.name,
    previous_digest: staged.previous_digest,
    descriptor_digest: staged.descriptor_digest,
    driver: staged.descriptor.driver,
  };
  if (!event)
    return ok({ ...base, unchanged: true }, [
      `${staged.name} is pinned to exactly this descriptor already (${staged.descriptor_digest}); nothing to repin.`,
    ]);
  let state: 'applied' | 'rejected' | 'pending' = 'pending';
  let record: { code: string | null; detail: string | null; receipt_id: string | null } | undefined;
  try {
    const rt = await GovernedRuntime.open(data, { clock: { now: () => Date.now() } });
    await rt.close();
    const applied = readGovernanceApplications(data).get(event.seq);
    if (applied) {
      state = applied.outcome === 'applied' ? 'applied' : 'rejected';
      record = applied;
    }
  } catch (error) {
    if (!(error instanceof RuntimeError) || error.code !== 'DATA_DIR_LOCKED') throw error;
  }
  const json = {
    ...base,
    unchanged: false,
    event: { seq: event.seq, digest: event.digest, signer: event.signer },
    state,
    ...(record?.receipt_id ? { receipt_id: record.receipt_id } : {}),
    ...(state === 'rejected' ? { error: { code: record?.code, message: record?.detail } } : {}),
  };
  const head = `Repin of ${staged.name}: ${staged.previous_digest} → ${staged.descriptor_digest}, signed by the policy key as governance event ${event.seq} (${event.digest}).`;
  if (state === 'rejected')
    return failed(json, [
      head,
      `The runtime rejected it: ${record?.code}: ${record?.detail}. The tool is unchanged.`,
    ]);
  return ok(json, [
    head,
    state === 'applied'
      ? `Applied: ${staged.name} is pinned to ${staged.descriptor_digest}; receipt ${record?.receipt_id} (helm.admin.tool.repin) records who changed it.`
      : 'Another process holds the data directory (a server or gateway): it applies the change before its next decision and receipts it (helm.admin.tool.repin).',
  ]);
}

export function toolList(data: DataDir): CommandResult {
  const tools = listTools(data);
  return ok({ tools }, [
    tools.length === 0
      ? `No tools registered in ${data.dir}; add one with \`${CLI_NAME} tool register <descriptor.json>\`.`
      : `Tools registered in ${data.dir}:`,
    ...tools.map(
      (t) =>
        `  ${t.name.padEnd(20)} ${t.driver.kind.padEnd(8)} ${t.plugin_path ?? t.driver.ref}  descriptor ${t.descriptor_digest}`,
    ),
  ]);
}

export function registerToolCommands(program: Command, wrap: Wrap): void {
  const json = ['--json', 'machine-readable output'] as const;
  const tool = program.command('tool').description('register and list tools');
  tool
    .command('register <descriptor>')
    .description('add a tool: validate and pin its descriptor (never replaces a registered one)')
    .option(
      '--wasm <module>',
      'sandbox tool: a core WASM module, binary or WebAssembly text (compiled with wabt); driver.ref becomes its digest',
    )
    .option(
      '--component <file>',
      'sandbox tool: a WASI preview2 command component, transpiled with jco, its output pinned by digest',
    )
    .option(
      '--driver <plugin.mjs>',
      'plugin tool: an ES module whose default export runs the call (in-process, unsandboxed), pinned by digest',
    )
    .option(...json)
    .action(
      wrap((file: string, o: { wasm?: string; component?: string; driver?: string }, cmd: Command) =>
        withDataDir(cmd, (d) => toolRegister(d, file, o.wasm, o.component, o.driver)),
      ),
    );
  tool
    .command('repin <descriptor>')
    .description('change a registered tool: a signed governance event (policy key), receipted when applied')
    .option('--wasm <module>', 'the new sandbox module: binary, or WebAssembly text (compiled with wabt)')
    .option('--component <file>', 'the new WASI preview2 command component')
    .option('--driver <plugin.mjs>', 'the new (reviewed) plugin module')
    .option(...json)
    .action(
      wrap((file: string, o: { wasm?: string; component?: string; driver?: string }, cmd: Command) =>
        withDataDir(cmd, (d) => toolRepin(d, file, o.wasm, o.component, o.driver)),
      ),
    );
  tool
    .command('list')
    .description('the registered tools: driver, module or plugin, descriptor digest')
    .option(...json)
    .action(wrap((_o: unknown, cmd: Command) => withDataDir(cmd, (d) => toolList(d))));
}
