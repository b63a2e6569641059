// `helmts budget show|reset` (docs/cli.md §Budgets). Neither opens the governed runtime: `show`
// reads the ledger and the policy in force; `reset` appends a signed `budget.reset` governance
// event, which a runtime applies (and receipts as `helm.admin.budget.reset`) when it ingests it.
import {
  type BudgetAccountView,
  budgetOverview,
  DataDir,
  isBudgetBase,
  loadDataDirPolicy,
  resolveDataDir,
} from '@helm/runtime';
import type { Command } from 'commander';
import { CliError, type CommandResult, ok } from '../errors.js';

type Wrap = <A extends unknown[]>(
  handler: (...args: A) => Promise<CommandResult> | CommandResult,
) => (...args: A) => Promise<void>;

async function withDataDir(
  command: Command,
  fn: (data: DataDir) => CommandResult | Promise<CommandResult>,
): Promise<CommandResult> {
  const data = new DataDir(resolveDataDir((command.optsWithGlobals() as { dataDir?: string }).dataDir));
  try {
    return await fn(data);
  } finally {
    data.close();
  }
}

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
  return ok({ ...overview }, [
    `Budgets of the policy in force (at ${new Date(now).toISOString()}):`,
    ...overview.budgets.map(
      (b) =>
        `  ${b.layer === 'P0' ? 'P0' : `P1 ${b.bundle}`}: window ${b.window}, default ${b.default_principal_max} per principal, ${b.default_tenant_max} per tenant`,
    ),
    ...(overview.accounts.length === 0
      ? ['No principal or tenant has been charged yet.']
      : ['Accounts (current window):', ...overview.accounts.map(line)]),
  ]);
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
    .action(wrap((o: BudgetShowOpts, cmd: Command) => withDataDir(cmd, (d) => budgetShow(d, o))));
}
