// @helm/server — `helmts serve`: the authenticated HTTP API over one HELM data directory
// (docs/api.md), its API keys, and the C2SP transparency formats its log and witnesses speak
// (docs/spec/tlog.md). Not part of the TCB: composition over @helm/runtime's public API.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from '@helm/mcp-gateway';
import { attachDatabase, DataDir, GovernedRuntime, type NodeStoreOptions } from '@helm/runtime';
import { createAdaptorServer } from '@hono/node-server';
import { createApp } from './internal/app.js';
import { authenticator, type OidcOptions } from './internal/auth.js';
import { ServeError } from './internal/errors.js';
import { InFlight, RateLimiter } from './internal/limits.js';
import { type McpMount, mountMcp } from './internal/mcp.js';
import { createMetrics } from './internal/metrics.js';
import { logNoteSigner, ReceiptLog } from './internal/receipt-log.js';

export {
  API_KEY_SCOPES,
  type ApiKeyCreateInput,
  type ApiKeyRecord,
  type ApiKeyScope,
  createApiKey,
  listApiKeys,
  revokeApiKey,
} from './internal/apikeys.js';
export type { OidcOptions } from './internal/auth.js';
export { ServeError, type ServeErrorCode } from './internal/errors.js';
export {
  addCheckpoint,
  type Checkpoint,
  checkConsistency,
  checkInclusion,
  cosign,
  formatCheckpoint,
  formatVkey,
  type NoteSigner,
  type NoteVerifier,
  noteKeyId,
  noteSigner,
  type ParsedNote,
  parseCheckpoint,
  parseNote,
  parseVkey,
  SIG_COSIGNATURE_V1,
  SIG_ED25519,
  signNote,
  TlogError,
  verifyNote,
  type WitnessAnswer,
  type WitnessState,
} from './tlog.js';
export { startWitness, type WitnessOptions, type WitnessServer } from './witness.js';
export {
  verifyWitnessedPack,
  type WitnessCheck,
  type WitnessCheckCode,
  type WitnessCheckOptions,
} from './witness-verify.js';

/** Largest EvidencePack accepted by the verify endpoint (bytes). */
export const MAX_PACK_BYTES = 256 * 1024 * 1024;
/** Largest JSON request body (bytes). */
export const MAX_JSON_BYTES = 1024 * 1024;

export interface TlsOptions {
  /** PEM certificate chain and private key files. */
  readonly cert: string;
  readonly key: string;
  /** PEM CA bundle: with it, clients must present a certificate it signed (mTLS). */
  readonly clientCa?: string;
}

export interface ServeOptions {
  /** The data directory (a path or an open DataDir; the server owns and closes it). */
  readonly dataDir: string | DataDir;
  /** Bind address (default 127.0.0.1: nothing listens beyond the machine unless asked). */
  readonly host?: string;
  /** Port (default 0: any free port). */
  readonly port?: number;
  readonly oidc?: OidcOptions;
  readonly tls?: TlsOptions;
  /** Requests per second per identity (default 50; 0 = unlimited) and burst (default 2x rate). */
  readonly rateLimit?: { readonly rate: number; readonly burst?: number };
  readonly maxJsonBytes?: number;
  readonly maxPackBytes?: number;
  /** Slow clients: all headers within `headersMs` (default 10 s), the whole request within `requestMs` (default 30 s). */
  readonly timeouts?: {
    readonly headersMs?: number;
    readonly requestMs?: number;
    readonly keepAliveMs?: number;
  };
  /** Largest request header block (bytes, default 16 KiB; larger is answered 431). */
  readonly maxHeaderBytes?: number;
  /** Origin line and note-key name of the log's checkpoints (default `helm-ts.local/<chain id>`). */
  readonly origin?: string;
  /** Clock (default Date.now). */
  readonly now?: () => number;
  /** How long close() waits for open connections before cutting them (default 10 s). */
  readonly shutdownGraceMs?: number;
  /**
   * Serve the MCP gateway at `/mcp` (`helmts serve --mcp gateway.json`): its upstreams, tools and
   * limits from this gateway.json; its callers are the server's authenticated identities (scope
   * `call`); it runs on the server's runtime. Absent: `/mcp` answers 404.
   */
  readonly mcp?: { readonly config: GatewayConfig };
  /**
   * Run on a shared PostgreSQL database (`helmts serve --database-url` / HELM_DATABASE_URL;
   * docs/deployment.md): attached before the runtime opens (unreachable: start-up rejects with
   * STORE_UNAVAILABLE and nothing listens), `helm.db` is never opened, and the server closes the
   * database's connections on close(). Keys, config, policy and tools stay in the data directory.
   */
  readonly database?: NodeStoreOptions;
}

export interface HelmServer {
  /** `http(s)://host:port` */
  readonly url: string;
  readonly port: number;
  /** The log's verifier key (`<origin>+<id>+<key>`): what witnesses and verifiers trust. */
  readonly logVkey: string;
  /**
   * Graceful stop: refuse new requests (503), finish the calls in flight, close
   * the runtime (releasing the data directory's lock) and the store. Idempotent.
   */
  close(): Promise<void>;
}

/** Open the data directory's runtime and serve the API; resolves once listening. */
export async function startHelmServer(options: ServeOptions): Promise<HelmServer> {
  const data = typeof options.dataDir === 'string' ? new DataDir(options.dataDir) : options.dataDir;
  data.requireInitialized();
  const now = options.now ?? (() => Date.now());
  let mcp: McpMount | undefined;
  let runtime: GovernedRuntime;
  try {
    if (options.database) await attachDatabase(data, options.database);
    mcp = options.mcp
      ? await mountMcp(data, options.mcp.config, now, options.maxJsonBytes ?? MAX_JSON_BYTES)
      : undefined;
    runtime = mcp ? mcp.runtime : await GovernedRuntime.open(data, { clock: { now } });
  } catch (error) {
    await mcp?.close();
    await data.closeAll();
    throw error;
  }
  const authenticate = authenticator(data, options.oidc);
  let closing = false;
  let server: Server;
  try {
    const chain = data.config().chain_id;
    const log = new ReceiptLog(data, logNoteSigner(data, options.origin ?? `helm-ts.local/${chain}`));
    const inFlight = new InFlight();
    const rateValue = options.rateLimit?.rate ?? 50;
    const app = createApp({
      data,
      runtime,
      authenticate,
      inFlight,
      rate: new RateLimiter(rateValue, options.rateLimit?.burst ?? rateValue * 2, now),
      metrics: createMetrics(),
      log,
      limits: {
        maxJsonBytes: options.maxJsonBytes ?? MAX_JSON_BYTES,
        maxPackBytes: options.maxPackBytes ?? MAX_PACK_BYTES,
      },
      now,
      closing: () => closing,
      ...(mcp ? { mcp: mcp.route } : {}),
    });
    const t = options.timeouts ?? {};
    const common = {
      headersTimeout: t.headersMs ?? 10_000,
      requestTimeout: t.requestMs ?? 30_000,
      keepAliveTimeout: t.keepAliveMs ?? 5_000,
      maxHeaderSize: options.maxHeaderBytes ?? 16 * 1024,
      // How often Node checks the two timeouts above (its default, 30 s, would let a slow client
      // hold a socket up to 30 s past its deadline).
      connectionsCheckingInterval: Math.min(1000, t.headersMs ?? 1000),
    };
    const tls = options.tls;
    server = (
      tls
        ? createAdaptorServer({
            fetch: app.fetch,
            createServer: createHttpsServer,
            serverOptions: {
              ...common,
              cert: readFileSync(tls.cert),
              key: readFileSync(tls.key),
              ...(tls.clientCa
                ? { ca: readFileSync(tls.clientCa), requestCert: true, rejectUnauthorized: true }
                : {}),
            },
          })
        : createAdaptorServer({ fetch: app.fetch, createServer: createHttpServer, serverOptions: common })
    ) as Server;
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    let closed: Promise<void> | undefined;
    return {
      url: `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
      port,
      logVkey: log.vkey,
      close() {
        closed ??= (async () => {
          closing = true;
          let stoppedYet = false;
          const stopped = new Promise<void>((resolve) =>
            server.close(() => {
              stoppedYet = true;
              resolve();
            }),
          );
          // Requests already on a connection are answered (503 once closing, or their result if
          // they were accepted); idle keep-alive connections are closed as they become idle, up to
          // a deadline after which whatever is left is cut (nothing there was acknowledged).
          const deadline = Date.now() + (options.shutdownGraceMs ?? 10_000);
          while (!stoppedYet && Date.now() < deadline) {
            server.closeIdleConnections();
            await Promise.race([stopped, new Promise((r) => setTimeout(r, 25))]);
          }
          // Every accepted request — each governed call in flight among them — finishes with its
          // stored receipt before the runtime closes.
          await inFlight.idle();
          server.closeAllConnections();
          await stopped;
          await mcp?.close();
          await runtime.close();
          await data.closeAll();
        })();
        return closed;
      },
    };
  } catch (error) {
    await mcp?.close();
    await runtime.close();
    await data.closeAll();
    if (error instanceof ServeError) throw error;
    throw error;
  }
}
