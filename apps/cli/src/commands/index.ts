// The operator commands: init, keys, policy, tool, run, export, verify, replay.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type SignedEnvelope, TRUST_ROLES, type TrustRole } from '@helm/contracts';
import {
  canonicalBytes,
  createSigner,
  digest,
  fromBase64Url,
  isDigest,
  isKeyId,
  signEnvelope,
} from '@helm/crypto';
import {
  formatReport,
  parseTrustHeadPin,
  replayEvidencePack,
  type TrustHeadPin,
  type VerifyOptions,
  verifyEvidencePackFile,
  type WrittenPack,
} from '@helm/evidencepack';
import { loadBundle, loadPolicyStack, parseP0 } from '@helm/guardian';
import {
  type DataDir,
  exportPackFile,
  exportPackFileFrom,
  GovernedRuntime,
  governanceSnapshot,
  initDataDir,
  isWellFormedText,
  type LocalKey,
  lastPublishedBundle,
  lastRoles,
  liveKey,
  namedPath,
  openRoles,
  parseJson,
  publishPolicyBundle,
  RuntimeError,
  readJsonFile,
  recordsAtHead,
  reexecute,
  refuseRootTarget,
  STRICT_JSON_HINT,
} from '@helm/runtime';
import { commitTrustEvent, type TrustRegistry } from '@helm/trust';
import type { Command } from 'commander';
import { formatDifference, jsonDiff } from '../diff.js';
import { CliError, type CommandResult, failed, ok } from '../errors.js';
import { CLI_NAME } from '../help.js';
import { progressBar } from '../output.js';
import { escalation, registerApprovalCommands, runChallenge } from './approvals.js';
import { registerBudgetCommands } from './budget.js';
import { databaseNamed, dataDirOf, nodeOf, withDataDir, withGovernanceDir, withNodeStore } from './data.js';
import { registerDelegateCommands, rulesHints, sessionPresentation } from './delegate.js';
import { registerEgressCommands } from './egress.js';
import { credentialOf, registerIdentityCommands } from './identity.js';
import {
  followedLines,
  keysRotateCommand,
  keysRotateOnDatabase,
  type RotateRootOpts,
} from './keys-rotate.js';
import { registerMcpCommands } from './mcp.js';
import { registerReceiptPolicyCommands } from './receipt-policy.js';
import { runResult } from './run-output.js';
import { registerServeCommands, type WitnessVerifyOpts, withWitnesses } from './serve.js';
import { registerToolCommands } from './tool.js';

export { keysRotate, keysRotateRoot } from './keys-rotate.js';
export { toolRegister } from './tool.js';

type Wrap = <A extends unknown[]>(
  handler: (...args: A) => Promise<CommandResult> | CommandResult,
) => (...args: A) => Promise<void>;

interface JsonOpt {
  json?: boolean;
}

function parseIntOpt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new CliError('USAGE', `${name} must be a positive integer`);
  return n;
}

export interface InitOpts {
  rootKeys?: string;
  rootThreshold?: string;
  rootKeyDir?: string;
}

/** The P0 budgets init wrote, as init reports them (`window` defaults to `fixed`). */
interface InitBudgets {
  readonly window: string;
  readonly default_principal_max: number;
  readonly default_tenant_max: number;
}

function p0Budgets(p0: unknown): InitBudgets {
  // p0 is the P0 init just wrote (schema-valid: window is one of BUDGET_WINDOWS when present).
  const {
    window = 'fixed',
    default_principal_max,
    default_tenant_max,
  } = (p0 as { budgets: Omit<InitBudgets, 'window'> & { window?: string } }).budgets;
  return { window, default_principal_max, default_tenant_max };
}

const WINDOW_TEXT: Readonly<Record<string, string>> = {
  fixed: 'in total, never refilling',
  minute: 'per minute, refilling every UTC minute',
  hour: 'per hour, refilling every UTC hour',
  day: 'per day, refilling every UTC day',
};

function describeBudgets(b: InitBudgets): string {
  return `${b.default_principal_max} calls per principal and ${b.default_tenant_max} per tenant ${WINDOW_TEXT[b.window]}`;
}

export function initCommand(dir: string, opts: InitOpts = {}): CommandResult {
  const rootKeys = parseIntOpt(opts.rootKeys, '--root-keys');
  const rootThreshold = parseIntOpt(opts.rootThreshold, '--root-threshold');
  const {
    data,
    anchor,
    keys,
    rootKeyDir,
    rootThreshold: threshold,
  } = initDataDir(dir, {
    ...(rootKeys === undefined ? {} : { rootKeys }),
    ...(rootThreshold === undefined ? {} : { rootThreshold }),
    ...(opts.rootKeyDir === undefined ? {} : { rootKeyDir: opts.rootKeyDir }),
  });
  const registry = data.registry();
  const budgets = p0Budgets(data.p0());
  data.close();
  const roots = keys.filter((k) => k.roles.includes('root'));
  const offline = opts.rootKeyDir !== undefined;
  return ok(
    {
      data_dir: dir,
      trust_anchor: anchor,
      trust_seq: registry.seq,
      trust_head: registry.head,
      root: { keys: roots.map((k) => k.keyid), threshold, key_dir: rootKeyDir },
      keys: keys.map((k) => ({ name: k.name, keyid: k.keyid, roles: k.roles })),
      budgets,
    },
    [
      `Initialized a HELM data directory at ${dir}`,
      `  keys: ${keys
        .filter((k) => !k.roles.includes('root'))
        .map((k) => k.name)
        .join(', ')} (seeds in ${dir}/keys, mode 0600)`,
      `  root: ${roots.length} key(s), threshold ${threshold}, in ${rootKeyDir}${
        offline
          ? ' — move them offline now; bring them back only for key generate/rotate/revoke (--root-key-dir)'
          : ' (whoever can read the data directory holds root; see `helmts init --root-key-dir`)'
      }`,
      `  trust anchor: ${anchor}   (share it with verifiers: helmts verify <pack> --trust-anchor ${anchor})`,
      '  policy: default P0 ceilings + a signed bundle allowing principal "local" to call the echo tool',
      `  budgets: ${describeBudgets(budgets)} (edit policy/p0.json; see \`helmts budget show\`)`,
      `  trust head: seq ${registry.seq}, ${registry.head} (pin freshness: helmts verify … --trust-head ${registry.seq}:${registry.head})`,
      'Next: register a tool (`helmts tool register <descriptor.json>`) and run a call (`helmts run --tool echo ...`).',
    ],
  );
}

/**
 * The key files of the data directory as the registry sees them: key id from each file's seed,
 * roles and status from the registry at its head (never from the file), plus the registry keys
 * valid now that no file here holds (offline root keys, or a successor a key rotated itself to).
 */
export function keysList(data: DataDir): CommandResult {
  data.requireInitialized();
  const registry = data.registry();
  const records = recordsAtHead(registry);
  const keys = data.localKeys().map((k) => {
    if ('error' in k)
      return {
        name: k.name,
        keyid: null,
        roles: [] as TrustRole[],
        status: 'file_mismatch',
        rotated_to: null,
        valid_now: false,
        error: { code: k.error.code, message: k.error.message },
      };
    const record = records.get(k.signer.keyId);
    const roles = record === undefined ? [] : lastRoles(record);
    return {
      name: k.name,
      keyid: k.signer.keyId,
      roles,
      status: record === undefined ? 'unpublished' : (record.revocation ?? 'active'),
      rotated_to: record?.rotated_to ?? null,
      valid_now:
        roles.length > 0 && roles.every((r) => registry.keyValidFor(k.signer.keyId, r, registry.seq).ok),
    };
  });
  const named = new Set(keys.map((k) => k.keyid));
  const unnamed = [...records.values()]
    .filter((r) => r.revoked_at === null && !named.has(r.keyid))
    .map((r) => ({ keyid: r.keyid, roles: openRoles(r), rotated_from: r.rotated_from }));
  return ok({ keys, unnamed, trust_seq: registry.seq, trust_head: registry.head }, [
    `Keys in ${data.dir} (roles and status from the trust registry at seq ${registry.seq}, head ${registry.head}):`,
    ...keys.map(
      (k) =>
        `  ${k.name.padEnd(12)} ${k.roles.join(',').padEnd(10)} ${k.status.padEnd(8)} ${k.keyid ?? `(${k.error?.message})`}${
          k.rotated_to ? ` → ${k.rotated_to}` : ''
        }`,
    ),
    ...(unnamed.length === 0
      ? []
      : [
          'Registry keys valid now with no key file here (offline root keys, or keys rotated or made elsewhere):',
          ...unnamed.map((u) => `  ${u.roles.join(',').padEnd(23)} ${u.keyid}`),
        ]),
  ]);
}

export function keysGenerate(data: DataDir, name: string, role: string, rootKeyDir?: string): CommandResult {
  data.requireInitialized();
  if (!(TRUST_ROLES as readonly string[]).includes(role) || role === 'root') {
    throw new CliError(
      'USAGE',
      `unknown role ${role}`,
      `one of: ${TRUST_ROLES.filter((r) => r !== 'root').join(', ')}`,
    );
  }
  if (existsSync(data.keyPath(name))) throw new CliError('USAGE', `a key named ${name} already exists`);
  const registry = data.registry();
  const roots = data.rootSigners(registry, rootKeyDir);
  const file = data.writeKey(name, [role as TrustRole], new Uint8Array(randomBytes(32)));
  const env = commitTrustEvent(
    registry,
    {
      kind: 'key_publish',
      publicKey: fromBase64Url(file.public_key) as Uint8Array,
      roles: [role as TrustRole],
    },
    roots,
  );
  data.appendTrustEvent(registry, env);
  return ok({ name, keyid: file.keyid, role, trust_seq: registry.seq }, [
    `Generated ${name} (${role}) ${file.keyid}, published at trust seq ${registry.seq}.`,
  ]);
}

export interface RevokeOpts {
  /** Name the registry key directly (`ed25519:<hex>`), instead of a key file. */
  keyid?: string;
  rootKeyDir?: string;
}

/**
 * Root-signed `key_revoke`. By name: the key `keys/<name>.json`'s seed stands for, followed along
 * the rotation chain to the live successor. By `--keyid`: exactly that registry key, which need
 * not have a file here (a successor an insider rotated a key to). Never a key holding root.
 */
export function keysRevoke(data: DataDir, name: string | undefined, opts: RevokeOpts = {}): CommandResult {
  data.requireInitialized();
  if ((name === undefined) === (opts.keyid === undefined))
    throw new CliError(
      'USAGE',
      'name the key to revoke either by its file name or by --keyid, not both',
      'helmts keys revoke executor | helmts keys revoke --keyid ed25519:<64 hex>',
    );
  if (opts.keyid !== undefined && !isKeyId(opts.keyid))
    throw new CliError('USAGE', '--keyid must be ed25519:<64 lowercase hex>', 'key ids: `helmts keys list`');
  const registry = data.registry();
  const target =
    name === undefined
      ? liveKey(registry, opts.keyid as string, 'exact')
      : liveKey(registry, data.localKey(name).signer.keyId, 'follow');
  const what = name === undefined ? `helmts keys revoke --keyid ${opts.keyid}` : `helmts keys revoke ${name}`;
  refuseRootTarget(target, what);
  const roots = data.rootSigners(registry, opts.rootKeyDir);
  const keyid = target.record.keyid;
  const roles = openRoles(target.record);
  // The files holding that key get status "revoked" (a note for humans; `keys list` asks the registry).
  const holders = data.localKeys().filter((k) => 'signer' in k && k.signer.keyId === keyid) as LocalKey[];
  data.appendTrustEvent(registry, commitTrustEvent(registry, { kind: 'key_revoke', keyid }, roots));
  for (const k of holders) data.writeKey(k.name, roles, k.seed, 'revoked');
  const label = name ?? keyid;
  return ok(
    {
      ...(name === undefined ? {} : { name }),
      keyid,
      roles,
      followed: target.chain,
      trust_seq: registry.seq,
      trust_head: registry.head,
    },
    [
      ...(name === undefined ? [] : followedLines(name, target.chain)),
      `Revoked ${label} (${keyid}, ${roles.join(',') || 'no roles'}) from trust seq ${registry.seq}. Signatures by it claiming that seq or a later one fail verification.`,
      `Verifiers pin this revocation with: --trust-head ${registry.seq}:${registry.head}`,
    ],
  );
}

export function policyValidate(path: string): CommandResult {
  const doc = readJsonFile(path) as { type?: string; payload?: string };
  try {
    if (doc.type === 'helm.policy.p0.v1') parseP0(doc);
    else if (doc.type === 'helm.policy.bundle.v1' && typeof doc.payload === 'string') {
      loadBundle(doc as never, () => undefined);
    } else if (doc.type === 'helm.policy.bundle.v1') {
      const s = createSigner(new Uint8Array(32));
      loadBundle(signEnvelope(doc as { type: string }, [s]), (k) =>
        k === s.keyId ? s.publicKey : undefined,
      );
    } else
      throw new CliError(
        'INVALID_INPUT',
        `unknown policy document type ${String(doc.type)}`,
        'expected helm.policy.p0.v1 or helm.policy.bundle.v1',
      );
  } catch (error) {
    if (error instanceof RuntimeError) throw error;
    return failed(
      {
        path,
        valid: false,
        error: { code: (error as { code?: string }).code, message: (error as Error).message },
      },
      [`${path}: INVALID — ${(error as Error).message}`],
    );
  }
  return ok({ path, valid: true, type: doc.type }, [`${path}: valid ${doc.type}`]);
}

export function policyHash(path: string): CommandResult {
  const d = digest(canonicalBytes(readJsonFile(path)));
  return ok({ path, digest: d }, [`${d}  ${path} (SHA-256 of its RFC 8785 JCS bytes)`]);
}

export function policySign(data: DataDir, path: string): CommandResult {
  data.requireInitialized();
  const doc = readJsonFile(path) as { type: string };
  const valid = policyValidate(path);
  if (valid.exitCode !== 0) return valid;
  if (doc.type !== 'helm.policy.bundle.v1') throw new CliError('INVALID_INPUT', 'only P1 bundles are signed');
  // Once a bundle is published through the log, the runtime decides under the last publication:
  // a file installed here would be silently superseded at the next open.
  const published = lastPublishedBundle(data);
  if (published !== undefined)
    throw new CliError(
      'POLICY_INVALID',
      `${published.name} version ${published.version} is published in the governance log and in force; a bundle installed in policy/ would not be: nothing was changed`,
      `publish the new version instead: \`${CLI_NAME} policy publish ${path}\``,
    );
  const signed = data.writePolicy(data.p0(), doc, data.signer('policy', 'policy'));
  return ok({ path, signed_by: signed.signatures[0]?.keyid, digest: digest(canonicalBytes(signed)) }, [
    `Signed ${path} with the policy key and installed it as the active P1 bundle.`,
  ]);
}

/**
 * `helmts policy publish <bundle.json>` (and `policy sign` with --database-url): the bundle — a
 * source document signed here with the policy key, or an envelope signed elsewhere — is appended
 * to the governance log as `policy.publish`; on a shared database every node puts it in force
 * before its next decision (docs/cli.md §Policy). An older, equal or differently named bundle is
 * refused (POLICY_INVALID), nothing appended.
 */
export async function policyPublish(data: DataDir, path: string): Promise<CommandResult> {
  data.requireInitialized();
  const valid = policyValidate(path);
  if (valid.exitCode !== 0) return valid;
  const doc = readJsonFile(path) as { type: string; payload?: unknown };
  if (doc.type !== 'helm.policy.bundle.v1')
    throw new CliError('INVALID_INPUT', 'only P1 bundles (helm.policy.bundle.v1) are published');
  const policy = data.signer('policy', 'policy');
  const bundle = (
    typeof doc.payload === 'string' ? doc : signEnvelope(doc as { type: string }, [policy])
  ) as SignedEnvelope;
  const event = await publishPolicyBundle(data, bundle, policy, Date.now());
  const head = parseJson(fromBase64Url(bundle.payload) ?? new Uint8Array(), 'the bundle payload') as {
    name: string;
    version: number;
  };
  const where = data.shared === undefined ? 'this data directory' : 'the shared database';
  return ok(
    {
      path,
      name: head.name,
      version: head.version,
      digest: digest(canonicalBytes(bundle)),
      event: { seq: event.seq, digest: event.digest, signer: event.signer },
    },
    [
      `Published ${head.name} version ${head.version} as governance event ${event.seq} on ${where}.`,
      'Every runtime on it puts the bundle in force before its next decision.',
    ],
  );
}

export function policyShow(data: DataDir): CommandResult {
  data.requireInitialized();
  const registry = data.registry();
  // The last bundle published through the governance log is the one in force (policy publish).
  const published = lastPublishedBundle(data);
  const signed = published?.bundle ?? data.signedBundle();
  const stack = loadPolicyStack({
    p0: data.p0(),
    bundles: [signed],
    trustedBundleKeys: registry.lookupFor('policy', registry.seq),
  });
  const bundle = parseJson(
    fromBase64Url(signed.payload) ?? new Uint8Array(),
    'the signed P1 bundle payload',
  ) as {
    name: string;
    version?: number;
    rules: { id: string; effect: string }[];
  };
  const source = published ? 'published (governance log)' : 'policy/bundle.signed.json';
  return ok(
    {
      p0: data.p0(),
      bundle,
      source: published ? 'published' : 'file',
      stack_hash: stack.stackHash,
    },
    [
      'Effective policy = P0 ∩ P1 (∩ P2 overlays, ∩ delegation scope):',
      `  P0: ${JSON.stringify(data.p0())}`,
      `  P1 ${bundle.name}${bundle.version === undefined ? '' : ` v${bundle.version}`} (${source}): ${bundle.rules.map((r) => `${r.id}=${r.effect}`).join(', ')}`,
      '  Everything not allowed by a rule is denied (NO_POLICY).',
    ],
  );
}

export interface RunOpts {
  tool: string;
  principal: string;
  credential?: string;
  args?: string;
  idempotencyKey?: string;
  session?: string;
  codeVerifier?: string;
}

export async function runCall(data: DataDir, opts: RunOpts): Promise<CommandResult> {
  data.requireInitialized();
  // Text with a lone surrogate in the string itself (argv never produces one; an in-process caller
  // can) could not be recorded in the chain's JSON and would break every later export: refuse it
  // before anything runs. An *escaped* lone surrogate ("\ud800") is ASCII text: the PEP refuses it.
  if (opts.args !== undefined && !isWellFormedText(opts.args)) {
    throw new CliError(
      'JSON_INVALID',
      '--args contains a lone surrogate (not well-formed Unicode); nothing was executed or recorded',
      STRICT_JSON_HINT,
    );
  }
  const config = data.config();
  const delegation = sessionPresentation(opts);
  // The lookup verifies the trust registry; the runtime's open reuses it (while it is the head).
  // On a shared database the bindings are read from one snapshot of its governance log.
  const lookup =
    opts.credential !== undefined ? undefined : data.shared ? await governanceSnapshot(data) : data;
  const registry = lookup === undefined || data.shared ? undefined : lookup.registry();
  const credential = opts.credential ?? (lookup && credentialOf(lookup, opts.principal, registry));
  return runRequest(
    data,
    {
      tool: opts.tool,
      principal: opts.principal,
      // The text goes to the executor unchanged: its strict PEP parses it (I-INPUT-1), and text
      // that is not strict JSON is a receipted ARGS_MALFORMED denial.
      ...(opts.args === undefined ? { args: {} } : { args_text: opts.args }),
      context: {
        environment_fingerprint: config.environment_fingerprint,
        ...(credential ? { credential_id: credential } : {}),
        ...(delegation ? { delegation } : {}),
      },
      ...(opts.idempotencyKey ? { idempotency_key: opts.idempotencyKey } : {}),
    },
    registry,
  );
}

/**
 * One governed call of a request object (`helmts run`, and `helmts run --challenge` with the request
 * that escalated); an escalated call reports its approval challenge and what must happen next.
 */
export async function runRequest(
  data: DataDir,
  request: Record<string, unknown>,
  registry?: TrustRegistry,
): Promise<CommandResult> {
  const clock = { now: () => Date.now() };
  const rt = await GovernedRuntime.open(data, registry === undefined ? { clock } : { clock, registry });
  try {
    const r = await rt.execute(request as never);
    const plain = runResult(r, String(request.tool), data);
    // Identity, egress and delegation denials name the command that changes the outcome.
    const hints = rulesHints(r.reason_code, request);
    const result = hints.length === 0 ? plain : { ...plain, human: [...plain.human, ...hints] };
    if (r.status !== 'ESCALATED' || !r.approval_challenge_id) return result;
    // The approval views read the embedded store: on a shared database only the challenge id.
    if (data.shared !== undefined) return result;
    // Held for approval: the challenge, and what must happen before the call can run.
    const held = escalation(data, r.approval_challenge_id);
    return failed({ ...result.json, ...held.json }, [...result.human, ...held.human]);
  } finally {
    await rt.close();
  }
}

type ExportOpts = { out?: string; from?: string; to?: string; condense?: boolean };

/** The output file and pack options of an export. */
function exportPlan(data: DataDir, opts: ExportOpts) {
  data.requireInitialized();
  const chain = data.config().chain_id;
  // The default output file is named after the chain id, which a data-dir writer controls.
  const out = opts.out ? resolve(opts.out) : namedPath(process.cwd(), 'chain id', chain, '.tar', 'evidence-');
  const from = parseIntOpt(opts.from, '--from');
  const to = parseIntOpt(opts.to, '--to');
  const options = {
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    ...(opts.condense ? { condense: true } : {}),
  };
  return { out, options };
}

function exported(data: DataDir, out: string, pack: WrittenPack): CommandResult {
  return ok({ path: out, sha256: pack.digest, bytes: pack.bytes, manifest: pack.manifest }, [
    `Exported ${pack.manifest.counts.receipts} receipts (Lamport ${pack.manifest.scope.from_lamport}..${pack.manifest.scope.to_lamport}) to ${out}`,
    `  ${pack.bytes} bytes, ${pack.digest}`,
    `Next: helmts verify ${out} --trust-anchor ${data.config().trust_anchor}`,
  ]);
}

/** `helmts export` on the data directory's embedded store. */
export function exportCommand(data: DataDir, opts: ExportOpts): CommandResult {
  const { out, options } = exportPlan(data, opts);
  // Streamed to the file (never held whole in memory); written beside it and renamed when complete.
  return exported(data, out, exportPackFile(data, out, options));
}

/**
 * `helmts export` of a node: on a shared database the node's chain is read from it (the same bytes
 * as the embedded export), else exportCommand.
 */
export async function exportNodeCommand(data: DataDir, opts: ExportOpts): Promise<CommandResult> {
  if (data.shared === undefined) return exportCommand(data, opts);
  const { out, options } = exportPlan(data, opts);
  return exported(data, out, await exportPackFileFrom(data, data.shared, out, options));
}

/** What the verifier expects of the pack's tail: `--expect-head sha256:<hex>`, `--expect-lamport N`. */
interface ExpectOpts {
  expectHead?: string;
  expectLamport?: string;
}

function expectations(opts: ExpectOpts): { expectHead?: string; expectLamport?: number } {
  if (opts.expectHead !== undefined && !/^sha256:[0-9a-f]{64}$/.test(opts.expectHead))
    throw new CliError('USAGE', '--expect-head must be sha256:<64 lowercase hex> (a receipt hash)');
  let lamport: number | undefined;
  if (opts.expectLamport !== undefined) {
    lamport = /^[0-9]+$/.test(opts.expectLamport) ? Number(opts.expectLamport) : Number.NaN;
    if (!Number.isSafeInteger(lamport))
      throw new CliError('USAGE', '--expect-lamport must be a non-negative integer');
  }
  return {
    ...(opts.expectHead === undefined ? {} : { expectHead: opts.expectHead }),
    ...(lamport === undefined ? {} : { expectLamport: lamport }),
  };
}

export interface FreshnessOpts {
  trustAnchor?: string;
  minTrustSeq?: string;
  trustHead?: string;
}

/**
 * The trust anchor and freshness pin a verification runs with (docs/cli.md "Trust freshness"):
 * `--trust-head <seq>:<digest>` pins by flag (with any `--min-trust-seq`); otherwise a data
 * directory in use (--data-dir, $HELM_HOME or ./.helm, initialized) pins its own registry head —
 * and supplies its anchor when none is given — unless `--trust-anchor` names another registry. A
 * `--min-trust-seq` adds to that head pin, never replaces it: a minimum seq alone refuses a stale
 * registry but not a fork, which any key once valid in it can write by self-rotation (§5.3).
 * Otherwise the minimum seq alone, or unpinned.
 */
export function trustPins(
  opts: FreshnessOpts,
  data: DataDir | undefined,
): Pick<VerifyOptions, 'trustAnchor' | 'minTrustSeq' | 'trustHead' | 'pinSource'> & { dataDir?: string } {
  let trustHead: TrustHeadPin | undefined;
  if (opts.trustHead !== undefined) {
    trustHead = parseTrustHeadPin(opts.trustHead);
    if (trustHead === undefined)
      throw new CliError(
        'USAGE',
        '--trust-head must be <seq>:sha256:<64 lowercase hex> (a registry head and its seq)',
        'print your registry head with `helmts trust head`',
      );
  }
  // A malformed anchor is a typo on the command line, not evidence of tampering: refuse it here,
  // before the verifier could report the pack as not matching it.
  if (opts.trustAnchor !== undefined && !isDigest(opts.trustAnchor))
    throw new CliError(
      'USAGE',
      '--trust-anchor must be sha256:<64 lowercase hex> (the trust registry genesis digest)',
      'the operator prints it with `helmts trust head` (also shown by `helmts init` and `helmts export`)',
    );
  const minTrustSeq = parseIntOpt(opts.minTrustSeq, '--min-trust-seq');
  const anchor = opts.trustAnchor ? { trustAnchor: opts.trustAnchor } : {};
  const minimum = minTrustSeq === undefined ? {} : { minTrustSeq };
  const byFlag = { ...anchor, ...minimum, pinSource: 'flag' as const };
  if (trustHead !== undefined) return { ...byFlag, trustHead };
  const own = data?.exists() ? data.config().trust_anchor : undefined;
  if (data === undefined || own === undefined || (opts.trustAnchor !== undefined && opts.trustAnchor !== own))
    return minTrustSeq === undefined ? anchor : byFlag;
  const registry = data.registry();
  return {
    trustAnchor: own,
    trustHead: { seq: registry.seq, head: registry.head },
    ...minimum,
    pinSource: 'data-dir',
    dataDir: data.dir,
  };
}

export async function verifyCommand(
  path: string,
  opts: { workers?: string; json?: boolean } & FreshnessOpts & ExpectOpts,
  data?: DataDir,
): Promise<CommandResult> {
  const expect = expectations(opts);
  const { dataDir, ...pins } = trustPins(opts, data);
  if (!existsSync(path)) throw new CliError('FILE_NOT_FOUND', `no such file: ${path}`);
  const bar = progressBar({ json: opts.json ?? false });
  const workers = opts.workers === undefined ? undefined : Number(opts.workers);
  const report = await verifyEvidencePackFile(path, {
    ...expect,
    ...pins,
    ...(workers === undefined || !Number.isSafeInteger(workers) ? {} : { workers }),
    onProgress: (phase, done, total) => bar.update(phase, done, total),
  });
  const human = [formatReport(report)];
  if (dataDir !== undefined)
    human.push(
      `Trust anchor and head taken from the data directory ${dataDir}; verify another registry's pack with its --trust-anchor.`,
    );
  if (report.status === 'UNVERIFIABLE' && !pins.trustAnchor)
    human.push('Pin the expected trust anchor with --trust-anchor sha256:<hex> to reach PASS.');
  const body = { report, ...(dataDir === undefined ? {} : { data_dir: dataDir }) };
  return report.status === 'PASS' ? ok(body, human) : failed(body, human);
}

/** The registry head verifiers pin freshness to (`--trust-head`), with the anchor. */
export function trustHeadCommand(data: DataDir): CommandResult {
  data.requireInitialized();
  const registry = data.registry();
  const anchor = data.config().trust_anchor;
  const pin = `${registry.seq}:${registry.head}`;
  return ok({ trust_anchor: anchor, trust_seq: registry.seq, trust_head: registry.head, pin }, [
    `trust anchor ${anchor}`,
    `registry head at seq ${registry.seq}: ${registry.head}`,
    `Verifiers pin freshness with: helmts verify <pack> --trust-anchor ${anchor} --trust-head ${pin}`,
    'Record this value outside the data directory (a ticket, a monitor, a witness): a pin read back from a data directory is only as fresh as that directory.',
  ]);
}

/**
 * Re-run the data directory's recorded requests through a fresh guardian and executor. A
 * divergence is reported field by field (JSON Pointer, recorded → replayed), not as two receipts.
 */
export async function reexecuteCommand(data: DataDir): Promise<CommandResult> {
  const r = await reexecute(data);
  const divergences = r.divergences.map((d) => {
    const differences = d.reason === undefined ? jsonDiff(d.recorded, d.replayed) : [];
    return {
      lamport: d.lamport,
      field: d.field,
      ...(d.reason === undefined ? {} : { reason: d.reason }),
      differences:
        d.reason !== undefined || differences.length > 0
          ? differences
          : // Equal signed bodies in different envelopes: only the signatures differ.
            [{ path: '/signatures', recorded: 'differs', replayed: 'differs' }],
    };
  });
  const reexecution = { ...r, divergences };
  const human = r.ok
    ? [
        `re-execution: ${r.identical}/${r.calls} receipts byte-identical (${r.events} approval/delegation events replayed)`,
      ]
    : [
        `re-execution: ${r.divergences.length} divergence(s) in ${r.calls} calls (${r.identical} identical)`,
        ...divergences
          .slice(0, 10)
          .flatMap((d) =>
            d.reason !== undefined
              ? [`  Lamport ${d.lamport} ${d.field}: not re-executed: ${d.reason}`]
              : [
                  `  Lamport ${d.lamport} ${d.field}:`,
                  ...d.differences.map((f) => `    ${formatDifference(f)}`),
                ],
          ),
        ...(divergences.length > 10
          ? [`  … and ${divergences.length - 10} more (--json lists them all)`]
          : []),
      ];
  return r.ok ? ok({ reexecution }, human) : failed({ reexecution }, human);
}

/** Offline replay; the pack is verified first, and a pack that does not verify exits 1. */
export function replayCommand(
  path: string,
  opts: FreshnessOpts & ExpectOpts = {},
  data?: DataDir,
): CommandResult {
  const expect = expectations(opts);
  const { dataDir: _dataDir, ...pins } = trustPins(opts, data);
  if (!existsSync(path)) throw new CliError('FILE_NOT_FOUND', `no such file: ${path}`);
  const r = replayEvidencePack(new Uint8Array(readFileSync(path)), { ...expect, ...pins });
  const human = [
    r.summary,
    ...r.divergences
      .slice(0, 20)
      .map(
        (d) =>
          `  Lamport ${d.lamport}: ${d.field}: recorded ${JSON.stringify(d.recorded)} vs replayed ${JSON.stringify(d.replayed)}`,
      ),
  ];
  return r.ok ? ok({ replay: r }, human) : failed({ replay: r }, human);
}

export function registerCommands(program: Command, wrap: Wrap): void {
  const json = ['--json', 'machine-readable output'] as const;
  program
    .command('init')
    .description('create a data directory: keys, trust root, default policy')
    .option('--root-keys <n>', 'root keys in the trust genesis (default 1)')
    .option('--root-threshold <m>', 'root signatures every trust registry change needs (default 1)')
    .option(
      '--root-key-dir <dir>',
      'write the root keys here, outside the data directory, to keep them offline',
    )
    .option(...json)
    .action(wrap((o: InitOpts, cmd: Command) => initCommand(dataDirOf(cmd).dir, o)));
  const keys = program.command('keys').description('manage signing keys (generate, list, rotate, revoke)');
  keys
    .command('list')
    .option(...json)
    .action(wrap((_o: JsonOpt, cmd: Command) => withDataDir(cmd, (d) => keysList(d))));
  keys
    .command('generate <name>')
    .requiredOption('--role <role>', 'executor | guardian | approver | checkpoint | policy')
    .option('--root-key-dir <dir>', 'directory holding the (offline) root keys (default: <data-dir>/keys)')
    .option(...json)
    .action(
      wrap((name: string, o: { role: string; rootKeyDir?: string }, cmd: Command) =>
        withDataDir(cmd, (d) => keysGenerate(d, name, o.role, o.rootKeyDir)),
      ),
    );
  keys
    .command('rotate <name>')
    .description(
      'replace a key: root-signed, the old key is invalid from the new trust seq on (a policy key re-signs the policy in force); `rotate root`: the root key ceremony',
    )
    .option('--root-key-dir <dir>', 'directory holding the (offline) root keys (default: <data-dir>/keys)')
    .option('--confirm', '`rotate root` only: perform the ceremony (without it: explain it, change nothing)')
    .option(...json)
    .action(
      wrap((name: string, o: RotateRootOpts, cmd: Command) => {
        if (!databaseNamed(cmd)) return withDataDir(cmd, (d) => keysRotateCommand(d, name, o));
        // The directory's own registry is rotated, then published (not through the shared view).
        const { data, databaseUrl } = nodeOf(cmd);
        return keysRotateOnDatabase(data, name, databaseUrl as string, o).finally(() => data.close());
      }),
    );
  keys
    .command('revoke [name]')
    .description('revoke a key: root-signed, invalid from the new trust seq on (never a root key)')
    .option(
      '--keyid <id>',
      'revoke this registry key (ed25519:<hex>) instead of a key file, e.g. one with no file here',
    )
    .option('--root-key-dir <dir>', 'directory holding the (offline) root keys (default: <data-dir>/keys)')
    .option(...json)
    .action(
      wrap((name: string | undefined, o: RevokeOpts, cmd: Command) =>
        withDataDir(cmd, (d) => keysRevoke(d, name, o)),
      ),
    );
  const trust = program.command('trust').description('the trust registry verifiers pin');
  trust
    .command('head')
    .description('print the registry head (seq and digest) for `verify --trust-head`')
    .option(...json)
    .action(wrap((_o: JsonOpt, cmd: Command) => withDataDir(cmd, (d) => trustHeadCommand(d))));
  const policy = program.command('policy').description('validate, hash, sign and show policies');
  policy
    .command('validate <file>')
    .option(...json)
    .action(wrap((file: string) => policyValidate(file)));
  policy
    .command('hash <file>')
    .option(...json)
    .action(wrap((file: string) => policyHash(file)));
  policy
    .command('sign <file>')
    .description('sign a P1 bundle and install it (with --database-url: publish it to every node)')
    .option(...json)
    .action(
      wrap((file: string, _o: JsonOpt, cmd: Command) =>
        databaseNamed(cmd)
          ? withGovernanceDir(cmd, (d) => policyPublish(d, file))
          : withDataDir(cmd, (d) => policySign(d, file)),
      ),
    );
  policy
    .command('publish <file>')
    .description(
      'publish a P1 bundle (source or signed) through the governance log: every node runs it before its next decision',
    )
    .option(...json)
    .action(
      wrap((file: string, _o: JsonOpt, cmd: Command) =>
        withGovernanceDir(cmd, (d) => policyPublish(d, file)),
      ),
    );
  policy
    .command('show')
    .description('show the effective policy')
    .option(...json)
    .action(wrap((_o: JsonOpt, cmd: Command) => withGovernanceDir(cmd, (d) => policyShow(d))));
  registerToolCommands(program, wrap);
  program
    .command('run')
    .description('one governed call (or, with --challenge, the approved call of a challenge, once)')
    .option('--tool <name>', 'registered tool')
    .option('--principal <id>', 'who is calling')
    .option('--credential <id>', 'credential id bound to the principal')
    .option('--args <json>', 'tool arguments as JSON')
    .option('--idempotency-key <key>', 'repeat-safe key')
    .option('--session <id>', 'act as the delegate of this delegation session (helmts delegate create)')
    .option('--code-verifier <v>', "the session's PKCE code verifier (or $HELM_CODE_VERIFIER)")
    .option('--challenge <id>', 'run the call this approval challenge holds, once its approvals are in')
    .option(...json)
    .action(
      wrap(
        (
          o: {
            tool?: string;
            principal?: string;
            credential?: string;
            args?: string;
            idempotencyKey?: string;
            challenge?: string;
            session?: string;
            codeVerifier?: string;
          },
          cmd: Command,
        ) => {
          if (o.challenge !== undefined) {
            if (
              o.tool !== undefined ||
              o.principal !== undefined ||
              o.args !== undefined ||
              o.credential !== undefined ||
              o.session !== undefined
            )
              throw new CliError(
                'USAGE',
                '--challenge runs the recorded call: give no --tool, --principal, --args, --credential or --session',
              );
            const id = o.challenge;
            // On a database the challenge's view is read from one snapshot of its governance state;
            // the call runs on the database (the grant is consumed once cluster-wide).
            return withNodeStore(cmd, async (d) =>
              runChallenge(await governanceSnapshot(d), id, (request) => runRequest(d, request)),
            );
          }
          if (o.tool === undefined || o.principal === undefined)
            throw new CliError(
              'USAGE',
              'run needs --tool and --principal (or --challenge <id>)',
              'helmts run --tool echo --principal local --args \'{"x":1}\'',
            );
          const call = { ...o, tool: o.tool, principal: o.principal };
          return withNodeStore(cmd, (d) => runCall(d, call));
        },
      ),
    );
  registerApprovalCommands(program, wrap, withGovernanceDir);
  registerDelegateCommands(program, wrap);
  registerIdentityCommands(program, wrap);
  registerEgressCommands(program, wrap);
  registerMcpCommands(program, wrap);
  program
    .command('export')
    .description('export the chain (or a Lamport range) as a deterministic EvidencePack')
    .option('-o, --out <file>', 'output .tar')
    .option('--from <lamport>', 'first Lamport value')
    .option('--to <lamport>', 'last Lamport value')
    .option('--condense', 'replace LOW receipts by Merkle inclusion proofs against a signed checkpoint')
    .option(...json)
    .action(
      wrap((o: { out?: string; from?: string; to?: string; condense?: boolean }, cmd: Command) =>
        withNodeStore(cmd, (d) => exportNodeCommand(d, o)),
      ),
    );
  program
    .command('verify <pack>')
    .description('verify an EvidencePack offline')
    .option('--trust-anchor <digest>', 'the trust registry genesis digest you expect')
    .option('--workers <n>', 'worker threads for receipt signatures (0 = none)')
    .option('--expect-head <hash>', 'the chain head (receipt hash) the pack must end at')
    .option('--expect-lamport <n>', 'the Lamport value the pack must end at')
    .option(
      '--min-trust-seq <n>',
      "freshness: the pack's trust registry must reach this seq (refuses staleness, not a fork: combine with a head pin)",
    )
    .option(
      '--trust-head <seq:digest>',
      "freshness: the pack's trust registry must continue this head (`helmts trust head`); default with a data directory: its head",
    )
    .option('--checkpoint <file>', 'a C2SP checkpoint note cosigned by witnesses (with --witness)')
    .option(
      '--witness <vkey>',
      "a trusted witness's verifier key (repeatable)",
      (v: string, p: string[] = []) => [...p, v],
    )
    .option('--quorum <n>', 'how many of the --witness keys must have cosigned --checkpoint (default 1)')
    .option(...json)
    .action(
      wrap(
        (
          file: string,
          o: { workers?: string; json?: boolean } & FreshnessOpts & ExpectOpts & WitnessVerifyOpts,
          cmd: Command,
        ) => withDataDir(cmd, (d) => withWitnesses(file, o, () => verifyCommand(file, o, d))),
      ),
    );
  program
    .command('replay [pack]')
    .description('replay an EvidencePack offline, or (--reexecute) re-run the data dir through the guardian')
    .option(
      '--reexecute',
      're-run the recorded requests of the data directory and compare receipts byte for byte',
    )
    .option('--trust-anchor <digest>', 'the trust registry genesis digest you expect (offline replay)')
    .option('--expect-head <hash>', 'the chain head (receipt hash) the pack must end at')
    .option('--expect-lamport <n>', 'the Lamport value the pack must end at')
    .option(
      '--min-trust-seq <n>',
      "freshness: the pack's trust registry must reach this seq (refuses staleness, not a fork: combine with a head pin)",
    )
    .option(
      '--trust-head <seq:digest>',
      "freshness: the pack's trust registry must continue this head (`helmts trust head`); default with a data directory: its head",
    )
    .option(...json)
    .action(
      wrap(
        (file: string | undefined, o: { reexecute?: boolean } & FreshnessOpts & ExpectOpts, cmd: Command) => {
          if (o.reexecute) return withDataDir(cmd, (d) => reexecuteCommand(d));
          if (!file)
            throw new CliError('USAGE', 'give a pack to replay, or --reexecute', 'helmts replay pack.tar');
          return withDataDir(cmd, (d) => replayCommand(file, o, d));
        },
      ),
    );
  registerBudgetCommands(program, wrap);
  registerReceiptPolicyCommands(program, wrap);
  registerServeCommands(program, wrap);
}
