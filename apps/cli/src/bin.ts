#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { runDoctor } from './doctor.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command()
  .name('helm')
  .description('HELM-TS: gate, execute and prove AI-agent tool calls.')
  .version(version, '-v, --version')
  .showHelpAfterError();

function doctor(options: { json?: boolean }): void {
  const report = runDoctor();
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(`helm doctor — Node ${report.node}\n`);
    for (const check of report.checks)
      process.stdout.write(`  ${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}\n`);
    for (const [name, v] of Object.entries(report.packages)) process.stdout.write(`       ${name}@${v}\n`);
    process.stdout.write(report.ok ? 'All checks passed.\n' : 'Some checks failed; see above.\n');
  }
  process.exitCode = report.ok ? 0 : 1;
}

program
  .command('doctor')
  .description('check the Node version, package versions and the TCB boundary')
  .option('--json', 'machine-readable output')
  .action(doctor);
program
  .command('demo')
  .description('run the end-to-end demo (currently: doctor)')
  .option('--json', 'machine-readable output')
  .action(doctor);

await program.parseAsync(process.argv);
