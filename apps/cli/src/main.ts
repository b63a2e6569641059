// The `helm` command line: every command supports --json and exits 0 (ok), 1 (a check failed or
// the call was denied) or 2 (usage or internal error). User errors print a hint, never a stack.
import { readFileSync } from 'node:fs';
import { parseJson } from '@helm/runtime';
import { Command, CommanderError } from 'commander';
import { runDemo } from './commands/demo.js';
import { registerCommands } from './commands/index.js';
import { runDoctor } from './doctor.js';
import { type CommandResult, errorResult, ok } from './errors.js';
import { emit } from './output.js';

const { version } = parseJson(
  new Uint8Array(readFileSync(new URL('../package.json', import.meta.url))),
  'package.json',
) as { version: string };

export function doctorCommand(): CommandResult {
  const report = runDoctor();
  const human = [
    `helm doctor — Node ${report.node}`,
    ...report.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`),
    ...Object.entries(report.packages).map(([name, v]) => `       ${name}@${v}`),
    report.ok ? 'All checks passed.' : 'Some checks failed; see above.',
  ];
  return { exitCode: report.ok ? 0 : 1, json: { ...report }, human };
}

export function buildProgram(
  done: (code: number) => void,
  extra: (program: Command, wrap: typeof wrapFactory) => void = () => {},
): Command {
  const program = new Command()
    .name('helm')
    .description('HELM-TS: gate, execute and prove AI-agent tool calls.')
    .version(version, '-v, --version')
    .option('-d, --data-dir <dir>', 'HELM data directory (default: $HELM_HOME or ./.helm)')
    .showHelpAfterError()
    .exitOverride();
  const wrap = wrapFactory(program, done);
  program
    .command('doctor')
    .description('check Node, package versions and the TCB boundary')
    .option('--json', 'machine-readable output')
    .action(wrap(() => doctorCommand()));
  program
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
  registerCommands(program, wrap);
  return program;
}

export type Wrap = ReturnType<typeof wrapFactory>;

function wrapFactory(program: Command, done: (code: number) => void) {
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
      void program;
    };
}

/** Run the CLI; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      )
        return 0;
      return 2;
    }
    emit(errorResult(error), {}, process.stderr);
    return 2;
  }
  return code;
}

export { ok };
