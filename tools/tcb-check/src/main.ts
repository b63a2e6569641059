import { findRoot, runCheck } from './check.js';
import { TcbCheckError } from './errors.js';
import { buildReport, formatReport } from './report.js';
import type { Violation } from './types.js';

export const USAGE = `usage: tcb-check <check|report> [--json] [--root <dir>]

  check    verify the TCB boundary of TCB_POLICY.md; exit 0 clean, 1 violations, 2 usage/internal error
  report   per-package boundary report for release reviews (exit 1 if the check fails)
  --json   machine-readable output on stdout
  --root   workspace root (default: nearest folder above the current one with TCB_POLICY.md)`;

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly cwd: string;
}

function formatViolation(v: Violation): string {
  return `${v.file}:${v.line}:${v.column}  ${v.package}  [${v.rule}]  ${v.message}`;
}

/** Runs the CLI and returns the exit code (0 clean, 1 violations, 2 usage or internal error). */
export function main(argv: readonly string[], io: CliIo): number {
  let command: string | undefined;
  let json = false;
  let root: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--json') json = true;
    else if (arg === '--root') {
      root = argv[++i];
      if (root === undefined) {
        io.err(`tcb-check: --root needs a directory\n${USAGE}\n`);
        return 2;
      }
    } else if (arg === '--help' || arg === '-h') {
      io.out(`${USAGE}\n`);
      return 0;
    } else if (command === undefined && (arg === 'check' || arg === 'report')) command = arg;
    else {
      io.err(`tcb-check: unexpected argument "${arg}"\n${USAGE}\n`);
      return 2;
    }
  }
  if (command === undefined) {
    io.err(`tcb-check: missing command\n${USAGE}\n`);
    return 2;
  }
  try {
    const result = runCheck(root ?? findRoot(io.cwd));
    const ok = result.violations.length === 0;
    if (command === 'report') {
      const report = buildReport(result);
      io.out(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
      return ok ? 0 : 1;
    }
    if (json) {
      io.out(
        `${JSON.stringify({ ok, violations: result.violations, warnings: result.warnings }, null, 2)}\n`,
      );
      return ok ? 0 : 1;
    }
    for (const w of result.warnings) io.err(`warning: ${formatViolation(w)}\n`);
    for (const v of result.violations) io.out(`${formatViolation(v)}\n`);
    const files = result.packages.reduce((n, p) => n + p.files.length, 0);
    io.out(
      ok
        ? `tcb-check: clean — ${result.packages.length} TCB packages, ${files} source files\n`
        : `tcb-check: ${result.violations.length} violation(s) in ${new Set(result.violations.map((v) => v.package)).size} package(s)\n`,
    );
    return ok ? 0 : 1;
  } catch (error) {
    if (error instanceof TcbCheckError) {
      io.err(`tcb-check: ${error.code} error: ${error.message}\n`);
    } else {
      io.err(`tcb-check: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
    }
    return 2;
  }
}
