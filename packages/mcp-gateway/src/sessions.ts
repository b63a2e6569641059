// The sessions a stateless face keeps state for (docs/spec/mcp-gateway.md §Session taint, §Session
// table). An untainted sealed session holds nothing: its handle alone recreates it. A tainted one
// must be remembered until its handle expires, or its next call would come back clean — so these
// are what an attacker who opens sessions and taints them grows. The table is bounded (a number of
// sessions and a number of retained excerpt characters) and evicts the least recently used
// session; eviction must never let a tainted session come back clean, so after one the table
// refuses every handle minted no later than the evicted session that it does not hold (a high-water
// mark of the evicted sessions' expiries: one number, however many were evicted). The client of a
// refused handle starts a new session (it sends none), which the policy sees as new.

/** Default bound on the tainted sessions kept at once. */
export const DEFAULT_MAX_TAINTED_SESSIONS = 10_000;
/**
 * Default bound on the excerpt characters the kept sessions retain in all (a session retains at
 * most six excerpts; an excerpt is usually 4,096 characters, at most 1,048,576).
 */
export const DEFAULT_MAX_TAINTED_CHARS = 32 * 1024 * 1024;
/** Characters a kept session is charged beyond its excerpts (its id, caller, findings' fields). */
export const SESSION_OVERHEAD_CHARS = 1024;

/** What the table needs of a session: its sealed id and end, and its retained size. */
export interface TableSession {
  readonly sealed: { readonly id: string; readonly expiresAtMs: number } | undefined;
  /** Characters retained (excerpts and the like); read again whenever the session is touched. */
  retainedChars(): number;
}

export interface SessionLimits {
  /** At most this many tainted sessions are kept (default DEFAULT_MAX_TAINTED_SESSIONS). */
  readonly maxSessions?: number;
  /** At most this many characters retained by them (default DEFAULT_MAX_TAINTED_CHARS). */
  readonly maxChars?: number;
}

export class SessionTable<S extends TableSession> {
  readonly #maxSessions: number;
  readonly #maxChars: number;
  /** Insertion order is use order: the first entry is the least recently used. */
  readonly #live = new Map<string, { session: S; chars: number }>();
  #chars = 0;
  /** Every handle whose session expires no later than this and is not live is refused. */
  #evictedThrough = Number.NEGATIVE_INFINITY;
  /** Sessions evicted so far (for tests and operators). */
  evictions = 0;

  constructor(limits: SessionLimits = {}) {
    this.#maxSessions = Math.max(1, Math.floor(limits.maxSessions ?? DEFAULT_MAX_TAINTED_SESSIONS));
    this.#maxChars = Math.max(1, Math.floor(limits.maxChars ?? DEFAULT_MAX_TAINTED_CHARS));
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
    this.#live.delete(id);
    this.#live.set(id, entry);
    return entry.session;
  }

  /**
   * Whether a verified handle of a session the table does not hold must be refused: a session
   * evicted, or one minted no later than a session evicted (which the table cannot tell apart).
   */
  refuses(expiresAtMs: number): boolean {
    return expiresAtMs <= this.#evictedThrough;
  }

  /**
   * Keep `session` (it was just tainted, or its taint grew) as the most recently used, then evict
   * the least recently used sessions until the bounds hold again (expired ones met on the way are
   * dropped). `session` itself is never evicted by its own insertion (the bounds may be exceeded
   * by that one session alone).
   */
  keep(session: S, now: number): void {
    const sealed = session.sealed;
    if (!sealed) return;
    const previous = this.#live.get(sealed.id);
    if (previous) {
      this.#chars -= previous.chars;
      this.#live.delete(sealed.id);
    }
    const chars = SESSION_OVERHEAD_CHARS + session.retainedChars();
    this.#live.set(sealed.id, { session, chars });
    this.#chars += chars;
    // From the least recently used on: drop what expired (its handle no longer opens anyway) and
    // evict until the bounds hold. Stops at the first live entry within bounds, so a call costs
    // O(1) amortized however many sessions are kept (an attacker cannot make each taint a scan).
    for (const [id, entry] of this.#live) {
      const end = entry.session.sealed?.expiresAtMs ?? Number.POSITIVE_INFINITY;
      const expired = end < now;
      if (!expired && this.#live.size <= this.#maxSessions && this.#chars <= this.#maxChars) break;
      if (id === sealed.id) continue;
      this.#drop(id, entry.chars);
      if (expired) continue;
      if (end > this.#evictedThrough) this.#evictedThrough = end;
      this.evictions += 1;
    }
  }

  #drop(id: string, chars: number): void {
    this.#live.delete(id);
    this.#chars -= chars;
  }
}
