// Test support for precompiled ajv validators (scripts/lib/ajv-standalone.mjs): inputs that reach
// deep into a schema — a valid example built from the schema, then every single-point mutation of
// it — so a differential test can require the generated validator and one ajv compiles at run time
// to agree on every verdict and every error object.

/** Candidate strings; a string schema takes the first that satisfies its pattern and lengths. */
const STRINGS = [
  'a',
  `sha256:${'0'.repeat(64)}`,
  `ed25519:${'0'.repeat(64)}`,
  'A'.repeat(43),
  'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP',
  'helm.x.v1',
  'fs.write',
  'x.y',
  'local',
  'https://example.com',
  'AAAA',
  '',
];

function sampleString(schema) {
  const re = schema.pattern === undefined ? undefined : new RegExp(schema.pattern, 'u');
  const ok = (s) =>
    (re === undefined || re.test(s)) &&
    s.length >= (schema.minLength ?? 0) &&
    s.length <= (schema.maxLength ?? Number.POSITIVE_INFINITY);
  return STRINGS.find(ok) ?? 'a'.repeat(schema.minLength ?? 1);
}

/**
 * A (usually valid) instance of `schema`; `byId` resolves `$ref`s by the last path segment of the
 * target's `$id` (how the contracts schemas refer to each other).
 */
export function exampleOf(schema, byId, depth = 0) {
  if (schema === true || schema === undefined) return 'any';
  if (depth > 12) return null;
  if (schema.$ref !== undefined) {
    const name = schema.$ref.split('/').pop();
    const target = byId.get(name);
    return target === undefined ? null : exampleOf(target, byId, depth + 1);
  }
  if ('const' in schema) return schema.const;
  if (schema.enum !== undefined) return schema.enum[0];
  if (schema.anyOf !== undefined) return exampleOf(schema.anyOf[0], byId, depth + 1);
  if (schema.oneOf !== undefined) return exampleOf(schema.oneOf[0], byId, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const out = {};
      const props = schema.properties ?? {};
      const keys = new Set([...(schema.required ?? []), ...Object.keys(props)]);
      for (const key of keys) out[key] = exampleOf(props[key], byId, depth + 1);
      return out;
    }
    case 'array': {
      const n = Math.max(schema.minItems ?? 0, 1);
      const items = [];
      for (let i = 0; i < n; i++) items.push(exampleOf(schema.items, byId, depth + 1));
      return schema.uniqueItems && n === 1 ? items : items.slice(0, Math.max(1, schema.maxItems ?? 1));
    }
    case 'string':
      return sampleString(schema);
    case 'integer':
    case 'number':
      return Math.max(
        schema.minimum ?? 0,
        schema.exclusiveMinimum === undefined ? 0 : schema.exclusiveMinimum + 1,
      );
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return {};
  }
}

/** Wrong or edge values put in place of one value. */
const REPLACEMENTS = [
  null,
  0,
  -1,
  1.5,
  2 ** 53,
  '',
  'x',
  '\u{1F600}'.repeat(3),
  'é'.repeat(300),
  `sha256:${'0'.repeat(63)}`,
  true,
  [],
  [1, 1],
  {},
  { zz_unknown: 1 },
];

/** `value`, and every variant with one change at one place (depth-limited). */
export function mutations(value, depth = 0) {
  const out = [value];
  if (depth > 5) return out;
  if (Array.isArray(value)) {
    out.push([], [...value, ...value], [...value, null]);
    value.forEach((item, i) => {
      for (const m of mutations(item, depth + 1).slice(1)) out.push(value.map((v, j) => (j === i ? m : v)));
    });
  } else if (value !== null && typeof value === 'object') {
    out.push({ ...value, zz_unknown: 1 });
    for (const key of Object.keys(value)) {
      const { [key]: _dropped, ...rest } = value;
      out.push(rest);
      for (const r of REPLACEMENTS) out.push({ ...value, [key]: r });
      for (const m of mutations(value[key], depth + 1).slice(1)) out.push({ ...value, [key]: m });
    }
  } else {
    for (const r of REPLACEMENTS) out.push(r);
  }
  return out;
}

/**
 * Runs both validators on every input; returns the inputs where the verdict or the error objects
 * (instancePath, schemaPath, keyword, params, message — everything ajv reports) differ.
 */
export function disagreements(precompiled, compiled, inputs) {
  const out = [];
  for (const input of inputs) {
    const a = precompiled(input);
    const aErrors = JSON.stringify(precompiled.errors ?? null);
    const b = compiled(input);
    const bErrors = JSON.stringify(compiled.errors ?? null);
    if (a !== b || aErrors !== bErrors)
      out.push({ input, precompiled: [a, aErrors], compiled: [b, bErrors] });
  }
  return out;
}
