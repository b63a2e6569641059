// Verdicts of the Guardian (design brief §1): ALLOW, DENY (fail closed, signed denial receipt) or
// ESCALATE (held for a human approval quorum).
export const VERDICTS = ['ALLOW', 'DENY', 'ESCALATE'] as const;
export type Verdict = (typeof VERDICTS)[number];

export function isVerdict(value: unknown): value is Verdict {
  return value === 'ALLOW' || value === 'DENY' || value === 'ESCALATE';
}
