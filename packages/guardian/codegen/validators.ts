// Generates src/internal/generated/validators.ts: the guardian's precompiled ajv validators (#25).
// Run after changing a schema or the ajv version: `pnpm --filter @helm/guardian codegen` (reads the
// built @helm/contracts). test/generated-validators.test.ts regenerates from the source schemas and
// requires the committed file to be exactly this output.
import { writeFileSync } from 'node:fs';
import {
  approvalChallengeSchema,
  approvalStatementSchema,
  delegationGrantSchema,
  delegationPresentationSchema,
  delegationSessionSchema,
  p0CeilingSchema,
  policyBundleSchema,
  policyMatchSchema,
  policyOverlaySchema,
  policyRuleSchema,
} from '@helm/contracts/schemas';
import { DIGEST_PATTERN, KEY_ID_PATTERN } from '@helm/contracts/wire';
import { Ajv2020, type Options } from 'ajv/dist/2020.js';
import standalone from 'ajv/dist/standalone/index.js';
import { renderValidators } from '../../../scripts/lib/ajv-standalone.mjs';
import { decisionRequestSchema } from '../src/internal/request-schema.ts';

/** The options the guardian validated with when it compiled at run time: draft 2020-12, strict. */
export const GUARDIAN_AJV_OPTIONS: Options = { strict: true, allErrors: false };

/** Export name → schema; the schemas other schemas `$ref` are registered too (by their `$id`). */
export const GUARDIAN_VALIDATORS = {
  validateP0: p0CeilingSchema,
  validateBundle: policyBundleSchema,
  validateOverlay: policyOverlaySchema,
  validateGrant: delegationGrantSchema,
  validatePresentation: delegationPresentationSchema,
  validateSession: delegationSessionSchema,
  validateStatement: approvalStatementSchema,
  validateChallenge: approvalChallengeSchema,
  validateRequest: decisionRequestSchema,
} as const;

/** Referenced by $ref from the schemas above (registered once, never exported on their own). */
export const GUARDIAN_REFERENCED = [
  policyMatchSchema,
  policyRuleSchema,
  delegationGrantSchema,
  delegationPresentationSchema,
] as const;

/** A run-time ajv instance configured as the generator's (for the differential test). */
export function guardianAjv(code?: Options['code']): Ajv2020 {
  const ajv = new Ajv2020({ ...GUARDIAN_AJV_OPTIONS, ...(code ? { code } : {}) });
  for (const schema of GUARDIAN_REFERENCED) ajv.addSchema(schema);
  return ajv;
}

export function generate(): string {
  const ajv = guardianAjv({ source: true, esm: true, lines: true });
  const refs: Record<string, string> = {};
  for (const [name, schema] of Object.entries(GUARDIAN_VALIDATORS)) {
    if (!ajv.getSchema(schema.$id)) ajv.addSchema(schema);
    refs[name] = schema.$id;
  }
  const standaloneCode = (standalone as unknown as { default?: typeof standalone }).default ?? standalone;
  return renderValidators({
    ajv,
    standaloneCode,
    refs,
    generator: 'packages/guardian/codegen/validators.ts',
    description: 'The policy, delegation, approval and decision-request schemas.',
    constants: {
      DIGEST_PATTERN: { value: DIGEST_PATTERN, module: '@helm/contracts/wire' },
      KEY_ID_PATTERN: { value: KEY_ID_PATTERN, module: '@helm/contracts/wire' },
    },
  });
}

export const OUTPUT = new URL('../src/internal/generated/validators.ts', import.meta.url);

if (import.meta.main) writeFileSync(OUTPUT, generate());
