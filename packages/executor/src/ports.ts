// Ports: what the executor needs from the world, injected by the caller. The TCB reads no ambient
// time and schedules nothing on its own; a CLI or server passes real implementations, tests pass
// deterministic ones.

/** Injected clock: integer Unix epoch milliseconds (the same shape as @helm/guardian's Clock). */
export interface Clock {
  now(): number;
}

/** Injected timer used for per-tool driver timeouts (`{ setTimeout, clearTimeout }` fits). */
export interface Timer {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
