import { helmVitestConfig } from '../../vitest.shared.ts';

export default helmVitestConfig({
  // src/internal/generated/validators.ts is ajv standalone code generated from the schemas
  // (codegen/validators.ts): the code ajv generated at run time before #25, never in coverage then.
  // test/generated-validators.test.ts requires it to equal a fresh generation from the source
  // schemas and to agree with ajv compiling them at run time on every verdict and error object;
  // the gate keeps measuring exactly the hand-written code it measured before.
  coverageExclude: ['src/internal/generated/validators.ts'],
});
