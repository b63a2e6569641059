// The sessions a stateless face keeps state for (docs/spec/mcp-gateway.md §Session taint, Session
// table). An untainted sealed session holds nothing: its handle alone recreates it. A tainted one
// must be remembered until its handle expires, or its next call would come back clean — so these
// are what an authenticated client that opens sessions and taints them grows. The table is bounded
// (sessions and retained characters per principal, sessions and characters in all) and evicts the least
// recently used session — of the principal over its share first, so one principal's flood evicts
// its own sessions, not another's. Eviction must never let a tainted session come back clean, so
// after one the table refuses every handle of that principal minted no later than the evicted
// session that it does not hold (a high-water mark of the evicted sessions' expiries per
// principal: one number each, however many were evicted). The client of a refused handle starts a
// new session (it sends none), which the policy sees as new.

/** Default bound on the tainted sessions kept at once. */
export const DEFAULT_MAX_TAINTED_SESSIONS = 10_000;
/** Default bound on the tainted sessions kept at once for one principal. */
export const DEFAULT_MAX_TAINTED_SESSIONS_PER_PRINCIPAL = 1_000;
/**
 * Default bound on the excerpt characters the kept sessions retain in all (a session retains at
 * most six excerpts; an excerpt is usually 4,096 characters, at most 1,048,576).
 */
export const DEFAULT_MAX_TAINTED_CHARS = 32 * 1024 * 1024;
/** Characters a kept session is charged beyond its excerpts (its id, caller, findings' fields). */
export const SESSION_OVERHEAD_CHARS = 1024;

/** What the table needs of a session: its principal, sealed id and end, and its retained size. */
export interface TableSession {
  readonly caller: { readonly principal: string };
  readonly sealed: { readonly id: string; readonly expiresAtMs: number } | undefined;
  /** Characters retained (excerpts and the like); read again whenever the session is kept. */
  retainedChars(): number;
}

export interface SessionLimits {
  /** At most this many tainted sessions are kept (default DEFAULT_MAX_TAINTED_SESSIONS). */
  readonly maxSessions?: number;
  /** At most this many per principal (default DEFAULT_MAX_TAINTED_SESSIONS_PER_PRINCIPAL). */
  readonly maxSessionsPerPrincipal?: number;
  /** At most this many characters retained by them (default DEFAULT_MAX_TAINTED_CHARS). */
  readonly maxChars?: number;
  /**
   * At most this many characters retained by one principal's sessions (default: maxChars x
   * maxSessionsPerPrincipal / maxSessions, the same share as sessions): past it the principal's
   * own least recently used sessions go first, so one principal's characters evict none of
   * another's while the principals' shares fit the total.
   */
  readonly maxCharsPerPrincipal?: number;
}

interface Entry<S> {
  readonly session: S;
  readonly id: string;
  readonly principal: string;
  readonly end: number;
  readonly chars: number;
}

export class SessionTable<S extends TableSession> {
  readonly #maxSessions: number;
  readonly #perPrincipal: number;
  readonly #maxChars: number;
  readonly #charsPerPrincipal: number;
  /** Insertion order is use order: the first entry is the least recently used. */
  readonly #live = new Map<string, Entry<S>>();
  /** The same entries per principal, in the same order (a principal with none has no map). */
  readonly #byPrincipal = new Map<string, Map<string, Entry<S>>>();
  #chars = 0;
  /** Characters retained per principal (a principal with no session has no entry). */
  readonly #charsOf = new Map<string, number>();
  /**
   * Per principal: every handle whose session expires no later than this and is not live is
   * refused. One number per principal that ever lost a session (principals are authenticated
   * identities: a configured set).
   */
  readonly #evictedThrough = new Map<string, number>();
  /** Sessions evicted so far (for tests and operators). */
  evictions = 0;

  constructor(limits: SessionLimits = {}) {
    const bound = (v: number | undefined, d: number) => Math.max(1, Math.floor(v ?? d));
    this.#maxSessions = bound(limits.maxSessions, DEFAULT_MAX_TAINTED_SESSIONS);
    this.#perPrincipal = bound(limits.maxSessionsPerPrincipal, DEFAULT_MAX_TAINTED_SESSIONS_PER_PRINCIPAL);
    this.#maxChars = bound(limits.maxChars, DEFAULT_MAX_TAINTED_CHARS);
    this.#charsPerPrincipal = bound(
      limits.maxCharsPerPrincipal,
      (this.#maxChars * Math.min(this.#perPrincipal, this.#maxSessions)) / this.#maxSessions,
    );
  }

  get size(): number {
    return this.#live.size;
  }

  /** Characters the kept sessions retain in all. */
  get retainedChars(): number {
    return this.#chars;
  }

  /** The kept session of `id` (now the most recently used), if any. */
  get(id: string): S | undefined {
    const entry = this.#live.get(id);
    if (!entry) return undefined;
    this.#touch(entry);
    return entry.session;
  }

  /**
   * Whether a verified handle of `principal`'s session the table does not hold must be refused: a
   * session evicted, or one minted no later than a session of that principal evicted (which the
   * table cannot tell apart).
   */
  refuses(principal: string, expiresAtMs: number): boolean {
    return expiresAtMs <= (this.#evictedThrough.get(principal) ?? Number.NEGATIVE_INFINITY);
  }

  /**
   * Keep `session` (it was just tainted, or its taint grew) as the most recently used, then evict
   * until the bounds hold again: the principal's own least recently used sessions past its share,
   * then the least recently used of all past the totals (expired ones met on the way are dropped).
   * `session` itself is never evicted by its own insertion (a bound may be exceeded by that one
   * session alone). O(1) amortized: every entry looked at is removed, but the last.
   */
  keep(session: S, now: number): void {
    const sealed = session.sealed;
    if (!sealed) return;
    const previous = this.#live.get(sealed.id);
    if (previous) this.#remove(previous);
    const entry: Entry<S> = {
      session,
      id: sealed.id,
      principal: session.caller.principal,
      end: sealed.expiresAtMs,
      chars: SESSION_OVERHEAD_CHARS + session.retainedChars(),
    };
    this.#live.set(entry.id, entry);
    const own = this.#byPrincipal.get(entry.principal) ?? new Map<string, Entry<S>>();
    this.#byPrincipal.set(entry.principal, own);
    own.set(entry.id, entry);
    this.#chars += entry.chars;
    this.#charsOf.set(entry.principal, (this.#charsOf.get(entry.principal) ?? 0) + entry.chars);
    for (const e of own.values()) {
      const ownChars = this.#charsOf.get(entry.principal) ?? 0;
      if (own.size <= this.#perPrincipal && ownChars <= this.#charsPerPrincipal && e.end >= now) break;
      if (e === entry) continue;
      this.#evict(e, now);
    }
    for (const e of this.#live.values()) {
      if (this.#live.size <= this.#maxSessions && this.#chars <= this.#maxChars && e.end >= now) break;
      if (e === entry) continue;
      this.#evict(e, now);
    }
  }

  #touch(entry: Entry<S>): void {
    this.#live.delete(entry.id);
    this.#live.set(entry.id, entry);
    const own = this.#byPrincipal.get(entry.principal) as Map<string, Entry<S>>;
    own.delete(entry.id);
    own.set(entry.id, entry);
  }

  /** Remove `entry`; one that had not expired raises its principal's refusal mark. */
  #evict(entry: Entry<S>, now: number): void {
    this.#remove(entry);
    // An expired session's handle no longer opens anyway: dropping it refuses nothing more.
    if (entry.end < now) return;
    if (entry.end > (this.#evictedThrough.get(entry.principal) ?? Number.NEGATIVE_INFINITY))
      this.#evictedThrough.set(entry.principal, entry.end);
    this.evictions += 1;
  }

  #remove(entry: Entry<S>): void {
    this.#live.delete(entry.id);
    this.#chars -= entry.chars;
    const own = this.#byPrincipal.get(entry.principal);
    own?.delete(entry.id);
    if (own?.size === 0) {
      this.#byPrincipal.delete(entry.principal);
      this.#charsOf.delete(entry.principal);
    } else this.#charsOf.set(entry.principal, (this.#charsOf.get(entry.principal) ?? 0) - entry.chars);
  }
}
