// `helmts serve` (the HTTP API over this data directory: docs/api.md), `helmts serve keys
// create|list|revoke` (its API keys), `helmts witness` (a C2SP tlog-witness: docs/spec/tlog.md)
// and the witness check of `helmts verify --checkpoint --witness --quorum`. Thin over @helm/server.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type DataDir, readJsonFile } from '@helm/runtime';

// @helm/server (hono, jose, prom-client) loads only when one of these commands runs: every other
// command starts without it.
const server = () => import('@helm/server');
/** The scopes an API key can hold (kept here so `--help` needs no import of the server). */
const API_KEY_SCOPES = ['call', 'approve', 'audit', 'admin'] as const;

import type { Command } from 'commander';
import { CliError, type CommandResult, failed, ok } from '../errors.js';
import type { Wrap } from './admin.js';
import { nodeOf, withNodeStore } from './data.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function portOf(value: string | undefined): number {
  if (value === undefined) return 8080;
  const n = Number(value);
  if (!/^[0-9]{1,5}$/.test(value) || n > 65535) throw new CliError('USAGE', '--port must be 0-65535');
  return n;
}

/** Resolves on the first SIGTERM or SIGINT (and stops listening for them). */
function signalled(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string) => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

/** A start-up line: JSON with --json (one line, so a supervisor can read it before the end). */
function announce(json: boolean | undefined, body: Record<string, unknown>, human: string[]): void {
  process.stdout.write(json ? `${JSON.stringify(body)}\n` : `${human.join('\n')}\n`);
}

export interface ServeOpts {
  host?: string;
  port?: string;
  jwks?: string;
  issuer?: string;
  audience?: string;
  tenantClaim?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  rate?: string;
  origin?: string;
  mcp?: string;
  json?: boolean;
}

/**
 * `helmts serve`; with `databaseUrl` (--database-url / HELM_DATABASE_URL) on that shared database
 * (docs/deployment.md): the server attaches it before it listens and closes it when it stops.
 */
export async function serveCommand(
  data: DataDir,
  opts: ServeOpts,
  databaseUrl?: string,
): Promise<CommandResult> {
  data.requireInitialized();
  const oidcParts = [opts.jwks, opts.issuer, opts.audience].filter((v) => v !== undefined).length;
  if (oidcParts !== 0 && oidcParts !== 3)
    throw new CliError('USAGE', 'OIDC needs --jwks, --issuer and --audience together');
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined))
    throw new CliError('USAGE', '--tls-cert and --tls-key go together');
  if (opts.tlsClientCa !== undefined && opts.tlsCert === undefined)
    throw new CliError('USAGE', '--tls-client-ca (mTLS) needs --tls-cert and --tls-key');
  const rate = opts.rate === undefined ? undefined : Number(opts.rate);
  if (rate !== undefined && (!Number.isFinite(rate) || rate < 0))
    throw new CliError('USAGE', '--rate must be >= 0');
  // gateway.json is read (strictly) only with --mcp; the gateway module loads only then.
  const mcpConfig =
    opts.mcp === undefined ? undefined : await (await import('./mcp.js')).readGatewayConfig(opts.mcp);
  const { ServeError, startHelmServer } = await server();
  let running: Awaited<ReturnType<typeof startHelmServer>>;
  try {
    running = await startHelmServer({
      dataDir: data,
      ...(databaseUrl === undefined ? {} : { database: { url: databaseUrl } }),
      host: opts.host ?? '127.0.0.1',
      port: portOf(opts.port),
      ...(opts.jwks && opts.issuer && opts.audience
        ? {
            oidc: {
              jwks: opts.jwks,
              issuer: opts.issuer,
              audience: opts.audience,
              ...(opts.tenantClaim ? { tenantClaim: opts.tenantClaim } : {}),
            },
          }
        : {}),
      ...(opts.tlsCert && opts.tlsKey
        ? {
            tls: {
              cert: opts.tlsCert,
              key: opts.tlsKey,
              ...(opts.tlsClientCa ? { clientCa: opts.tlsClientCa } : {}),
            },
          }
        : {}),
      ...(rate === undefined ? {} : { rateLimit: { rate } }),
      ...(opts.origin ? { origin: opts.origin } : {}),
      ...(mcpConfig ? { mcp: { config: mcpConfig } } : {}),
    });
  } catch (error) {
    if (error instanceof ServeError) throw new CliError('CONFIG_INVALID', error.message, error.hint);
    throw error;
  }
  const stop = signalled();
  announce(opts.json, { listening: running.url, log_vkey: running.logVkey, pid: process.pid }, [
    `helmts serve: listening on ${running.url} (data directory ${data.dir}${databaseUrl === undefined ? '' : ', shared database'})`,
    `  log key: ${running.logVkey}`,
    '  API keys: helmts serve keys create --principal <p> --scope call; docs/api.md',
    '  stop: Ctrl-C or SIGTERM (in-flight calls finish first)',
  ]);
  const signal = await stop;
  await running.close();
  return ok({ stopped: signal }, [
    `helmts serve: stopped on ${signal}; every acknowledged call is recorded.`,
  ]);
}

export async function serveKeysCreate(
  data: DataDir,
  opts: { principal: string; tenant?: string; scope?: string[]; credential?: string; label?: string },
): Promise<CommandResult> {
  const { createApiKey, ServeError } = await server();
  try {
    const { key, record } = await createApiKey(data, {
      principal: opts.principal,
      ...(opts.tenant === undefined ? {} : { tenant: opts.tenant }),
      scopes: opts.scope ?? [],
      ...(opts.credential === undefined ? {} : { credential: opts.credential }),
      ...(opts.label === undefined ? {} : { label: opts.label }),
    });
    const { sha256: _hash, ...shown } = record;
    return ok({ key, record: shown }, [
      `API key ${record.id} for ${record.principal}${record.tenant ? ` (tenant ${record.tenant})` : ''}, scopes ${record.scopes.join(', ')}:`,
      `  ${key}`,
      'It is shown once: only its hash is stored. Send it as `Authorization: Bearer <key>`.',
    ]);
  } catch (error) {
    if (error instanceof ServeError) throw new CliError('USAGE', error.message, error.hint);
    throw error;
  }
}

export async function serveKeysList(data: DataDir): Promise<CommandResult> {
  const { listApiKeys } = await server();
  const keys = (await listApiKeys(data)).map(({ sha256: _hash, ...k }) => k);
  return ok({ keys }, [
    keys.length === 0
      ? 'No API keys. Create one: helmts serve keys create --principal <p> --scope call'
      : 'API keys:',
    ...keys.map(
      (k) =>
        `  ${k.id}  ${k.principal}${k.tenant ? `@${k.tenant}` : ''}  ${k.scopes.join(',')}  ${
          k.revoked_at_ms === null ? 'active' : `revoked ${new Date(k.revoked_at_ms).toISOString()}`
        }${k.label ? `  ${k.label}` : ''}`,
    ),
  ]);
}

export async function serveKeysRevoke(data: DataDir, id: string): Promise<CommandResult> {
  const { revokeApiKey, ServeError } = await server();
  try {
    const { sha256: _hash, ...record } = await revokeApiKey(data, id);
    return ok({ record }, [`Revoked API key ${id}: a running server refuses it from its next request.`]);
  } catch (error) {
    if (error instanceof ServeError) throw new CliError('INVALID_INPUT', error.message, error.hint);
    throw error;
  }
}

/** The witness key file: `{"name": …, "seed": <64 hex>}` (0600). */
async function readWitnessKey(path: string) {
  const { noteSigner, SIG_COSIGNATURE_V1 } = await server();
  // Strict JSON like every file the CLI reads (I-INPUT-1); FILE_NOT_FOUND when missing.
  const file = readJsonFile(path) as { name?: unknown; seed?: unknown };
  if (typeof file.name !== 'string' || typeof file.seed !== 'string' || !/^[0-9a-f]{64}$/.test(file.seed))
    throw new CliError(
      'INVALID_INPUT',
      `${path} is not a witness key file`,
      'create one: helmts witness keygen --name <name> --out <file>',
    );
  return noteSigner(file.name, new Uint8Array(Buffer.from(file.seed, 'hex')), SIG_COSIGNATURE_V1);
}

export async function witnessKeygen(opts: { name: string; out: string }): Promise<CommandResult> {
  const { noteSigner, SIG_COSIGNATURE_V1 } = await server();
  const out = resolve(opts.out);
  if (existsSync(out)) throw new CliError('INVALID_INPUT', `${out} exists; not overwriting a key`);
  const seed = randomBytes(32).toString('hex');
  let vkey: string;
  try {
    vkey = noteSigner(opts.name, new Uint8Array(Buffer.from(seed, 'hex')), SIG_COSIGNATURE_V1).vkey;
  } catch (error) {
    throw new CliError('USAGE', (error as Error).message);
  }
  writeFileSync(out, `${JSON.stringify({ name: opts.name, seed })}\n`, { mode: 0o600, flag: 'wx' });
  return ok({ path: out, vkey }, [`Witness key ${opts.name} written to ${out}`, `  verifier key: ${vkey}`]);
}

export async function witnessCommand(opts: {
  key: string;
  log?: string[];
  state: string;
  host?: string;
  port?: string;
  json?: boolean;
}): Promise<CommandResult> {
  if (!opts.log || opts.log.length === 0)
    throw new CliError(
      'USAGE',
      'give the logs to witness: --log <verifier key> (repeatable)',
      'the key `helmts serve` prints',
    );
  const signer = await readWitnessKey(opts.key);
  const { startWitness } = await server();
  let witness: Awaited<ReturnType<typeof startWitness>>;
  try {
    witness = await startWitness({
      signer,
      logs: opts.log,
      stateFile: resolve(opts.state),
      host: opts.host ?? '127.0.0.1',
      port: portOf(opts.port),
    });
  } catch (error) {
    throw new CliError('INVALID_INPUT', (error as Error).message);
  }
  const stop = signalled();
  announce(opts.json, { listening: witness.url, vkey: witness.vkey, pid: process.pid }, [
    `helmts witness: ${witness.url}/add-checkpoint`,
    `  cosigner key: ${witness.vkey}`,
  ]);
  const signal = await stop;
  await witness.close();
  return ok({ stopped: signal }, [`helmts witness: stopped on ${signal}`]);
}

export interface WitnessVerifyOpts {
  checkpoint?: string;
  witness?: string[];
  quorum?: string;
}

/**
 * The witness part of `helmts verify`: undefined without --checkpoint/--witness/--quorum; else
 * the check, which a verification needs to pass on top of the pack's own.
 */
export async function witnessCheck(
  file: string,
  opts: WitnessVerifyOpts,
): Promise<CommandResult | undefined> {
  if (opts.checkpoint === undefined && opts.witness === undefined && opts.quorum === undefined)
    return undefined;
  if (opts.checkpoint === undefined || opts.witness === undefined)
    throw new CliError('USAGE', '--witness needs --checkpoint <cosigned note> (and --quorum, default 1)');
  const quorum = opts.quorum === undefined ? 1 : Number(opts.quorum);
  if (!Number.isSafeInteger(quorum) || quorum < 1)
    throw new CliError('USAGE', '--quorum must be a positive integer');
  const { verifyWitnessedPack } = await server();
  let witnesses: string[];
  try {
    witnesses = opts.witness;
    const check = verifyWitnessedPack(
      new Uint8Array(readFileSync(file)),
      readFileSync(opts.checkpoint, 'utf8'),
      {
        witnesses,
        quorum,
      },
    );
    const line = `witnesses: ${check.ok ? 'PASS' : 'FAILED'} (${check.code}) ${check.message}`;
    return check.ok ? ok({ witness: check }, [line]) : failed({ witness: check }, [line]);
  } catch (error) {
    throw new CliError('INVALID_INPUT', (error as Error).message);
  }
}

/** "Examples:" help text in the shape every command shows (apps/cli/src/help.ts). */
function examples(command: Command, lines: readonly string[]): Command {
  return command.addHelpText('after', ['', 'Examples:', ...lines.map((l) => `  $ helmts ${l}`)].join('\n'));
}

export function registerServeCommands(program: Command, wrap: Wrap): void {
  const json = ['--json', 'machine-readable output'] as const;
  const serve = program
    .command('serve')
    .description('serve the authenticated HTTP API over this data directory (docs/api.md)')
    .option(
      '--host <addr>',
      'bind address (default 127.0.0.1; anything else exposes the API beyond this machine)',
    )
    .option('--port <n>', 'port (default 8080; 0 = any free port)')
    .option('--jwks <file|url>', 'OIDC: JWKS file or https URL that verifies bearer JWTs')
    .option('--issuer <iss>', 'OIDC: the required issuer')
    .option('--audience <aud>', 'OIDC: the required audience')
    .option('--tenant-claim <claim>', 'OIDC: the claim holding the tenant (default tenant)')
    .option('--tls-cert <file>', 'TLS certificate chain (PEM)')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .option('--tls-client-ca <file>', 'mTLS: require client certificates signed by this CA (PEM)')
    .option('--rate <n>', 'requests per second per identity (default 50; 0 = unlimited)')
    .option('--origin <name>', 'checkpoint origin / log key name (default helm-ts.local/<chain id>)')
    .option(
      '--mcp <gateway.json>',
      'also serve the MCP gateway at /mcp for authenticated identities (docs/mcp-gateway.md)',
    )
    .option(...json)
    .action(
      wrap((o: ServeOpts, cmd: Command) => {
        const node = nodeOf(cmd);
        return serveCommand(node.data, o, node.databaseUrl);
      }),
    );
  examples(serve, [
    'serve                                   # http://127.0.0.1:8080 on ./.helm',
    'serve --port 0 --json                   # any free port; the first line says which',
    'serve --jwks jwks.json --issuer https://idp.example --audience helm-api',
    'serve --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem --tls-client-ca clients.pem',
    '--database-url "postgres://helm_app@db:5432/helm?sslmode=verify-full" serve   # a node on the shared database (docs/deployment.md)',
  ]);
  // `serve` and `witness` take --json themselves, so commander hands a subcommand's --json to
  // them: give it back to the subcommand that runs.
  const passJson = (parent: Command) =>
    parent.hook('preAction', (_self, action) => {
      if (action !== parent && parent.opts().json) action.setOptionValue('json', true);
    });
  passJson(serve);
  const keys = serve.command('keys').description('API keys of the server (create, list, revoke)');
  examples(keys, ['serve keys create --principal agent-1 --scope call', 'serve keys list']);
  const create = keys
    .command('create')
    .description('create an API key (shown once; stored hashed)')
    .requiredOption('--principal <p>', 'the principal every request with the key acts as')
    .option('--tenant <t>', 'the tenant it is bound to')
    .option('--scope <s>', `a scope: ${API_KEY_SCOPES.join(', ')} (repeatable)`, collect)
    .option(
      '--credential <id>',
      "the identity credential its calls present (default: the principal's binding)",
    )
    .option('--label <text>', 'a note for `keys list`')
    .option(...json)
    .action(
      wrap((o: Parameters<typeof serveKeysCreate>[1], cmd: Command) =>
        withNodeStore(cmd, (d) => serveKeysCreate(d.requireInitialized(), o)),
      ),
    );
  examples(create, [
    'serve keys create --principal agent-1 --scope call',
    'serve keys create --principal auditor --scope audit --label "SOC export"',
  ]);
  const list = keys
    .command('list')
    .description('list API keys (never the keys themselves)')
    .option(...json)
    .action(
      wrap((_o: unknown, cmd: Command) => withNodeStore(cmd, (d) => serveKeysList(d.requireInitialized()))),
    );
  examples(list, ['serve keys list', 'serve keys list --json']);
  const revoke = keys
    .command('revoke <id>')
    .description('revoke an API key by id')
    .option(...json)
    .action(
      wrap((id: string, _o: unknown, cmd: Command) =>
        withNodeStore(cmd, (d) => serveKeysRevoke(d.requireInitialized(), id)),
      ),
    );
  examples(revoke, ['serve keys revoke 4a09c1b3472c']);
  const witness = program
    .command('witness')
    .description('run a C2SP tlog-witness that cosigns the checkpoints of the logs it is given')
    .option('--key <file>', 'the witness key file (helmts witness keygen)')
    .option('--log <vkey>', "a log's verifier key (repeatable)", collect)
    .option(
      '--state <file>',
      'where the latest cosigned checkpoint of each log is kept',
      'witness-state.json',
    )
    .option('--host <addr>', 'bind address (default 127.0.0.1)')
    .option('--port <n>', 'port (default 8080; 0 = any free port)')
    .option(...json)
    .action(
      wrap(
        (o: {
          key?: string;
          log?: string[];
          state: string;
          host?: string;
          port?: string;
          json?: boolean;
        }) => {
          if (o.key === undefined) throw new CliError('USAGE', '--key <witness key file> is required');
          return witnessCommand({ ...o, key: o.key });
        },
      ),
    );
  examples(witness, [
    'witness keygen --name witness.example/w1 --out w1.key',
    "witness --key w1.key --log 'helm-ts.local/main+50882c04+AYgJ…' --state w1.state --port 8081",
  ]);
  passJson(witness);
  const keygen = witness
    .command('keygen')
    .description('create a witness key file and print its verifier key')
    .requiredOption('--name <name>', 'the witness name (a schema-less URL, e.g. witness.example/w1)')
    .requiredOption('--out <file>', 'the key file to write (0600)')
    .option(...json)
    .action(wrap((o: { name: string; out: string }) => witnessKeygen(o)));
  examples(keygen, ['witness keygen --name witness.example/w1 --out w1.key']);
}

/** `helmts verify` with the witness check on top: both must pass. */
export async function withWitnesses(
  file: string,
  opts: WitnessVerifyOpts,
  verify: () => CommandResult | Promise<CommandResult>,
): Promise<CommandResult> {
  const witness = await witnessCheck(file, opts);
  const base = await verify();
  if (!witness) return base;
  const exitCode = Math.max(base.exitCode, witness.exitCode) as 0 | 1 | 2;
  return {
    exitCode,
    json: { ...base.json, ...witness.json, ok: exitCode === 0 },
    human: [...base.human, ...witness.human],
  };
}
