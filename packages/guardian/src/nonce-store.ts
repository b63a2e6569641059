// One-time nonce store port (delegation presentations). `consume` is an atomic check-and-set.

export interface NonceStore {
  /** Whether the nonce was already consumed (read-only). */
  has(key: string): boolean;
  /** Mark consumed; returns false (and changes nothing) when it already was. */
  consume(key: string): boolean;
}

export class InMemoryNonceStore implements NonceStore {
  private readonly used = new Set<string>();
  has(key: string): boolean {
    return this.used.has(key);
  }
  consume(key: string): boolean {
    if (this.used.has(key)) return false;
    this.used.add(key);
    return true;
  }
}
