// Budgets of a data directory as an operator sees them (docs/cli.md §Budgets): the budgets of the
// policy in force (P0's and those of P1 bundles), the ledger accounts they charge (one per window;
// docs/spec/policy.md §Budget accounts), and the administrative reset (`budget.reset`), which puts
// `spent` back to 0 on every account of a principal or tenant, in every budget and window.
import type { BudgetLimits, BudgetWindow } from '@helm/contracts';
import { BUDGET_WINDOW_MS, budgetAccount, type PolicyStack } from '@helm/guardian';
import type { Json, SqliteStore } from '@helm/store';
import { RuntimeError } from '../errors.js';
import type { GovernanceHandler, PendingGovernanceEvent } from './governance.js';

/** A budget account name read back: which budget, which window, whose. */
export interface ParsedBudgetAccount {
  /** The P1 bundle whose budget it is; null for P0. */
  readonly bundle: string | null;
  readonly window: BudgetWindow;
  /** The window index (`floor(now / length)`); null for `fixed`. */
  readonly index: number | null;
  /** `principal:<id>` or `tenant:<id>`. */
  readonly base: string;
}

const WINDOW_SEGMENT = /^(minute|hour|day):(0|[1-9][0-9]{0,15})$/;

/** The inverse of `budgetAccount` (undefined for a name it never produces). */
export function parseBudgetAccount(account: string): ParsedBudgetAccount | undefined {
  let rest = account;
  let bundle: string | null = null;
  if (rest.startsWith('p1:')) {
    const bar = rest.indexOf('|');
    if (bar < 0) return undefined;
    bundle = rest.slice(3, bar);
    rest = rest.slice(bar + 1);
    if (bundle.length === 0) return undefined;
  }
  let window: BudgetWindow = 'fixed';
  let index: number | null = null;
  const bar = rest.indexOf('|');
  const head = bar < 0 ? undefined : WINDOW_SEGMENT.exec(rest.slice(0, bar));
  if (head) {
    window = head[1] as BudgetWindow;
    index = Number(head[2]);
    rest = rest.slice(bar + 1);
  }
  if (!isBudgetBase(rest)) return undefined;
  const parsed = { bundle, window, index, base: rest };
  // Only names the guardian itself produces are budget accounts.
  const now = window === 'fixed' || index === null ? 0 : index * BUDGET_WINDOW_MS[window];
  return budgetAccount(rest, window, now, bundle ?? undefined) === account ? parsed : undefined;
}

/** `principal:<id>` or `tenant:<id>` with a non-empty id. */
export function isBudgetBase(base: string): boolean {
  return /^(principal|tenant):./su.test(base);
}

/** One budget of the policy in force. */
export interface BudgetOfPolicy {
  /** `P0`, or `P1` with the bundle's name. */
  readonly layer: 'P0' | 'P1';
  readonly bundle: string | null;
  readonly window: BudgetWindow;
  readonly limits: BudgetLimits;
}

/** The budgets of a policy stack: P0's, then each P1 bundle's that has them. */
export function policyBudgets(stack: PolicyStack): BudgetOfPolicy[] {
  const out: BudgetOfPolicy[] = [
    { layer: 'P0', bundle: null, window: stack.p0.budgets.window ?? 'fixed', limits: stack.p0.budgets },
  ];
  for (const b of stack.bundles)
    if (b.budgets !== undefined)
      out.push({ layer: 'P1', bundle: b.name, window: b.budgets.window ?? 'fixed', limits: b.budgets });
  return out;
}

function ceilingOf(limits: BudgetLimits, base: string): number {
  const [kind, ...rest] = base.split(':');
  const id = rest.join(':');
  const own = kind === 'principal' ? limits.principals : limits.tenants;
  const explicit = own !== undefined && Object.hasOwn(own, id) ? own[id] : undefined;
  return explicit ?? (kind === 'principal' ? limits.default_principal_max : limits.default_tenant_max);
}

/** One account of one budget, in the window in force at `now`. */
export interface BudgetAccountView {
  /** `principal:<id>` / `tenant:<id>`. */
  readonly base: string;
  readonly layer: 'P0' | 'P1';
  readonly bundle: string | null;
  readonly window: BudgetWindow;
  /** The ledger account charged now. */
  readonly account: string;
  readonly ceiling: number;
  readonly spent: number;
  readonly reserved: number;
  readonly remaining: number;
  /** When this window's allowance is replaced by a fresh one (null: `fixed`, never). */
  readonly refills_at_ms: number | null;
}

export interface BudgetOverview {
  readonly now_ms: number;
  readonly budgets: readonly {
    readonly layer: 'P0' | 'P1';
    readonly bundle: string | null;
    readonly window: BudgetWindow;
    readonly default_principal_max: number;
    readonly default_tenant_max: number;
  }[];
  readonly accounts: readonly BudgetAccountView[];
}

/**
 * What each budget allows `bases` (default: every principal and tenant the ledger has charged)
 * in the window in force at `now`, with what is spent and held there.
 */
export function budgetOverview(
  store: SqliteStore,
  stack: PolicyStack,
  now: number,
  bases?: readonly string[],
): BudgetOverview {
  for (const b of bases ?? [])
    if (!isBudgetBase(b))
      throw new RuntimeError(
        'USAGE',
        `${b} is not a budget account`,
        'name one as principal:<id> or tenant:<id>',
      );
  const budgets = policyBudgets(stack);
  const rows = store.ledgerAccountsSync();
  const charged = new Set<string>();
  for (const r of rows) {
    const p = parseBudgetAccount(r.account);
    if (p) charged.add(p.base);
  }
  const who = bases ?? [...charged].sort();
  const accounts: BudgetAccountView[] = [];
  for (const base of who) {
    for (const b of budgets) {
      const account = budgetAccount(base, b.window, now, b.bundle ?? undefined);
      const state = store.ledgerStateSync(account);
      const ceiling = ceilingOf(b.limits, base);
      const length = b.window === 'fixed' ? undefined : BUDGET_WINDOW_MS[b.window];
      accounts.push({
        base,
        layer: b.layer,
        bundle: b.bundle,
        window: b.window,
        account,
        ceiling,
        spent: state.spent,
        reserved: state.reserved,
        remaining: Math.max(0, ceiling - state.spent - state.reserved),
        refills_at_ms: length === undefined ? null : (Math.floor(now / length) + 1) * length,
      });
    }
  }
  return {
    now_ms: now,
    budgets: budgets.map((b) => ({
      layer: b.layer,
      bundle: b.bundle,
      window: b.window,
      default_principal_max: b.limits.default_principal_max,
      default_tenant_max: b.limits.default_tenant_max,
    })),
    accounts,
  };
}

/** The body of a `budget.reset` governance event. */
export interface BudgetResetBody {
  /** `principal:<id>` or `tenant:<id>`. */
  readonly account: string;
  /** Why (free text, for the record). */
  readonly reason?: string;
}

const MAX_ACCOUNT = 512;
const MAX_REASON = 1024;

/** The body of a `budget.reset` event, validated strictly (GOVERNANCE_EVENT_INVALID). */
export function budgetResetBody(body: unknown): BudgetResetBody {
  const bad = (why: string): RuntimeError =>
    new RuntimeError(
      'GOVERNANCE_EVENT_INVALID',
      `budget.reset: ${why}`,
      'helmts budget reset principal:<id> | tenant:<id> [--reason <text>]',
    );
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw bad('the body is not an object');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (k !== 'account' && k !== 'reason') throw bad(`unknown field ${k}`);
  if (typeof b.account !== 'string' || b.account.length > MAX_ACCOUNT || !isBudgetBase(b.account))
    throw bad('account must be principal:<id> or tenant:<id>');
  if (b.reason !== undefined && (typeof b.reason !== 'string' || b.reason.length > MAX_REASON))
    throw bad(`reason must be text of at most ${MAX_REASON} characters`);
  return b as unknown as BudgetResetBody;
}

/**
 * `budget.reset` (signed by a `policy` key; docs/cli.md §Budgets): at its first application the
 * accounts of the principal or tenant that have spent anything — every budget, every window — are
 * put back to 0 in the application's transaction, and the administrative receipt's output lists
 * them with what each had spent. Re-applied at a later open it changes nothing: the ledger is
 * durable.
 */
export const BUDGET_HANDLERS: Readonly<Record<'budget.reset', GovernanceHandler>> = {
  'budget.reset': {
    check: (event: PendingGovernanceEvent) => {
      budgetResetBody(event.body);
    },
    // A shared database has no synchronous reads: its accounts are read before the application.
    prepare: (_event, store) => store.ledgerAccounts(),
    apply: (event, runtime, context) => {
      let body: BudgetResetBody;
      try {
        body = budgetResetBody(event.body);
      } catch (error) {
        return { applied: false, code: 'GOVERNANCE_EVENT_INVALID', detail: (error as Error).message };
      }
      if (!context.first) return undefined;
      const accounts =
        (context.prepared as readonly { account: string; spent: number }[] | undefined) ??
        runtime.data.store.ledgerAccountsSync();
      const reset = accounts.filter(
        (a) => a.spent !== 0 && parseBudgetAccount(a.account)?.base === body.account,
      );
      return {
        applied: true,
        output: {
          account: body.account,
          reset: reset.map((a) => ({ account: a.account, spent: a.spent })),
        } as unknown as Json,
        // Ledger movements, not a closure over the embedded store: every engine writes them in the
        // application's transaction.
        ledger: reset.map((a) => ({ op: 'reset', account: a.account })),
      };
    },
  },
};
