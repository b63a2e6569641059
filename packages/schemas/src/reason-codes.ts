// JSON Schema of reason-codes (data for external validators; the TCB verifiers check the same rules in
// code and do not import this module). Types and constants: @helm/contracts (reason-codes.ts).
import { REASON_CODE_LIST } from '@helm/contracts';

/** JSON Schema of a reason code: exactly the registered strings. */
export const ReasonCodeSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.reason_code.v1.json',
  title: 'ReasonCode',
  description: 'A code from the closed reason-code registry (docs/spec/reason-codes.md).',
  type: 'string',
  enum: [...REASON_CODE_LIST],
} as const;
