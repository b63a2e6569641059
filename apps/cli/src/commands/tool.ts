// `helmts tool register|list`: thin over @helm/runtime's registration (packages/runtime/src/
// internal/tools.ts). A registration adds a tool and never changes one.
import { componentSummary, type DataDir, listTools, registerTool } from '@helm/runtime';
import type { Command } from 'commander';
import { type CommandResult, ok } from '../errors.js';
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
    .command('list')
    .description('the registered tools: driver, module or plugin, descriptor digest')
    .option(...json)
    .action(wrap((_o: unknown, cmd: Command) => withDataDir(cmd, (d) => toolList(d))));
}
