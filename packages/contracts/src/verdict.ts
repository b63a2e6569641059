export const VERDICTS = ['ALLOW', 'DENY', 'ESCALATE'] as const;
export type Verdict = (typeof VERDICTS)[number];
