// Budgets (docs/spec/policy.md §Budgets): per principal and per tenant, with atomic
// reserve → commit | refund. A reservation either holds on every account or on none.
import type { BudgetWindow } from '@helm/contracts/policy';
import { GuardianError } from './errors.js';

/** Length of each refilling budget window, in ms of the guardian's clock (UTC-aligned). */
export const BUDGET_WINDOW_MS: Readonly<Record<Exclude<BudgetWindow, 'fixed'>, number>> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/**
 * The ledger account a budget charges (docs/spec/policy.md §Budget accounts). `base` is
 * `principal:<id>` or `tenant:<id>`; `bundle` names the P1 bundle whose budget it is (absent: P0).
 * A refilling window is a separate account per window, named by its index `floor(now / length)`,
 * so a new window starts empty and the ledger itself knows nothing about time:
 *
 *   P0 fixed: `<base>`            P0 windowed: `<window>:<index>|<base>`
 *   P1 fixed: `p1:<bundle>|<base>` P1 windowed: `p1:<bundle>|<window>:<index>|<base>`
 *
 * The map is injective: the first segment (up to the first `|`) is `principal:…`/`tenant:…` (P0
 * fixed, no `|` after it is ever parsed), `p1:<bundle>` (bundle names have no `|`) or
 * `<window>:<digits>`; any `|` in an id sits after every prefix.
 */
export function budgetAccount(base: string, window: BudgetWindow, nowMs: number, bundle?: string): string {
  const span = window === 'fixed' ? '' : `${window}:${Math.floor(nowMs / BUDGET_WINDOW_MS[window])}|`;
  return `${bundle === undefined ? '' : `p1:${bundle}|`}${span}${base}`;
}

export interface BudgetCharge {
  /** Account key, e.g. `principal:alice` or `tenant:acme`. */
  readonly account: string;
  /** Ceiling (from P0) the account's spent + reserved may not exceed. */
  readonly ceiling: number;
}

export interface BudgetAccountState {
  readonly spent: number;
  readonly reserved: number;
}

/** The ledger port. Implementations must make `reserve` atomic across all charges. */
export interface BudgetLedger {
  /** Reserve `amount` on every account, or nothing; returns the reservation id, or null if any ceiling would be exceeded. */
  reserve(charges: readonly BudgetCharge[], amount: number): string | null;
  /** Turn a held reservation into spending. */
  commit(reservationId: string): void;
  /** Return a held reservation (denied or failed call). */
  refund(reservationId: string): void;
  state(account: string): BudgetAccountState;
}

interface Reservation {
  readonly accounts: readonly string[];
  readonly amount: number;
}

/** Deterministic in-memory ledger: reservation ids are `budget-res-<n>` in reservation order. */
export class InMemoryBudgetLedger implements BudgetLedger {
  private readonly accounts = new Map<string, { spent: number; reserved: number }>();
  private readonly open = new Map<string, Reservation>();
  private counter = 0;

  private account(key: string): { spent: number; reserved: number } {
    let a = this.accounts.get(key);
    if (!a) {
      a = { spent: 0, reserved: 0 };
      this.accounts.set(key, a);
    }
    return a;
  }

  reserve(charges: readonly BudgetCharge[], amount: number): string | null {
    if (!Number.isSafeInteger(amount) || amount < 0) {
      throw new GuardianError('BUDGET_EXCEEDED', 'amount must be a non-negative integer');
    }
    for (const c of charges) {
      const a = this.account(c.account);
      if (a.spent + a.reserved + amount > c.ceiling) return null;
    }
    for (const c of charges) this.account(c.account).reserved += amount;
    const id = `budget-res-${++this.counter}`;
    const accounts: string[] = [];
    for (const c of charges) accounts.push(c.account);
    this.open.set(id, { accounts, amount });
    return id;
  }

  private take(id: string): Reservation {
    const r = this.open.get(id);
    if (!r) throw new GuardianError('BUDGET_RESERVATION_UNKNOWN', `no open reservation ${id}`);
    this.open.delete(id);
    return r;
  }

  commit(reservationId: string): void {
    const r = this.take(reservationId);
    for (const key of r.accounts) {
      const a = this.account(key);
      a.reserved -= r.amount;
      a.spent += r.amount;
    }
  }

  refund(reservationId: string): void {
    const r = this.take(reservationId);
    for (const key of r.accounts) this.account(key).reserved -= r.amount;
  }

  state(account: string): BudgetAccountState {
    const a = this.accounts.get(account);
    return { spent: a?.spent ?? 0, reserved: a?.reserved ?? 0 };
  }
}
