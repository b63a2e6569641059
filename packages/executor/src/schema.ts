// JSON Schema (draft 2020-12) compilation and validation for the schema PEP and output drift
// detection. Schemas are compiled once, in ajv strict mode, and cached by their canonical digest, so
// two tools with the same schema share one validator. Validation never mutates the instance (no
// defaults, no coercion, no removal) and its error list is deterministic: sorted and de-duplicated.
import { digest } from '@helm/crypto/hash';
import { canonicalBytes, canonicalize } from '@helm/crypto/jcs';
import { Ajv2020, type AnySchema, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { ExecutorError } from './errors.js';
import { META_SCHEMA_2020, SCHEMA_PEP_AJV_OPTIONS } from './internal/ajv-options.js';
import { validateMetaSchema2020 } from './internal/generated/validators.js';

/** One schema violation, in wire form (snake_case). */
export interface SchemaErrorDetail {
  /** RFC 6901 pointer to the offending value in the instance ("" = the root). */
  readonly instance_path: string;
  /** Pointer into the schema to the failing keyword. */
  readonly schema_path: string;
  /** The failing keyword, e.g. `required`, `type`, `additionalProperties`. */
  readonly keyword: string;
  /** The keyword's parameters as ajv reports them (e.g. `{"missingProperty":"path"}`). */
  readonly params: { readonly [key: string]: unknown };
}

/** At most this many details are reported per validation (the rest are summarised by the count). */
export const MAX_SCHEMA_ERROR_DETAILS = 32;

export interface SchemaValidationResult {
  readonly valid: boolean;
  /**
   * Sorted by the JCS text of each detail — i.e. by instance_path, then keyword, params and
   * schema_path (JCS orders the keys) — de-duplicated, and capped at MAX_SCHEMA_ERROR_DETAILS.
   */
  readonly errors: readonly SchemaErrorDetail[];
  /** Total number of distinct violations before the cap. */
  readonly error_count: number;
}

export interface CompiledSchema {
  /** digest(canonicalBytes(schema)). */
  readonly digest: string;
  validate(instance: unknown): SchemaValidationResult;
}

const VALID: SchemaValidationResult = Object.freeze({
  valid: true,
  errors: Object.freeze([]),
  error_count: 0,
});

function toDetail(error: ErrorObject): SchemaErrorDetail {
  return {
    instance_path: error.instancePath,
    schema_path: error.schemaPath,
    keyword: error.keyword,
    params: JSON.parse(JSON.stringify(error.params ?? {})) as Record<string, unknown>,
  };
}

function sortDetails(errors: readonly ErrorObject[]): { details: SchemaErrorDetail[]; count: number } {
  const byKey = new Map<string, SchemaErrorDetail>();
  for (const error of errors) {
    const detail = toDetail(error);
    byKey.set(canonicalize(detail), detail);
  }
  const keys = [...byKey.keys()].sort();
  return {
    details: keys.slice(0, MAX_SCHEMA_ERROR_DETAILS).map((key) => byKey.get(key) as SchemaErrorDetail),
    count: keys.length,
  };
}

/**
 * A cache of compiled schemas keyed by schema digest. One instance per executor; each schema is
 * compiled by ajv exactly once, in strict mode, with `allErrors` so the reported list is complete.
 * Remote `$ref`s are not resolved (a schema must be self-contained) and `$id`s are not registered
 * globally, so two tools may reuse an `$id` without interfering.
 */
export class SchemaCache {
  readonly #ajv: Ajv2020;
  readonly #compiled = new Map<string, CompiledSchema>();

  constructor() {
    const ajv = new Ajv2020({ ...SCHEMA_PEP_AJV_OPTIONS });
    // ajv checks every schema against its meta-schema, compiling the meta-schema the first time —
    // the largest compilation of a process. The draft 2020-12 meta-schema is precompiled with these
    // options (src/internal/generated/validators.ts); this does what ajv's validateSchema does, at
    // the same point of compile(), with that validator, and leaves any other `$schema` to ajv.
    const ajvValidateSchema = ajv.validateSchema.bind(ajv);
    ajv.validateSchema = (schema: AnySchema, throwOrLogError?: boolean): boolean | Promise<unknown> => {
      if (typeof schema !== 'object' || schema === null) return ajvValidateSchema(schema, throwOrLogError);
      const $schema = (schema as { $schema?: unknown }).$schema;
      if ($schema !== undefined && $schema !== META_SCHEMA_2020)
        return ajvValidateSchema(schema, throwOrLogError);
      const valid = validateMetaSchema2020(schema);
      ajv.errors = valid ? null : (validateMetaSchema2020.errors ?? null);
      if (!valid && throwOrLogError) throw new Error(`schema is invalid: ${ajv.errorsText()}`);
      return valid;
    };
    this.#ajv = ajv;
  }

  /** Number of distinct compiled schemas (for tests and diagnostics). */
  get size(): number {
    return this.#compiled.size;
  }

  /** Compile (or fetch from the cache) the validator for `schema`. Throws SCHEMA_INVALID. */
  compile(schema: unknown): CompiledSchema {
    let schemaDigest: string;
    try {
      schemaDigest = digest(canonicalBytes(schema));
    } catch {
      throw new ExecutorError('SCHEMA_INVALID', 'schema is not representable JSON');
    }
    const cached = this.#compiled.get(schemaDigest);
    if (cached) return cached;
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
      throw new ExecutorError('SCHEMA_INVALID', 'schema must be a JSON object');
    }
    let fn: ValidateFunction;
    try {
      // Compile a private copy so later mutation of the caller's object cannot change the validator.
      fn = this.#ajv.compile(JSON.parse(JSON.stringify(schema)) as object);
    } catch (error) {
      throw new ExecutorError('SCHEMA_INVALID', `schema does not compile: ${(error as Error).message}`);
    }
    const compiled = compiledSchema(schemaDigest, fn);
    this.#compiled.set(schemaDigest, compiled);
    return compiled;
  }
}

function compiledSchema(schemaDigest: string, fn: ValidateFunction): CompiledSchema {
  return {
    digest: schemaDigest,
    validate(instance: unknown): SchemaValidationResult {
      if (fn(instance)) return VALID;
      const { details, count } = sortDetails(fn.errors ?? []);
      return { valid: false, errors: details, error_count: count };
    },
  };
}

/**
 * The CompiledSchema of `schema` from its validator precompiled at build time with
 * SCHEMA_PEP_AJV_OPTIONS (src/internal/generated/validators.ts) — what SchemaCache.compile would
 * return for it, without compiling.
 */
export function precompiledSchema(schema: object, fn: ValidateFunction): CompiledSchema {
  return compiledSchema(digest(canonicalBytes(schema)), fn);
}
