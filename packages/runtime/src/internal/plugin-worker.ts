// Worker entry of a plugin tool (src/internal/plugin.ts): loads the plugin from the bytes the
// runtime checked against the pinned digest — a module hook serves that text for the plugin's own
// URL, so the file is never re-read — and runs its default export for each call the runtime posts.
// A worker thread keeps the runtime responsive while a plugin computes, and a call past its
// deadline ends by terminating the worker. No relative imports: from src/ Node runs this file with
// type stripping.
import { registerHooks } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const { url, source } = workerData as { url: string; source: string };
const port = parentPort as NonNullable<typeof parentPort>;

const describe = (error: unknown): string => {
  try {
    const message = (error as { message?: unknown })?.message;
    return typeof message === 'string' ? message : String(error);
  } catch {
    return 'an unprintable value was thrown';
  }
};

registerHooks({
  load(target, context, next) {
    return target === url ? { format: 'module', source, shortCircuit: true } : next(target, context);
  },
});

let run: (args: unknown, context: unknown) => unknown;
try {
  const loaded = (await import(url)) as { default?: unknown };
  if (typeof loaded.default !== 'function') {
    port.postMessage({ invalid: 'it has no default export function' });
    process.exit(0);
  }
  run = loaded.default as typeof run;
  port.postMessage({ ready: true });
} catch (error) {
  port.postMessage({ invalid: `it could not be loaded: ${describe(error)}` });
  process.exit(0);
}

const calls = new Map<number, AbortController>();
port.on(
  'message',
  (message: { id: number; args?: unknown; context?: Record<string, unknown>; abort?: true }) => {
    if (message.abort) {
      calls.get(message.id)?.abort();
      return;
    }
    const controller = new AbortController();
    calls.set(message.id, controller);
    Promise.resolve()
      .then(() => run(message.args, Object.freeze({ ...message.context, signal: controller.signal })))
      .then(
        (value) => {
          try {
            port.postMessage({ id: message.id, value });
          } catch (error) {
            port.postMessage({
              id: message.id,
              error: `the plugin returned a value that is not JSON (${describe(error)})`,
            });
          }
        },
        (error: unknown) => port.postMessage({ id: message.id, error: describe(error) }),
      )
      .finally(() => calls.delete(message.id));
  },
);
