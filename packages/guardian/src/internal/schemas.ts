// The one ajv instance of the guardian: draft 2020-12, strict, every contracts schema registered.
import {
  delegationGrantSchema,
  delegationPresentationSchema,
  delegationSessionSchema,
  p0CeilingSchema,
  policyBundleSchema,
  policyMatchSchema,
  policyOverlaySchema,
  policyRuleSchema,
} from '@helm/contracts/schemas';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';

export const ajv = new Ajv2020({ strict: true, allErrors: false });
for (const schema of [
  policyMatchSchema,
  policyRuleSchema,
  delegationGrantSchema,
  delegationPresentationSchema,
]) {
  ajv.addSchema(schema);
}

export const validateP0 = ajv.compile(p0CeilingSchema);
export const validateBundle = ajv.compile(policyBundleSchema);
export const validateOverlay = ajv.compile(policyOverlaySchema);
export const validateGrant = ajv.compile(delegationGrantSchema);
export const validatePresentation = ajv.compile(delegationPresentationSchema);
export const validateSession = ajv.compile(delegationSessionSchema);

export function describeErrors(errors: readonly ErrorObject[] | null | undefined): string {
  const first = errors?.[0];
  return first ? `${first.instancePath || '/'} ${first.message ?? 'is invalid'}` : 'is invalid';
}
