// Approvals from the command line (docs/cli.md §Approvals): list, show and export held calls,
// approve or deny them with an approver key file — here, or on another machine with --sign-only /
// --import — and run an approved call once with `helmts run --challenge <id>`.
//
// Every command here leaves the governed runtime alone (no runtime.lock): reads go straight to the
// store, and approvals and denials are governance events appended in one short transaction, so they
// work while `helmts serve` or `helmts mcp` holds the data directory; the runtime applies them before
// its next decision (docs/spec/governance-event.md).
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SignedEnvelope } from '@helm/contracts';
import {
  APPROVAL_REQUEST_TYPE,
  appendGovernanceEvent,
  approvalRequestFile,
  approvalStatement,
  type ChallengeView,
  challengeViewById,
  challengeViews,
  type DataDir,
  importGovernanceEvent,
  RuntimeError,
  type RuntimeErrorCode,
  readApprovalRequest,
  readJsonFile,
  signerFromKeyFile,
  signGovernanceEvent,
  storedChallenge,
  verifiedChallenge,
} from '@helm/runtime';
import type { Command } from 'commander';
import { CliError, type CommandResult, failed, ok } from '../errors.js';

type Wrap = <A extends unknown[]>(
  handler: (...args: A) => Promise<CommandResult> | CommandResult,
) => (...args: A) => Promise<void>;

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Refusals of an approval, a denial or a held run: the command did its job and the answer is no
 * (exit 1, like a denied call), as opposed to usage and input errors (exit 2).
 */
const REFUSALS: ReadonlySet<RuntimeErrorCode> = new Set([
  'KEY_NOT_VALID',
  'CHALLENGE_CLOSED',
  'CHALLENGE_PENDING',
  'APPROVAL_DUPLICATE',
  'GOVERNANCE_EVENT_INVALID',
  'GOVERNANCE_LOG_INVALID',
]);

function refused(error: unknown, extra: Record<string, unknown> = {}): CommandResult {
  if (!(error instanceof RuntimeError) || !REFUSALS.has(error.code)) throw error;
  return failed(
    {
      ...extra,
      error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) },
    },
    [`refused (${error.code}): ${error.message}`, ...(error.hint ? [`hint: ${error.hint}`] : [])],
  );
}

function summary(v: ChallengeView) {
  const c = v.challenge;
  return {
    challenge_id: v.challenge_id,
    state: v.state,
    tool: c.tool,
    principal: c.principal,
    tenant: c.tenant,
    rule_id: c.rule_id,
    role: c.role,
    approvals: v.approvals,
    quorum: v.quorum,
    needed: v.needed,
    emergency_approvals: v.emergency_approvals,
    emergency_quorum: v.emergency_quorum,
    created_at_ms: c.created_at_ms,
    not_before_ms: v.not_before_ms,
    expires_at_ms: v.expires_at_ms,
  };
}

/** What must happen next for a challenge, as commands. */
export function nextSteps(v: ChallengeView): string[] {
  const id = v.challenge_id;
  switch (v.state) {
    case 'pending':
      return [
        `helmts approvals show ${id}`,
        `helmts approve ${id} --key <approver key file>   (${v.needed} more distinct approver(s) with role ${v.challenge.role})`,
        `helmts deny ${id} --key <approver key file>`,
        `then: helmts run --challenge ${id}`,
      ];
    case 'timelocked':
      return [`helmts run --challenge ${id}   (from ${iso(v.not_before_ms)}: the timelock runs until then)`];
    case 'approved':
      return [`helmts run --challenge ${id}   (runs the approved call once)`];
    default:
      return ['run the call again to ask for a new approval'];
  }
}

function stateLine(v: ChallengeView): string {
  switch (v.state) {
    case 'pending':
      return `pending: ${v.approvals}/${v.quorum} approvals, ${v.needed} more needed; expires ${iso(v.expires_at_ms)}`;
    case 'timelocked':
      return `approved ${v.approvals}/${v.quorum}; timelocked until ${iso(v.not_before_ms)}`;
    case 'approved':
      return `approved ${v.approvals}/${v.quorum}: runnable once until ${iso(v.expires_at_ms)}`;
    case 'denied':
      return 'denied by an approver';
    case 'expired':
      return `expired at ${iso(v.expires_at_ms)}`;
    case 'consumed':
      return 'used: the approved call ran';
    case 'invalid':
      return 'not verifiable: its guardian signature does not verify under a guardian key of this registry';
  }
}

/** The lines and JSON `helmts run` adds for an escalated call: the challenge and what to do next. */
export function escalation(
  data: DataDir,
  challengeId: string,
): { json: Record<string, unknown>; human: string[] } {
  const v = challengeViewById(data, challengeId, Date.now());
  const next = nextSteps(v);
  return {
    json: { challenge: summary(v), next },
    human: [
      `held for approval: challenge ${challengeId}`,
      `  rule ${v.challenge.rule_id}: ${v.quorum} approval(s) with role ${v.challenge.role}; timelock until ${iso(v.not_before_ms)}; expires ${iso(v.expires_at_ms)}`,
      `  state: ${stateLine(v)}`,
      'Next:',
      ...next.map((n) => `  ${n}`),
    ],
  };
}

export function approvalsList(data: DataDir, opts: { all?: boolean } = {}): CommandResult {
  data.requireInitialized();
  const views = challengeViews(data, Date.now());
  const open = (v: ChallengeView) =>
    v.state === 'pending' || v.state === 'timelocked' || v.state === 'approved';
  const shown = opts.all ? views : views.filter(open);
  const hidden = views.length - shown.length;
  return ok({ challenges: shown.map(summary), closed_hidden: hidden }, [
    shown.length === 0
      ? `No ${opts.all ? '' : 'open '}approval challenges in ${data.dir}.`
      : `Approval challenges in ${data.dir}:`,
    ...shown.map(
      (v) =>
        `  ${v.challenge_id}  ${v.state.padEnd(10)} ${v.approvals}/${v.quorum}  ${v.challenge.tool} by ${v.challenge.principal}  expires ${iso(v.expires_at_ms)}`,
    ),
    ...(hidden > 0 ? [`(${hidden} closed challenge(s) not shown: --all)`] : []),
    ...(shown.length > 0 ? ['Details: helmts approvals show <id>'] : []),
  ]);
}

export function approvalsShow(data: DataDir, id: string): CommandResult {
  data.requireInitialized();
  const v = challengeViewById(data, id, Date.now());
  const c = v.challenge;
  const next = nextSteps(v);
  return ok(
    {
      ...summary(v),
      challenge: c,
      request: v.request,
      answers: v.answers,
      consumed_by: v.consumed_by,
      receipt_id: v.receipt_id,
      next,
    },
    [
      `challenge ${v.challenge_id}: ${stateLine(v)}`,
      `  call: ${c.tool} (${c.action} ${c.resource}) by ${c.principal}${c.authority !== c.principal ? ` for ${c.authority}` : ''}${c.tenant === null ? '' : ` in tenant ${c.tenant}`}`,
      `  request: ${JSON.stringify(v.request)}`,
      `  args hash ${c.args_hash}, effect ${c.effect_digest}`,
      `  rule ${c.rule_id}: quorum ${c.quorum} of role ${c.role}${c.emergency_quorum === null ? '' : `, emergency quorum ${c.emergency_quorum}`}`,
      `  opened ${iso(c.created_at_ms)}, not before ${iso(c.not_before_ms)}, expires ${iso(c.expires_at_ms)}`,
      ...(v.answers.length === 0
        ? ['  no answers yet']
        : v.answers.map(
            (a) =>
              `  event ${a.seq}: ${a.action === 'approval.grant' ? 'approved' : 'denied'} by ${a.approver ?? a.keyid}${a.approver && a.approver !== a.keyid ? ` (${a.keyid})` : ''}${a.emergency ? ' [emergency]' : ''} — ${a.status}${a.code ? ` ${a.code}` : ''}${a.reason ? `: ${a.reason}` : ''}`,
          )),
      'Next:',
      ...next.map((n) => `  ${n}`),
    ],
  );
}

export function approvalsExport(data: DataDir, id: string, opts: { out?: string } = {}): CommandResult {
  data.requireInitialized();
  const file = approvalRequestFile(data, id);
  const out = resolve(opts.out ?? `challenge-${id.slice('sha256:'.length, 'sha256:'.length + 12)}.json`);
  writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`);
  return ok({ path: out, challenge_id: id, type: APPROVAL_REQUEST_TYPE }, [
    `Wrote challenge ${id} to ${out}.`,
    `On the approver's machine: helmts approve --sign-only ${out} --key <approver key file> --out approval.json`,
    `Back here: helmts approve --import approval.json`,
  ]);
}

export interface ApproveOpts {
  key?: string;
  as?: string;
  emergency?: boolean;
  signOnly?: string;
  import?: string;
  out?: string;
  trustAnchor?: string;
}

function afterAnswer(data: DataDir, id: string, seq: number, lead: string): CommandResult {
  const v = challengeViewById(data, id, Date.now());
  const next = nextSteps(v);
  return ok({ event_seq: seq, ...summary(v), next }, [
    lead,
    `  challenge ${id}: ${stateLine(v)}`,
    'A running runtime (helmts serve, helmts mcp) applies it before its next decision.',
    'Next:',
    ...next.map((n) => `  ${n}`),
  ]);
}

/** `helmts approve`: here (`<id> --key`), on another machine (`--sign-only`), or `--import`. */
export function approveCommand(
  data: DataDir | undefined,
  id: string | undefined,
  opts: ApproveOpts,
): CommandResult {
  const modes = [id !== undefined, opts.signOnly !== undefined, opts.import !== undefined].filter(
    Boolean,
  ).length;
  if (modes !== 1)
    throw new CliError(
      'USAGE',
      'give exactly one of: a challenge id, --sign-only <challenge file>, --import <approval file>',
      'helmts approve <id> --key <key file> | helmts approve --sign-only challenge.json --key <key file> | helmts approve --import approval.json',
    );
  if (opts.import !== undefined) {
    if (!data) throw new CliError('USAGE', '--import needs a data directory');
    const file = readJsonFile(opts.import) as { event?: unknown } | SignedEnvelope;
    const envelope = (
      'event' in (file as object) ? (file as { event: unknown }).event : file
    ) as SignedEnvelope;
    try {
      const event = importGovernanceEvent(data.requireInitialized(), envelope);
      return afterAnswer(
        data,
        String(event.body.challenge_id),
        event.seq,
        `Imported ${event.action} by ${event.signer} as event ${event.seq}.`,
      );
    } catch (error) {
      return refused(error);
    }
  }
  if (opts.key === undefined)
    throw new CliError(
      'USAGE',
      '--key <approver key file> is required',
      'the key file of an approver (helmts keys list)',
    );
  const signer = signerFromKeyFile(opts.key);
  const as = opts.as === undefined ? {} : { approver: opts.as };
  if (opts.signOnly !== undefined) {
    // On the approver's machine: no data directory, no registry; the operator's import checks the
    // guardian signature, the key's role and the challenge's state.
    const { request, challenge, args } = readApprovalRequest(readJsonFile(opts.signOnly));
    if (opts.trustAnchor !== undefined && opts.trustAnchor !== request.trust_anchor)
      throw new CliError(
        'INVALID_INPUT',
        `the challenge is for trust anchor ${request.trust_anchor}, not ${opts.trustAnchor}`,
      );
    const event = signGovernanceEvent({
      action: 'approval.grant',
      body: {
        challenge_id: challenge.challenge_id,
        statement: approvalStatement(challenge, signer, {
          ...as,
          emergency: opts.emergency ?? false,
        }) as never,
      },
      signer,
      at: Date.now(),
      trustAnchor: request.trust_anchor,
      chainId: request.chain_id,
    });
    const what = [
      `Signed an approval of challenge ${challenge.challenge_id} with ${signer.keyId}:`,
      `  ${challenge.tool} by ${challenge.principal}, args ${JSON.stringify(args)}`,
      `  rule ${challenge.rule_id}, quorum ${challenge.quorum}; expires ${iso(challenge.expires_at_ms)}`,
    ];
    if (opts.out !== undefined) {
      const out = resolve(opts.out);
      writeFileSync(out, `${JSON.stringify(event, null, 2)}\n`);
      return ok({ path: out, challenge_id: challenge.challenge_id, signer: signer.keyId, event }, [
        ...what,
        `Wrote ${out}. The operator runs: helmts approve --import ${opts.out}`,
      ]);
    }
    // No --out: the signed event itself is the output (pipe it to a file).
    return ok({ challenge_id: challenge.challenge_id, signer: signer.keyId, event }, [JSON.stringify(event)]);
  }
  if (!data) throw new CliError('USAGE', 'approving by id needs a data directory');
  data.requireInitialized();
  const challengeId = id as string;
  try {
    const c = verifiedChallenge(storedChallenge(data, challengeId), data.registry());
    const event = appendGovernanceEvent(data, {
      action: 'approval.grant',
      body: {
        challenge_id: challengeId,
        statement: approvalStatement(c, signer, { ...as, emergency: opts.emergency ?? false }) as never,
      },
      signer,
      at: Date.now(),
    });
    return afterAnswer(
      data,
      challengeId,
      event.seq,
      `Approval by ${signer.keyId} recorded as event ${event.seq}.`,
    );
  } catch (error) {
    return refused(error);
  }
}

export function denyCommand(
  data: DataDir,
  id: string,
  opts: { key?: string; reason?: string },
): CommandResult {
  data.requireInitialized();
  if (opts.key === undefined)
    throw new CliError(
      'USAGE',
      '--key <approver key file> is required',
      'the key file of an approver (helmts keys list)',
    );
  const signer = signerFromKeyFile(opts.key);
  try {
    storedChallenge(data, id);
    const event = appendGovernanceEvent(data, {
      action: 'approval.deny',
      body: { challenge_id: id, ...(opts.reason === undefined ? {} : { reason: opts.reason }) },
      signer,
      at: Date.now(),
    });
    return afterAnswer(data, id, event.seq, `Denial by ${signer.keyId} recorded as event ${event.seq}.`);
  } catch (error) {
    return refused(error);
  }
}

/**
 * `helmts run --challenge <id>`: the request that escalated, run again — only once its approvals are
 * in (quorum and timelock). The guardian decides: it applies any new approvals first, and the grant
 * is used once.
 */
export async function runChallenge(
  data: DataDir,
  id: string,
  run: (request: Record<string, unknown>) => Promise<CommandResult>,
): Promise<CommandResult> {
  data.requireInitialized();
  const v = challengeViewById(data, id, Date.now());
  if (v.state === 'pending' || v.state === 'timelocked')
    return refused(
      new RuntimeError(
        'CHALLENGE_PENDING',
        `challenge ${id} is ${stateLine(v)}`,
        v.state === 'pending'
          ? `${v.needed} more approval(s): helmts approve ${id} --key <approver key file>`
          : `run it from ${iso(v.not_before_ms)}`,
      ),
      { challenge: summary(v) },
    );
  if (v.state !== 'approved')
    return refused(
      new RuntimeError(
        'CHALLENGE_CLOSED',
        `challenge ${id} is ${stateLine(v)}`,
        'run the call again for a new challenge',
      ),
      { challenge: summary(v) },
    );
  return run(v.request as Record<string, unknown>);
}

export function registerApprovalCommands(
  program: Command,
  wrap: Wrap,
  /** The data directory (or, with a shared database, one snapshot of its governance state). */
  withData: (
    command: Command,
    fn: (data: DataDir) => CommandResult | Promise<CommandResult>,
  ) => Promise<CommandResult>,
): void {
  const json = ['--json', 'machine-readable output'] as const;
  const approvals = program
    .command('approvals')
    .description('held calls awaiting approval: list, show, export (read-only; works while a runtime runs)');
  approvals
    .command('list')
    .description('approval challenges and their state (open ones; --all for closed too)')
    .option('--all', 'include denied, expired and used challenges')
    .option(...json)
    .action(wrap((o: { all?: boolean }, cmd: Command) => withData(cmd, (d) => approvalsList(d, o))));
  approvals
    .command('show <id>')
    .description('one challenge: the call, its arguments, every answer, what happens next')
    .option(...json)
    .action(wrap((id: string, _o: unknown, cmd: Command) => withData(cmd, (d) => approvalsShow(d, id))));
  approvals
    .command('export <id>')
    .description(
      'write the challenge to a file for an approver on another machine (helmts approve --sign-only)',
    )
    .option('-o, --out <file>', 'output file (default: challenge-<id prefix>.json)')
    .option(...json)
    .action(
      wrap((id: string, o: { out?: string }, cmd: Command) =>
        withData(cmd, (d) => approvalsExport(d, id, o)),
      ),
    );
  program
    .command('approve [id]')
    .description('approve a held call with an approver key: by id, or --sign-only elsewhere, then --import')
    .option(
      '--key <file>',
      'the approver key file (its key must hold the challenge role in the trust registry)',
    )
    .option('--as <identity>', 'approver identity counted toward quorum (default: the key id)')
    .option('--emergency', 'an emergency override approval (only for rules with an emergency quorum)')
    .option('--sign-only <challenge file>', 'sign a `helmts approvals export` file without a data directory')
    .option('--out <file>', 'with --sign-only: write the signed approval here (default: print it)')
    .option('--trust-anchor <digest>', 'with --sign-only: refuse a challenge for another trust registry')
    .option('--import <file>', 'append an approval signed with --sign-only')
    .option(...json)
    .action(
      wrap((id: string | undefined, o: ApproveOpts, cmd: Command) =>
        o.signOnly !== undefined && id === undefined && o.import === undefined
          ? approveCommand(undefined, id, o)
          : withData(cmd, (d) => approveCommand(d, id, o)),
      ),
    );
  program
    .command('deny <id>')
    .description('deny a held call with an approver key (no grant can come from the challenge)')
    .option('--key <file>', 'the approver key file')
    .option('--reason <text>', 'why (recorded in the signed event)')
    .option(...json)
    .action(
      wrap((id: string, o: { key?: string; reason?: string }, cmd: Command) =>
        withData(cmd, (d) => denyCommand(d, id, o)),
      ),
    );
}
