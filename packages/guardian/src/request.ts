// The decision request (docs/spec/decision.md §Request): one concrete call plus its context.
import type { DelegationPresentation } from '@helm/contracts/delegation';
import type { RiskTier } from '@helm/contracts/effect';
import type { PolicyScalar } from '@helm/contracts/policy';
import { DIGEST_PATTERN } from '@helm/contracts/wire';
import type { Destination } from './egress.js';
import { ajv } from './internal/schemas.js';
import type { UntrustedInput } from './threat.js';

/**
 * The call's context. The fields a gate establishes authority from — `environment_fingerprint`
 * (stage 1), `credential_id` (stage 2) and `delegation` (stage 5) — are checked by that gate, not by
 * the request schema: absent or malformed, they are that gate's denial (GATE_CONTEXT_MISMATCH,
 * GATE_IDENTITY_ISOLATION, DELEGATION_INVALID), never ARGS_MALFORMED.
 */
export interface DecisionContext {
  /** Fingerprint of the runtime environment, compared with the one bound at construction. */
  readonly environment_fingerprint?: string;
  /** The credential the caller authenticated with (bound to exactly one principal). */
  readonly credential_id?: string;
  /** Where the call sends data, if anywhere. */
  readonly destination?: Destination;
  /** Free text that reached the agent, each with its source channel and trust level. */
  readonly inputs?: readonly UntrustedInput[];
  /** Delegation session presentation (the principal acts for a delegator). */
  readonly delegation?: DelegationPresentation;
  /** Context attributes policy rules may test (declared in the policy vocabulary). */
  readonly attributes?: Readonly<Record<string, PolicyScalar>>;
  /** Proof kinds (PRG) present for this call, e.g. `ticket`, `mfa`. */
  readonly proofs?: readonly string[];
}

export interface DecisionRequest {
  readonly principal: string;
  readonly tenant?: string | null;
  readonly tool: string;
  readonly action: string;
  readonly resource: string;
  /** Effect class from the tool descriptor, e.g. `fs.write`. */
  readonly effect_type: string;
  readonly risk_tier: RiskTier;
  /** The exact arguments (strict JSON). */
  readonly args: unknown;
  /** digest(canonicalBytes(args)); must match. */
  readonly args_hash: string;
  /** Budget units this call consumes (from the tool descriptor; default 1). */
  readonly cost?: number;
  readonly context: DecisionContext;
}

const STR = { type: 'string', minLength: 1, maxLength: 4096 } as const;
const SCALAR = { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] } as const;

export const decisionRequestSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://helm.dev/schemas/helm.decision.request.v1.json',
  type: 'object',
  additionalProperties: false,
  required: [
    'principal',
    'tool',
    'action',
    'resource',
    'effect_type',
    'risk_tier',
    'args',
    'args_hash',
    'context',
  ],
  properties: {
    principal: STR,
    tenant: { anyOf: [STR, { type: 'null' }] },
    tool: { type: 'string', minLength: 1, maxLength: 256 },
    action: { type: 'string', minLength: 1, maxLength: 256 },
    resource: { type: 'string', maxLength: 4096 },
    effect_type: { type: 'string', maxLength: 128, pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$' },
    risk_tier: { enum: ['HIGH', 'MEDIUM', 'LOW'] },
    args: true,
    args_hash: { type: 'string', pattern: DIGEST_PATTERN },
    cost: { type: 'integer', minimum: 0, maximum: 1000000000000 },
    context: {
      type: 'object',
      additionalProperties: false,
      properties: {
        // Gate-owned fields: any JSON here; stages 1, 2 and 5 decide (see DecisionContext).
        environment_fingerprint: true,
        credential_id: true,
        destination: {
          type: 'object',
          additionalProperties: false,
          required: ['host', 'protocol', 'payload_bytes'],
          properties: {
            host: STR,
            protocol: { type: 'string', minLength: 1, maxLength: 32 },
            port: { type: 'integer', minimum: 1, maximum: 65535 },
            payload_bytes: { type: 'integer', minimum: 0, maximum: 9007199254740991 },
          },
        },
        inputs: {
          type: 'array',
          maxItems: 256,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['source', 'trust', 'text'],
            properties: {
              source: STR,
              trust: { enum: ['trusted', 'internal', 'untrusted'] },
              text: { type: 'string', maxLength: 1048576 },
            },
          },
        },
        delegation: true,
        attributes: {
          type: 'object',
          maxProperties: 64,
          propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*){0,7}$' },
          additionalProperties: SCALAR,
        },
        proofs: { type: 'array', maxItems: 32, items: { type: 'string', minLength: 1, maxLength: 128 } },
      },
    },
  },
} as const;

export const validateRequest = ajv.compile(decisionRequestSchema);
