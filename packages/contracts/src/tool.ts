// ToolDescriptor (`helm.tool.v1`): what one tool on the declared surface is, and how it runs.
// Normative: docs/spec/tool-descriptor.md. The SafeExecutor pins `descriptor_digest` at
// registration and denies the tool (TOOL_DESCRIPTOR_CHANGED) as soon as the descriptor it sees
// differs, until an operator re-pins it.
//
// descriptor digest rule: `descriptor_digest = digest(canonicalBytes(descriptor))` — the SHA-256 of
// the RFC 8785 JCS bytes of the whole descriptor, `type` included. A descriptor has no id field.
import type { RiskTier } from './effect.js';

export const TOOL_DESCRIPTOR_TYPE = 'helm.tool.v1';

/** Tool names: lowercase dotted/underscored/dashed identifiers, e.g. `fs.read_file`, `weather-lookup`. */
export const TOOL_NAME_PATTERN = '^[a-z][a-z0-9_-]*(\\.[a-z][a-z0-9_-]*)*$';

/** Upper bound of a per-tool timeout (10 minutes). */
export const MAX_TOOL_TIMEOUT_MS = 600_000;

/** A JSON Schema (draft 2020-12) document, kept as plain JSON data. */
export type JsonSchemaDocument = { readonly [keyword: string]: unknown };

export interface ToolDriverBinding {
  /** Driver kind, e.g. `function`, `sandbox`, `http`. */
  readonly kind: string;
  /**
   * What the driver runs: a function name, a sandbox module digest / registration name, or the
   * absolute URL of an HTTP endpoint. Part of the pinned digest: re-pointing a tool is a change.
   */
  readonly ref: string;
  /** Per-tool wall-clock limit for one driver invocation, in milliseconds. */
  readonly timeout_ms: number;
}

export interface ToolDescriptor {
  readonly type: typeof TOOL_DESCRIPTOR_TYPE;
  readonly name: string;
  readonly description: string;
  /** Draft 2020-12 JSON Schema the arguments must satisfy (the schema PEP). */
  readonly input_schema: JsonSchemaDocument;
  /** Draft 2020-12 JSON Schema the output must satisfy; violations are contract drift. */
  readonly output_schema: JsonSchemaDocument;
  /** Effect class, e.g. `fs.write`, `net.egress` (see EFFECT_CLASSES). */
  readonly effect_type: string;
  readonly risk_tier: RiskTier;
  /** The effect's `action`. */
  readonly action: string;
  /**
   * RFC 6901 JSON Pointer into the arguments whose string value is the effect's `resource`
   * (e.g. `/path`). Absent: the resource is the tool name.
   */
  readonly resource_pointer?: string;
  /**
   * Egress destination for tools that leave the process: a URL origin such as
   * `https://api.example.com` or `http://127.0.0.1:8080` (scheme, host, optional port; nothing else).
   * The executor derives Gate 3's destination from it and the driver may contact nothing else.
   */
  readonly destination?: string;
  /** Budget units one call consumes (default 1). */
  readonly cost?: number;
  readonly driver: ToolDriverBinding;
}
