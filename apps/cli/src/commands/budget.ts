// `helmts budget show|reset` (docs/cli.md §Budgets). Neither opens the governed runtime: `show`
// reads the ledger and the policy in force; `reset` appends a signed `budget.reset` governance
// event, which a runtime applies (and receipts as `helm.admin.budget.reset`) when it ingests it.
import {
  appendGovernanceEvent,
  type BudgetAccountView,
  budgetOverview,
  budgetResetBody,
  type DataDir,
  isBudgetBase,
  loadDataDirPolicy,
  readGovernanceApplications,
  readGovernanceLog,
} from '@helm/runtime';
import type { Command } from 'commander';
import { CliError, type CommandResult, ok } from '../errors.js';
import { withGovernanceDir } from './data.js';

type Wrap = <A extends unknown[]>(
  handler: (...args: A) => Promise<CommandResult> | CommandResult,
) => (...args: A) => Promise<void>;

// The shared helper (data.ts): a named database is refused, never a fall-back to helm.db.

export interface BudgetShowOpts {
  principal?: string;
  tenant?: string;
}

function line(a: BudgetAccountView): string {
  const budget = a.layer === 'P0' ? 'P0' : `P1 ${a.bundle}`;
  const refill =
    a.refills_at_ms === null ? 'never refills' : `refills ${new Date(a.refills_at_ms).toISOString()}`;
  return `  ${a.base.padEnd(24)} ${budget.padEnd(16)} ${a.window.padEnd(6)} ${String(a.spent).padStart(6)} spent ${String(a.reserved).padStart(5)} held ${String(a.remaining).padStart(6)} left of ${a.ceiling}  (${refill})`;
}

/** `budget.reset` events in the log that no runtime has applied yet. */
function pendingResets(
  data: DataDir,
): { seq: number; account: string; signer: string; signed_at_ms: number }[] {
  const applied = readGovernanceApplications(data);
  return readGovernanceLog(data)
    .filter((e) => e.action === 'budget.reset' && !applied.has(e.seq))
    .map((e) => ({
      seq: e.seq,
      account: String(e.body.account),
      signer: e.signer,
      signed_at_ms: e.signed_at_ms,
    }));
}

/** `budget show`: what each budget allows, spent and held, in the window in force now. */
export function budgetShow(data: DataDir, opts: BudgetShowOpts = {}, now = Date.now()): CommandResult {
  data.requireInitialized();
  const bases = [
    ...(opts.principal === undefined ? [] : [`principal:${opts.principal}`]),
    ...(opts.tenant === undefined ? [] : [`tenant:${opts.tenant}`]),
  ];
  for (const b of bases)
    if (!isBudgetBase(b)) throw new CliError('USAGE', '--principal and --tenant need a non-empty id');
  const overview = budgetOverview(
    data.store,
    loadDataDirPolicy(data, data.registry()),
    now,
    bases.length === 0 ? undefined : bases,
  );
  const pending = pendingResets(data);
  return ok({ ...overview, pending_resets: pending }, [
    `Budgets of the policy in force (at ${new Date(now).toISOString()}):`,
    ...overview.budgets.map(
      (b) =>
        `  ${b.layer === 'P0' ? 'P0' : `P1 ${b.bundle}`}: window ${b.window}, default ${b.default_principal_max} per principal, ${b.default_tenant_max} per tenant`,
    ),
    ...(overview.accounts.length === 0
      ? ['No principal or tenant has been charged yet.']
      : ['Accounts (current window):', ...overview.accounts.map(line)]),
    ...pending.map(
      (p) =>
        `Pending: budget.reset of ${p.account} (governance event ${p.seq}) — applied at the runtime's next decision or open.`,
    ),
  ]);
}

export interface BudgetResetOpts {
  /** Key file to sign with (default `policy`); the registry must give it `policy`. */
  key?: string;
  reason?: string;
}

/**
 * `budget reset <account>`: append a signed `budget.reset` governance event (no runtime lock). The
 * runtime applies it — spent back to 0 on every account of that principal or tenant, with a
 * `helm.admin.budget.reset` receipt — before its next decision, or at its next open.
 */
export function budgetReset(
  data: DataDir,
  account: string,
  opts: BudgetResetOpts = {},
  now = Date.now(),
): CommandResult {
  data.requireInitialized();
  const body = budgetResetBody({ account, ...(opts.reason === undefined ? {} : { reason: opts.reason }) });
  // The governance log checks the signer's role (policy) before anything is signed.
  const signer = data.localKey(opts.key ?? 'policy').signer;
  const event = appendGovernanceEvent(data, {
    action: 'budget.reset',
    body: body as unknown as { [key: string]: string },
    signer,
    at: now,
  });
  return ok(
    { event: { seq: event.seq, digest: event.digest, action: event.action, signer: event.signer }, account },
    [
      `Appended budget.reset of ${account} as governance event ${event.seq} (${event.digest}), signed by ${event.signer}.`,
      'A running runtime applies it before its next decision; otherwise the next `helmts run` does, and receipts it as helm.admin.budget.reset.',
      'Check: helmts budget show',
    ],
  );
}

export function registerBudgetCommands(program: Command, wrap: Wrap): void {
  const json = ['--json', 'machine-readable output'] as const;
  const budget = program
    .command('budget')
    .description('budgets: what is spent and left per principal and tenant, and administrative resets');
  budget
    .command('show')
    .description('every budget of the policy and its accounts in the current window')
    .option('--principal <id>', 'only this principal')
    .option('--tenant <id>', 'only this tenant')
    .option(...json)
    .action(wrap((o: BudgetShowOpts, cmd: Command) => withGovernanceDir(cmd, (d) => budgetShow(d, o))));
  budget
    .command('reset <account>')
    .description(
      'restore an allowance: principal:<id> or tenant:<id>, every budget and window (a signed, receipted governance event)',
    )
    .option('--key <name>', 'key file to sign with; its key must hold `policy` (default: policy)')
    .option('--reason <text>', 'why, for the record')
    .option(...json)
    .action(
      wrap((account: string, o: BudgetResetOpts, cmd: Command) =>
        withGovernanceDir(cmd, (d) => {
          if (!isBudgetBase(account))
            throw new CliError(
              'USAGE',
              `${account} is not a budget account`,
              'helmts budget reset principal:alice',
            );
          return budgetReset(d, account, o);
        }),
      ),
    );
}
