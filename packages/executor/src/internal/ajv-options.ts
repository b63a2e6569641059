// The ajv options of the schema PEP (src/schema.ts), in a module of their own (no imports) so that
// codegen/validators.ts generates the precompiled tool-descriptor validator with exactly the options
// tool schemas are compiled with at run time.
export const SCHEMA_PEP_AJV_OPTIONS = {
  strict: true,
  allErrors: true,
  addUsedSchema: false,
  useDefaults: false,
  coerceTypes: false,
  removeAdditional: false,
  validateSchema: true,
} as const;

/** The meta-schema ajv (Ajv2020) validates a schema against when it has no other `$schema`. */
export const META_SCHEMA_2020 = 'https://json-schema.org/draft/2020-12/schema';
