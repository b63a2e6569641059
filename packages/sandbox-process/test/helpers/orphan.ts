// Starts a call that never ends on its own in a process isolation child, prints the child's pid
// and exits abruptly (no close()): the child must not outlive its parent.
import { createSandbox } from '@helm/runtime-sandbox';
import { wat } from '../../../runtime-sandbox/test/helpers/wat.ts';
import { processIsolation } from '../../src/index.ts';

const isolation = processIsolation();
const sandbox = createSandbox({ isolation });
const h = await sandbox.register(
  await wat(`(module (memory (export "memory") 64)
    (func (export "_start") (loop $l (memory.fill (i32.const 0) (i32.const 1) (i32.const 0x400000)) (br $l))))`),
);
void sandbox.run(h, new Uint8Array(0), {
  gas: Number.MAX_SAFE_INTEGER,
  timeout_ms: 600_000,
  max_output_bytes: 0,
});
await new Promise((r) => setTimeout(r, 300));
console.log(isolation.pids()[0]);
process.exit(0);
