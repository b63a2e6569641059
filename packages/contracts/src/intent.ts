// AuthorizedExecutionIntent (`helm.intent.v1`): issued with every ALLOW decision, signed by the
// guardian key, verified by the SafeExecutor before it runs a driver. Normative: docs/spec/intent.md.
// `intent_id` = digest(canonicalBytes(body without `intent_id`)).

export const INTENT_TYPE = 'helm.intent.v1';

export interface AuthorizedExecutionIntent {
  readonly type: typeof INTENT_TYPE;
  readonly intent_id: string;
  /** The ALLOW decision this intent was issued with. */
  readonly decision_id: string;
  readonly principal: string;
  readonly tenant: string | null;
  readonly tool: string;
  readonly action: string;
  readonly resource: string;
  readonly effect_digest: string;
  readonly args_hash: string;
  readonly policy_stack_hash: string;
  readonly issued_at_ms: number;
  /** Exclusive: the intent is valid while issued_at_ms <= now < expires_at_ms. */
  readonly expires_at_ms: number;
  /** Budget reservation to commit on success / refund on failure. */
  readonly budget_reservation_id: string | null;
  /** Approval grant to consume atomically when execution starts (null when no ceremony was required). */
  readonly approval_grant_id: string | null;
}

const DIGEST = { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } as const;
const MS = { type: 'integer', minimum: 0, maximum: 9007199254740991 } as const;

export const intentSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.intent.v1.json',
  title: 'HELM AuthorizedExecutionIntent',
  type: 'object',
  additionalProperties: false,
  required: [
    'type',
    'intent_id',
    'decision_id',
    'principal',
    'tenant',
    'tool',
    'action',
    'resource',
    'effect_digest',
    'args_hash',
    'policy_stack_hash',
    'issued_at_ms',
    'expires_at_ms',
    'budget_reservation_id',
    'approval_grant_id',
  ],
  properties: {
    type: { const: INTENT_TYPE },
    intent_id: DIGEST,
    decision_id: DIGEST,
    principal: { type: 'string', minLength: 1 },
    tenant: { anyOf: [{ type: 'string' }, { type: 'null' }] },
    tool: { type: 'string', minLength: 1 },
    action: { type: 'string', minLength: 1 },
    resource: { type: 'string' },
    effect_digest: DIGEST,
    args_hash: DIGEST,
    policy_stack_hash: DIGEST,
    issued_at_ms: MS,
    expires_at_ms: MS,
    budget_reservation_id: { anyOf: [{ type: 'string' }, { type: 'null' }] },
    approval_grant_id: { anyOf: [DIGEST, { type: 'null' }] },
  },
} as const;
