// The guardian's validators: ajv standalone code generated at build time from the contracts schemas
// (draft 2020-12, strict) by codegen/validators.ts, so no process compiles a schema (#25);
// test/generated-validators.test.ts checks the generated file against the source schemas.
import type { ErrorObject } from 'ajv/dist/2020.js';

export {
  validateBundle,
  validateChallenge,
  validateGrant,
  validateOverlay,
  validateP0,
  validatePresentation,
  validateRequest,
  validateSession,
  validateStatement,
} from './generated/validators.js';

export function describeErrors(errors: readonly ErrorObject[] | null | undefined): string {
  const first = errors?.[0];
  return first ? `${first.instancePath || '/'} ${first.message ?? 'is invalid'}` : 'is invalid';
}
