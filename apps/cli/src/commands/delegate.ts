// `helmts delegate create|list|revoke`: delegation sessions (Gate 5, docs/spec/delegation.md). A
// session lets a delegate act for a delegator within explicit grants, for a TTL the P0 ceiling
// caps, bound by PKCE to whoever holds the code verifier. Create and revoke are signed governance
// events (role `policy`) appended without opening the governed runtime; a running runtime applies
// them before its next decision — so a revocation takes effect there before the next call.
// `helmts run --session <id> --code-verifier <v>` presents a session (a fresh nonce per call).
import {
  type DataDir,
  delegateCreate,
  delegateRevoke,
  delegationList,
  grantsFrom,
  identityList,
  parseTtl,
  presentation,
} from '@helm/runtime';
import type { Command } from 'commander';
import { CliError, type CommandResult, ok } from '../errors.js';
import { adminSigner, appendedLines, collect, type Wrap } from './admin.js';
import { withGovernanceDir } from './data.js';
import { eventJson } from './identity.js';

export interface DelegateCreateOpts {
  delegator: string;
  delegate: string;
  ttl: string;
  tool?: string[];
  action?: string;
  resource?: string;
  resourcePrefix?: string;
  effectType?: string[];
  grant?: string[];
  tenant?: string;
  codeChallenge?: string;
  mfaVerified?: boolean;
  key?: string;
}

export function delegateCreateCommand(
  data: DataDir,
  opts: DelegateCreateOpts,
  at: number = Date.now(),
): CommandResult {
  data.requireInitialized();
  const grants = grantsFrom(data, {
    ...(opts.tool === undefined ? {} : { tools: opts.tool }),
    ...(opts.action === undefined ? {} : { action: opts.action }),
    ...(opts.resource === undefined ? {} : { resource: opts.resource }),
    ...(opts.resourcePrefix === undefined ? {} : { resourcePrefix: opts.resourcePrefix }),
    ...(opts.effectType === undefined ? {} : { effectTypes: opts.effectType }),
    ...(opts.grant === undefined ? {} : { grants: opts.grant }),
  });
  const signer = adminSigner(data, opts.key);
  const { session, code_verifier, event } = delegateCreate(
    data,
    {
      delegator: opts.delegator,
      delegate: opts.delegate,
      ...(opts.tenant === undefined ? {} : { tenant: opts.tenant }),
      grants,
      ttl_ms: parseTtl(opts.ttl),
      ...(opts.codeChallenge === undefined ? {} : { code_challenge: opts.codeChallenge }),
      mfa_verified: opts.mfaVerified === true,
    },
    signer.signer,
    at,
  );
  return ok({ session, code_verifier, event: eventJson(event) }, [
    `Created session ${session.session_id}`,
    `  ${session.delegate} may act for ${session.delegator}${session.tenant === null ? '' : ` in tenant ${session.tenant}`} until ${new Date(session.expires_at_ms).toISOString()}, within:`,
    ...session.grants.map((g) => `    ${JSON.stringify(g)}`),
    ...(code_verifier === null
      ? ['  bound to the code challenge you gave: the delegate presents its verifier.']
      : [`  code verifier (give it to the delegate, it is stored nowhere): ${code_verifier}`]),
    ...appendedLines(event, signer.name),
    ...(identityList(data).bindings.some((b) => b.principal === session.delegate)
      ? []
      : [
          `  note: ${session.delegate} has no bound credential yet, so its calls are denied at the identity gate: helmts identity add <credential> --principal ${session.delegate}`,
        ]),
    `Next (as the delegate): helmts run --tool ${onlyTool(session.grants) ?? '<tool>'} --principal ${session.delegate} --session ${session.session_id} --code-verifier <verifier>`,
  ]);
}

/** The tool of the grants when they name exactly one (for the example command line). */
function onlyTool(grants: readonly { tool: { eq?: unknown } }[]): string | undefined {
  const tools = new Set(grants.map((g) => g.tool.eq));
  const [tool] = tools;
  return tools.size === 1 && typeof tool === 'string' ? tool : undefined;
}

export function delegateListCommand(
  data: DataDir,
  opts: { all?: boolean },
  now: number = Date.now(),
): CommandResult {
  data.requireInitialized();
  const all = delegationList(data, now);
  const shown = opts.all ? all : all.filter((v) => v.status === 'active' || v.status === 'not_yet_valid');
  return ok(
    {
      sessions: shown.map((v) => ({
        ...v.session,
        status: v.status,
        ...(v.why ? { why: v.why } : {}),
        ...(v.revoked ? { revoked: v.revoked } : {}),
      })),
    },
    [
      shown.length === 0
        ? `No ${opts.all ? '' : 'active '}delegation sessions.${opts.all ? '' : ' (--all lists expired, revoked and refused ones too)'}`
        : `Delegation sessions${opts.all ? '' : ' (active; --all for every one)'}:`,
      ...shown.map(
        (v) =>
          `  ${v.session.session_id}  ${v.session.delegate} for ${v.session.delegator}  ${v.status}${
            v.status === 'refused' ? ` (${v.why})` : ''
          }  until ${new Date(v.session.expires_at_ms).toISOString()}  ${v.session.grants.length} grant(s)`,
      ),
    ],
  );
}

export function delegateRevokeCommand(
  data: DataDir,
  sessionId: string,
  opts: { reason?: string; key?: string },
  at: number = Date.now(),
): CommandResult {
  data.requireInitialized();
  const signer = adminSigner(data, opts.key);
  const event = delegateRevoke(data, sessionId, opts.reason, signer.signer, at);
  return ok({ session_id: sessionId, event: eventJson(event) }, [
    `Revoked session ${sessionId}: calls presenting it are denied DELEGATION_INVALID.`,
    ...appendedLines(event, signer.name),
  ]);
}

/**
 * The `context.delegation` of `helmts run --session <id>`: the verifier from `--code-verifier` or
 * $HELM_CODE_VERIFIER (which keeps it out of the process list), a fresh nonce per call.
 */
export function sessionPresentation(opts: { session?: string; codeVerifier?: string }) {
  if (opts.session === undefined) {
    if (opts.codeVerifier !== undefined)
      throw new CliError(
        'USAGE',
        '--code-verifier goes with --session',
        'helmts run … --session <id> --code-verifier <v>',
      );
    return undefined;
  }
  const verifier = opts.codeVerifier ?? process.env.HELM_CODE_VERIFIER;
  if (verifier === undefined)
    throw new CliError(
      'USAGE',
      "--session needs the session's code verifier",
      'pass --code-verifier <v> or set HELM_CODE_VERIFIER (the verifier `helmts delegate create` printed)',
    );
  return presentation(opts.session, verifier);
}

/** What `helmts run` adds after a denial by the identity, egress or delegation gate: what to do. */
export function rulesHints(reason: string, request: Record<string, unknown>): string[] {
  const context = (request.context ?? {}) as { credential_id?: unknown; delegation?: unknown };
  const opts = {
    principal: String(request.principal),
    credential: typeof context.credential_id === 'string' ? context.credential_id : undefined,
    session: context.delegation === undefined ? undefined : 'presented',
  };
  if (reason === 'GATE_IDENTITY_ISOLATION')
    return [
      opts.credential === undefined
        ? `hint: no credential is bound to principal ${opts.principal}: bind one with \`helmts identity add <credential> --principal ${opts.principal}\``
        : `hint: credential ${opts.credential} is not bound to principal ${opts.principal} (for this tenant): see \`helmts identity list\``,
    ];
  if (reason === 'GATE_EGRESS_DENIED')
    return [
      "hint: the tool's destination is not on the egress allowlist: see `helmts egress list`, allow it with `helmts egress allow <host> --protocol <p> --port <n>`",
    ];
  if (
    (reason === 'DELEGATION_INVALID' || reason === 'DELEGATION_SCOPE_VIOLATION') &&
    opts.session !== undefined
  )
    return [
      reason === 'DELEGATION_INVALID'
        ? 'hint: the session is unknown, revoked, expired, not for this principal or tenant, or the verifier does not match: see `helmts delegate list --all`'
        : "hint: no grant of the session covers this call (or the delegator's authority no longer does): see `helmts delegate list`",
    ];
  return [];
}

export function registerDelegateCommands(program: Command, wrap: Wrap): void {
  const json = ['--json', 'machine-readable output'] as const;
  const key = [
    '--key <name>',
    'key file (keys/<name>.json) that signs the edit; it must hold role policy (default: policy)',
  ] as const;
  const delegate = program
    .command('delegate')
    .description('delegation sessions (Gate 5): create, list, revoke — scope, TTL, PKCE');
  delegate
    .command('create')
    .description('let a delegate act for a delegator within explicit grants, for a TTL')
    .requiredOption('--delegator <principal>', 'whose authority is delegated')
    .requiredOption('--delegate <principal>', 'who may act (the principal of the delegated calls)')
    .requiredOption('--ttl <duration>', 'lifetime: 90s, 15m, 1h … (at most P0 max_delegation_ttl_ms)')
    .option('--tool <name>', 'grant: this registered tool (repeatable: one grant over them all)', collect)
    .option('--action <action>', 'narrow the --tool grant to this action')
    .option('--resource <resource>', 'narrow the --tool grant to this exact resource')
    .option(
      '--resource-prefix <prefix>',
      'narrow the --tool grant to resources under this prefix (ends with /)',
    )
    .option(
      '--effect-type <class>',
      "the --tool grant's effect class (repeatable; default: the descriptors')",
      collect,
    )
    .option(
      '--grant <json>',
      'a full grant {tool, action?, resource?, effect_type?} of matchers (repeatable)',
      collect,
    )
    .option('--tenant <id>', 'the tenant the session acts in (default: none)')
    .option(
      '--code-challenge <s256>',
      "the delegate's PKCE S256 challenge (default: a verifier is generated and printed once)",
    )
    .option(
      '--mfa-verified',
      'the delegator passed MFA for this session (P0 may require it; recorded in the signed event)',
    )
    .option(...key)
    .option(...json)
    .action(
      wrap((o: DelegateCreateOpts, cmd: Command) =>
        withGovernanceDir(cmd, (d) => delegateCreateCommand(d, o)),
      ),
    );
  delegate
    .command('list')
    .description('active sessions (--all: expired, revoked and refused ones too)')
    .option('--all', 'every session')
    .option(...json)
    .action(
      wrap((o: { all?: boolean }, cmd: Command) => withGovernanceDir(cmd, (d) => delegateListCommand(d, o))),
    );
  delegate
    .command('revoke <session-id>')
    .description('revoke a session (effective in a running runtime before its next decision)')
    .option('--reason <text>', 'why (recorded in the signed event)')
    .option(...key)
    .option(...json)
    .action(
      wrap((id: string, o: { reason?: string; key?: string }, cmd: Command) =>
        withGovernanceDir(cmd, (d) => delegateRevokeCommand(d, id, o)),
      ),
    );
}
