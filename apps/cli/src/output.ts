// Printing results (human or --json) and a progress bar on stderr for long work (TTY only).
import type { CommandResult } from './errors.js';

export interface OutputOptions {
  readonly json?: boolean;
}

export function emit(
  result: CommandResult,
  options: OutputOptions,
  out: NodeJS.WritableStream = process.stdout,
): void {
  if (options.json) out.write(`${JSON.stringify(result.json, null, 2)}\n`);
  else for (const line of result.human) out.write(`${line}\n`);
}

/** A progress reporter: draws a bar on a TTY stderr, stays silent otherwise (and under --json). */
export function progressBar(options: OutputOptions, stream: NodeJS.WriteStream = process.stderr) {
  const enabled = !options.json && stream.isTTY === true;
  let last = -1;
  return {
    update(phase: string, done: number, total: number): void {
      if (!enabled || total <= 0) return;
      const pct = Math.floor((done / total) * 100);
      if (pct === last && done !== total) return;
      last = pct;
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      stream.write(
        `\r${phase.padEnd(12)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${done}/${total}`,
      );
      if (done >= total) stream.write('\n');
    },
  };
}
