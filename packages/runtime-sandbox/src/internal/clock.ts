// The clock port used to measure a call's wall time (never exposed to the guest).

export interface Clock {
  /** Monotonic milliseconds (fractional allowed). */
  nowMs(): number;
}

/** Default clock: the process's monotonic high-resolution timer. Listed in TCB_POLICY injectionPoints. */
export function systemClock(): Clock {
  return { nowMs: () => performance.now() };
}
