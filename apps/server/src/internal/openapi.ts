// GET /openapi.json: the OpenAPI 3.1 document of the API, its components taken from the
// JSON Schemas of @helm/schemas and @helm/evidencepack (draft 2020-12, which OpenAPI 3.1 uses as is), so the wire types the
// server answers with are described by the same schemas the verifiers use.

import { evidencePackManifestSchema, governanceEventSchema } from '@helm/evidencepack';
import {
  approvalChallengeSchema,
  approvalStatementSchema,
  delegationSessionSchema,
  ReasonCodeSchema,
  receiptSchema,
  SignedEnvelopeSchema,
  VerdictSchema,
} from '@helm/schemas';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const errorResponse = (description: string) => ({ description, ...json(ref('Error')) });
const secured = [{ bearer: [] }];

const standardErrors = {
  '400': errorResponse('malformed request (strict JSON, unknown field, bad parameter)'),
  '401': errorResponse('no valid bearer token'),
  '403': errorResponse('missing scope, or the body names another principal/tenant'),
  '405': errorResponse('method not allowed'),
  '413': errorResponse('body over the limit'),
  '429': errorResponse('rate limited'),
  '503': errorResponse('store unavailable or shutting down: nothing executed'),
};

const CALL_REQUEST = {
  type: 'object',
  additionalProperties: false,
  properties: {
    tool: { type: 'string' },
    args: {},
    args_text: { type: 'string', description: 'arguments as strict JSON text (parsed by the PEP)' },
    principal: { type: 'string', description: "must equal the identity's principal when given" },
    tenant: { type: 'string', description: "must equal the identity's tenant when given" },
    idempotency_key: { type: 'string' },
    session: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
    code_verifier: { type: 'string' },
    challenge: { type: 'string', description: 'run the call an approved challenge holds (alone)' },
  },
};

let cached: unknown;

export function openApiDocument(): unknown {
  cached ??= {
    openapi: '3.1.0',
    info: {
      title: 'HELM-TS server',
      version: '1',
      description: 'helmts serve: governed calls, approvals and evidence',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'API key (helm_…) or OIDC JWT' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' }, hint: { type: 'string' } },
            },
          },
        },
        CallRequest: CALL_REQUEST,
        SignedEnvelope: SignedEnvelopeSchema,
        Receipt: receiptSchema,
        ReasonCode: ReasonCodeSchema,
        Verdict: VerdictSchema,
        ApprovalChallenge: approvalChallengeSchema,
        ApprovalStatement: approvalStatementSchema,
        GovernanceEvent: governanceEventSchema,
        DelegationSession: delegationSessionSchema,
        EvidencePackManifest: evidencePackManifestSchema,
      },
    },
    paths: {
      '/healthz': { get: { summary: 'liveness', responses: { '200': { description: 'alive' } } } },
      '/readyz': {
        get: {
          summary: 'store reachable, keys loaded, policy valid',
          responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus text (scope audit)',
          security: secured,
          responses: { '200': { description: 'metrics' }, ...standardErrors },
        },
      },
      '/v1/calls': {
        post: {
          summary: 'one governed call (scope call)',
          security: secured,
          requestBody: { required: true, ...json(ref('CallRequest')) },
          responses: {
            '200': {
              description: 'decided and receipted (SUCCEEDED, FAILED or DENIED)',
              ...json({
                type: 'object',
                properties: {
                  status: { type: 'string' },
                  verdict: ref('Verdict'),
                  reason_code: ref('ReasonCode'),
                  receipt: ref('SignedEnvelope'),
                  receipt_hash: { type: 'string' },
                  output: {},
                },
              }),
            },
            '202': { description: 'ESCALATED: approval_challenge_id names the challenge' },
            ...standardErrors,
          },
        },
      },
      '/v1/calls/{id}': {
        get: {
          summary: 'a recorded call by receipt id (scope audit, or call for own calls)',
          security: secured,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { description: 'the receipt and request' },
            '404': errorResponse('unknown'),
            ...standardErrors,
          },
        },
      },
      '/v1/approvals': {
        get: {
          summary: 'challenges by state (scope approve or audit)',
          security: secured,
          parameters: [{ name: 'state', in: 'query', schema: { type: 'string', default: 'pending' } }],
          responses: { '200': { description: 'challenges' }, ...standardErrors },
        },
      },
      '/v1/approvals/{id}': {
        get: {
          summary: 'the full binding of one challenge',
          security: secured,
          responses: { '200': { description: 'challenge view' }, ...standardErrors },
        },
        post: {
          summary: 'submit a signed approval or denial event (scope approve)',
          security: secured,
          requestBody: {
            required: true,
            ...json({ type: 'object', properties: { event: ref('SignedEnvelope') } }),
          },
          responses: {
            '200': { description: 'recorded' },
            '409': errorResponse('refused'),
            ...standardErrors,
          },
        },
      },
      '/v1/delegations': {
        get: {
          summary: 'delegation sessions (scope admin or audit)',
          security: secured,
          responses: { '200': { description: 'sessions' }, ...standardErrors },
        },
        post: {
          summary: 'create a session for the identity as delegator (scope admin)',
          security: secured,
          responses: {
            '201': {
              description: 'created',
              ...json({
                type: 'object',
                properties: {
                  session: ref('DelegationSession'),
                  code_verifier: { type: ['string', 'null'] },
                },
              }),
            },
            ...standardErrors,
          },
        },
      },
      '/v1/delegations/{id}': {
        delete: {
          summary: 'revoke a session (scope admin)',
          security: secured,
          responses: { '200': { description: 'revoked' }, ...standardErrors },
        },
      },
      '/v1/receipts': {
        get: {
          summary: 'receipts by Lamport range (scope audit)',
          security: secured,
          parameters: ['from', 'to', 'limit'].map((name) => ({
            name,
            in: 'query',
            schema: { type: 'integer', minimum: 1 },
          })),
          responses: { '200': { description: 'receipts' }, ...standardErrors },
        },
      },
      '/v1/evidencepack': {
        get: {
          summary: 'the EvidencePack, byte for byte what `helmts export` writes (scope audit)',
          security: secured,
          responses: {
            '200': { description: 'tar', content: { 'application/x-tar': {} } },
            ...standardErrors,
          },
        },
      },
      '/v1/evidencepack/verify': {
        post: {
          summary: 'verify a pack offline (any authenticated identity; bounded)',
          security: secured,
          requestBody: { content: { 'application/x-tar': {} } },
          responses: {
            '200': { description: 'PASS' },
            '422': { description: 'FAILED or UNVERIFIABLE' },
            ...standardErrors,
          },
        },
      },
      '/v1/log/checkpoint': {
        get: {
          summary: 'C2SP signed checkpoint of the receipt log (scope audit)',
          security: secured,
          responses: { '200': { description: 'signed note', content: { 'text/plain': {} } } },
        },
      },
      '/v1/log/inclusion': {
        get: {
          summary: 'inclusion proof of a receipt by Lamport (scope audit)',
          security: secured,
          responses: { '200': { description: 'proof (base64 hashes)' } },
        },
      },
      '/v1/log/consistency': {
        get: {
          summary: 'consistency proof between tree sizes (scope audit)',
          security: secured,
          responses: { '200': { description: 'proof (base64 hashes)' } },
        },
      },
      '/mcp': {
        post: {
          summary:
            'MCP (Streamable HTTP, 2025-11-25 and 2026-07-28) for the authenticated identity (scope call; `helmts serve --mcp`, docs/mcp-gateway.md); 404 when not served',
          security: secured,
          responses: { '200': { description: 'JSON-RPC response (JSON or SSE)' } },
        },
      },
    },
  };
  return cached;
}
