// Entry of an isolation child process (forked by processIsolation). It hosts the TCB's own
// `threadIsolation` — loaded from the module URL the parent passes, so the child runs exactly the
// sandbox code the parent runs — and relays calls over the IPC channel. It enforces no deadline:
// the parent kills this whole process when a call's deadline passes.
//
// argv: [hostModuleUrl, resourceLimitsJson]. Runs from dist/ as .js, from src/ (tests) as .ts
// with Node's type stripping; it imports nothing at run time but the host module.
import type { IsolatedModule, IsolationPort, ThreadIsolationOptions } from '@helm/runtime-sandbox';
import type { ChildMessage, ParentMessage } from './protocol.ts';

const send = (message: ChildMessage): void => {
  process.send?.(message);
};

// The parent is gone (closed us or died): stop everything now. Not process.exit(): exiting joins
// worker threads, and a guest thread the engine has not stopped yet would keep this process alive.
process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));

const modules = new Map<string, IsolatedModule>();
const early: ParentMessage[] = [];
let port: IsolationPort | undefined;

async function load(isolation: IsolationPort, module: IsolatedModule): Promise<void> {
  modules.set(module.id, module);
  try {
    await isolation.prepare(module);
    send({ t: 'loaded', id: module.id });
  } catch (e) {
    modules.delete(module.id);
    send({ t: 'loaded', id: module.id, error: e instanceof Error ? e.message : String(e) });
  }
}

async function run(isolation: IsolationPort, message: ParentMessage & { t: 'run' }): Promise<void> {
  const wire = message.call.module;
  const module = wire.kind === 'ref' ? modules.get(wire.id) : wire;
  if (module === undefined) {
    const outcome = { kind: 'crashed', out_of_memory: false, message: `unknown module ${wire.id}` } as const;
    send({ t: 'done', id: message.id, outcome });
    return;
  }
  modules.set(module.id, module);
  const outcome = await isolation.run({ ...message.call, module }, Number.POSITIVE_INFINITY);
  send({ t: 'done', id: message.id, outcome });
}

process.on('message', (message: ParentMessage) => {
  if (port === undefined) early.push(message);
  else if (message.t === 'load') void load(port, message.module);
  else void run(port, message);
});

// The smallest module: running it starts and loads the guest worker (the outcome is a failure and
// is ignored), so the first real call does not pay for that inside its deadline.
const WARM_UP = {
  kind: 'core',
  id: 'warm-up',
  bytes: new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
} as const;

async function start(hostUrl: string, limits: string): Promise<void> {
  const host = (await import(hostUrl)) as {
    threadIsolation(options: ThreadIsolationOptions): IsolationPort;
  };
  const isolation = host.threadIsolation({ size: 1, resourceLimits: JSON.parse(limits) });
  const empty = new Uint8Array(0);
  await isolation.run(
    { module: WARM_UP, stdin: empty, gas: 1, maxOutputBytes: 0, seed: empty, virtualTimeMs: 0 },
    Number.POSITIVE_INFINITY,
  );
  // Modules sent before we were up are compiled before we take calls (the parent sends calls only
  // after `ready`).
  const calls: Array<ParentMessage & { t: 'run' }> = [];
  while (early.length > 0) {
    const batch = early.splice(0);
    await Promise.all(batch.map((m) => (m.t === 'load' ? load(isolation, m.module) : calls.push(m))));
  }
  port = isolation;
  send({ t: 'ready' });
  for (const m of calls) void run(isolation, m);
}

const [hostUrl = '', limits = '{}'] = process.argv.slice(2);
start(hostUrl, limits).catch((e: unknown) => {
  const failed: ChildMessage = { t: 'failed', message: e instanceof Error ? e.message : String(e) };
  if (process.send === undefined) process.exit(1);
  else process.send(failed, () => process.exit(1));
});
