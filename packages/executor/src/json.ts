// JSON values as the executor sees them: the only thing that crosses the PEP into a driver and the
// only thing a driver may return.

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | readonly JsonValue[] | { readonly [key: string]: JsonValue };
