// Child of verify-memory.test.ts (run with --expose-gc): verifies the pack in BENCH_DIR serially and
// prints, as JSON, the largest live memory (V8 heap + ArrayBuffers, after a full GC) seen at the
// verifier's progress reports, and this process's peak RSS. The first report (receipts, 0) is
// skipped (the entry list's read buffers are dropped just before it); anything the verifier keeps
// is still there at a later report.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyEvidencePackFile } from '@helm/evidencepack';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const dir = process.env.BENCH_DIR as string;
let live = 0;
const pause = new Int32Array(new SharedArrayBuffer(4));
const measure = () => {
  gc();
  // V8 frees dropped ArrayBuffer memory on a background thread: wait for it, so that what is
  // counted is what the verifier still holds.
  Atomics.wait(pause, 0, 0, 15);
  gc();
  const m = process.memoryUsage();
  live = Math.max(live, m.heapUsed + m.arrayBuffers);
};
measure();
const base = live;
const report = await verifyEvidencePackFile(join(dir, 'pack.tar'), {
  trustAnchor: readFileSync(join(dir, 'anchor'), 'utf8'),
  workers: 0,
  onProgress: (phase: string, done: number) => {
    if (phase !== 'receipts' || done !== 0) measure();
  },
});
measure();
const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
console.log(
  JSON.stringify({ status: report.status, base, live, rssBytes: hwm ? Number(hwm[1]) * 1024 : undefined }),
);
