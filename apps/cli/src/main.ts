// The `helmts` command line (alias `helm`): every command supports --json and exits 0 (ok), 1 (a
// check failed or the call was denied) or 2 (usage or internal error). Usage errors — a missing
// command, an unknown option or command, a missing or excess argument — are exit 2 too, reported
// like every other error (`error:` and `hint:` on stderr, or one JSON document on stdout under
// --json). User errors print a hint, never a stack.
import { readFileSync } from 'node:fs';
import { inspectDatabase, parseJson } from '@helm/runtime';
import { Command, CommanderError } from 'commander';
import { databaseUrlOf, registerDbCommands } from './commands/db.js';
import { runDemo } from './commands/demo.js';
import { registerCommands } from './commands/index.js';
import { type DoctorCheck, runDoctor } from './doctor.js';
import { CliError, type CommandResult, errorResult, ok } from './errors.js';
import { applyHelp, CLI_NAME } from './help.js';
import { emit } from './output.js';

const { version } = parseJson(
  new Uint8Array(readFileSync(new URL('../package.json', import.meta.url))),
  'package.json',
) as { version: string };

export async function doctorCommand(databaseUrl?: string, schema?: string): Promise<CommandResult> {
  const base = runDoctor();
  const checks: DoctorCheck[] = [...base.checks];
  let database: Record<string, unknown> | undefined;
  if (databaseUrl !== undefined) {
    // The shared database: reachable, and at the schema version this build needs.
    const status = await inspectDatabase({ url: databaseUrl, ...(schema === undefined ? {} : { schema }) });
    checks.push({ name: 'database', ok: status.ok, detail: status.detail });
    database = { ...status };
  }
  const report = { ...base, ok: checks.every((c) => c.ok), checks, ...(database ? { database } : {}) };
  const human = [
    `${CLI_NAME} doctor — Node ${report.node}`,
    ...report.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`),
    ...Object.entries(report.packages).map(([name, v]) => `       ${name}@${v}`),
    report.ok ? 'All checks passed.' : 'Some checks failed; see above.',
  ];
  return { exitCode: report.ok ? 0 : 1, json: { ...report }, human };
}

/** Where commander's own output goes; under --json its help and error text are dropped. */
interface OutputMode {
  json: boolean;
}

/**
 * The program as seen by command registration when only `name` is wanted: `.command('<name> …')`
 * registers as usual, any other `.command(…)` returns an inert stand-in that accepts (and drops)
 * the whole chain of options, descriptions and actions hung on it. Defining a command costs
 * commander real work (options, help text, examples), paid on every start; `helmts run` needs one.
 */
function onlyCommand(program: Command, name: string): Command {
  const inert: unknown = new Proxy(() => {}, {
    get: (_target, prop) => (prop === 'then' ? undefined : inert),
    apply: () => inert,
  });
  return new Proxy(program, {
    get(target, prop) {
      if (prop === 'command')
        return (nameAndArgs: string, ...rest: unknown[]) =>
          nameAndArgs.split(' ')[0] === name
            ? (target.command as (...a: unknown[]) => Command)(nameAndArgs, ...rest)
            : inert;
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * The program; with `only`, just that top-level command is defined (see onlyCommand; '' defines
 * none, enough for `--version`). main() falls back to the whole program when the arguments name no
 * command it defined, so help, suggestions and usage errors see every command.
 */
export function buildProgram(
  done: (code: number) => void,
  extra: (program: Command, wrap: Wrap) => void = () => {},
  mode: OutputMode = { json: false },
  only?: string,
): Command {
  const program = new Command()
    .name(CLI_NAME)
    .description('HELM-TS: gate, execute and prove AI-agent tool calls.')
    .version(version, '-v, --version')
    .option('-d, --data-dir <dir>', 'HELM data directory (default: $HELM_HOME or ./.helm)')
    .option('--database-url <url>', 'shared PostgreSQL database (default: $HELM_DATABASE_URL)')
    // Set before any subcommand exists: subcommands inherit it. main() reports errors itself.
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => {
        if (!mode.json) process.stderr.write(s);
      },
      outputError: () => {},
    })
    .exitOverride();
  const wrap = wrapFactory(done);
  const define = only === undefined ? program : onlyCommand(program, only);
  define
    .command('doctor')
    .description('check Node, package versions, the TCB boundary and the shared database (if given)')
    .option('--schema <name>', 'schema of the shared database (default: public)')
    .option('--json', 'machine-readable output')
    .action(
      wrap((opts: { schema?: string }, cmd: Command) => doctorCommand(databaseUrlOf(cmd), opts.schema)),
    );
  define
    .command('demo')
    .description('run the end-to-end governed session, export, verify, tamper and replay')
    .option('--json', 'machine-readable output')
    .option('--keep <dir>', 'create the demo data directory here (must not exist) instead of a temp dir')
    .action(
      wrap(async (opts: { json?: boolean; keep?: string }) =>
        runDemo({
          ...(opts.keep ? { dataDir: opts.keep } : {}),
          ...(opts.json || !process.stderr.isTTY
            ? {}
            : { onStep: (s) => process.stderr.write(`  … ${s.step}\n`) }),
        }),
      ),
    );
  registerCommands(define, wrap);
  registerDbCommands(define, wrap);
  extra(program, wrap);
  applyHelp(program);
  return program;
}

export type Wrap = ReturnType<typeof wrapFactory>;

function wrapFactory(done: (code: number) => void) {
  return <A extends unknown[]>(handler: (...args: A) => Promise<CommandResult> | CommandResult) =>
    async (...args: A): Promise<void> => {
      const command = args[args.length - 1] as Command;
      const opts = (command?.opts?.() ?? {}) as { json?: boolean };
      let result: CommandResult;
      try {
        result = await handler(...args);
      } catch (error) {
        result = errorResult(error);
      }
      emit(
        result,
        { json: opts.json ?? false },
        result.exitCode === 2 && !opts.json ? process.stderr : process.stdout,
      );
      done(result.exitCode);
    };
}

/** The arguments after `node <script>`, up to a `--` (everything after it is an operand). */
function userArgs(argv: readonly string[]): string[] {
  const args = argv.slice(2);
  const end = args.indexOf('--');
  return end === -1 ? args : args.slice(0, end);
}

/**
 * The deepest command the arguments name (`helmts keys list --x` → keys list), found the way
 * commander dispatches: operands naming a subcommand, skipping options and the global
 * `--data-dir` value. Used to point a usage error at the right `--help`.
 */
export function commandPath(program: Command, argv: readonly string[]): Command[] {
  const path = [program];
  const args = userArgs(argv);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '-d' || arg === '--data-dir' || arg === '--database-url') {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    const current = path[path.length - 1] as Command;
    const next = current.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!next) break;
    path.push(next);
  }
  return path;
}

const fullName = (path: readonly Command[]): string => path.map((c) => c.name()).join(' ');

/** A commander parse error as a USAGE error: its message, and where the valid usage is shown. */
export function usageError(error: CommanderError, program: Command, argv: readonly string[]): CliError {
  const path = commandPath(program, argv);
  const command = path[path.length - 1] as Command;
  const name = fullName(path);
  const help = `\`${name} --help\` shows the options and examples`;
  const isGroup = command.commands.length > 0;
  const onlyJson = error.code === 'commander.unknownOption' && /'--json'/.test(error.message);
  if (error.code === 'commander.help' || (isGroup && onlyJson)) {
    // A group called without its subcommand (`helmts`, `helmts keys`).
    const subcommands = command.commands.map((c) => c.name()).filter((n) => n !== 'help');
    return new CliError(
      'USAGE',
      `${name} needs a command: ${subcommands.join(', ')}`,
      `\`${name} <command> --help\` shows what each one does, with examples`,
    );
  }
  if (error.code === 'commander.unknownCommand')
    return new CliError(
      'USAGE',
      error.message.replace(/^error: /, ''),
      `\`${name} --help\` lists the commands`,
    );
  return new CliError('USAGE', error.message.replace(/^error: /, ''), help);
}

/** Run the CLI; resolves to the exit code. */
/** The top-level command the arguments name (their first operand past the global options), or ''
 * for a bare `--version` / `-v`, or undefined when the whole program is needed. */
export function wantedCommand(argv: readonly string[]): string | undefined {
  const args = userArgs(argv);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '-d' || arg === '--data-dir' || arg === '--database-url') {
      i++;
      continue;
    }
    if (!arg.startsWith('-')) return arg;
  }
  return args.length === 1 && (args[0] === '--version' || args[0] === '-v') ? '' : undefined;
}

export async function main(argv: readonly string[]): Promise<number> {
  const json = userArgs(argv).includes('--json');
  let code = 0;
  const done = (c: number) => {
    code = c;
  };
  const wanted = wantedCommand(argv);
  let program = buildProgram(done, undefined, { json }, wanted);
  if (wanted && !program.commands.some((c) => c.name() === wanted))
    program = buildProgram(done, undefined, { json });
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      emit(errorResult(usageError(error, program, argv)), { json }, json ? process.stdout : process.stderr);
      return 2;
    }
    emit(errorResult(error), { json }, json ? process.stdout : process.stderr);
    return 2;
  }
  return code;
}

export { ok };
