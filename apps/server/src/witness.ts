// `helmts witness`: a C2SP tlog-witness (docs/spec/tlog.md §Witness). It serves
// `POST <prefix>/add-checkpoint`, cosigns checkpoints of the logs it is configured with after
// checking their signature and the consistency proof from the size it last cosigned, and refuses
// rollback (409 with the size it knows) and forks (409 at equal size, 422 for a proof that fails).
// The check and the write of the new state are one step under a lock, and the state is on disk
// (written then renamed) before the cosignature leaves.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseJson } from '@helm/runtime';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { readBounded } from './internal/body.js';
import type { ServeError } from './internal/errors.js';
import { SerialQueue } from './internal/limits.js';
import { addCheckpoint, type NoteSigner, type NoteVerifier, parseVkey, type WitnessState } from './tlog.js';

export interface WitnessOptions {
  /** The witness's cosigning key (type 0x04). */
  readonly signer: NoteSigner;
  /** Verifier keys of the logs it witnesses (`<origin>+<id>+<key>`). */
  readonly logs: readonly string[];
  /** JSON file holding the latest cosigned checkpoint per origin. */
  readonly stateFile: string;
  readonly host?: string;
  readonly port?: number;
  readonly now?: () => number;
}

export interface WitnessServer {
  readonly url: string;
  readonly vkey: string;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

function loadState(file: string): Record<string, WitnessState> {
  if (!existsSync(file)) return {};
  // Strict JSON (I-INPUT-1): a state file with duplicate keys is refused, not collapsed.
  return parseJson(new Uint8Array(readFileSync(file)), file) as Record<string, WitnessState>;
}

export async function startWitness(options: WitnessOptions): Promise<WitnessServer> {
  const logs = new Map<string, NoteVerifier[]>();
  for (const text of options.logs) {
    const v = parseVkey(text);
    logs.set(v.name, [...(logs.get(v.name) ?? []), v]);
  }
  let state = loadState(options.stateFile);
  const lock = new SerialQueue();
  const now = options.now ?? (() => Date.now());
  const app = new Hono();
  app.post('/add-checkpoint', async (c) => {
    let bytes: Uint8Array;
    try {
      bytes = await readBounded(c.req.raw, MAX_BODY);
    } catch (error) {
      const e = error as ServeError;
      return c.text(`${e.message}\n`, e.status as never);
    }
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return lock.run(() => {
      const answer = addCheckpoint(
        text,
        logs,
        (origin) => state[origin],
        options.signer,
        Math.floor(now() / 1000),
      );
      if (answer.next && answer.origin !== undefined) {
        const next = { ...state, [answer.origin]: answer.next };
        const tmp = `${options.stateFile}.tmp`;
        writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
        renameSync(tmp, options.stateFile);
        state = next;
      }
      return c.body(answer.body, answer.status, { 'content-type': answer.contentType });
    });
  });
  app.notFound((c) => c.text('not found\n', 404));
  app.onError((error, c) =>
    error instanceof TypeError ? c.text('the body is not UTF-8\n', 400) : c.text('internal error\n', 500),
  );
  const server = createAdaptorServer({
    fetch: app.fetch,
    createServer,
    serverOptions: { headersTimeout: 10_000, requestTimeout: 30_000, maxHeaderSize: 16 * 1024 },
  }) as Server;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    vkey: options.signer.vkey,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
