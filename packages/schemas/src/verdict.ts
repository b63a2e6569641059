// JSON Schema of verdict (data for external validators; the TCB verifiers check the same rules in
// code and do not import this module). Types and constants: @helm/contracts (verdict.ts).
import { VERDICTS } from '@helm/contracts';

export const VerdictSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.verdict.v1.json',
  title: 'Verdict',
  description: 'ALLOW, DENY or ESCALATE.',
  enum: [...VERDICTS],
} as const;
