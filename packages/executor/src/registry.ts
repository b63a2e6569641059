// The tool registry (Layer A, the declared surface). Registering a tool validates its descriptor,
// compiles its input and output schemas, and pins the descriptor digest. The registry keeps a deep,
// frozen copy made from the canonical bytes, so mutating the caller's object changes nothing. A tool
// whose advertised descriptor later differs from the pinned one is denied (TOOL_DESCRIPTOR_CHANGED)
// until an operator re-pins it with the digest they reviewed.
import { toolDescriptorSchema } from '@helm/contracts/schemas';
import type { ToolDescriptor } from '@helm/contracts/tool';
import { canonicalDigest } from '@helm/crypto/digests';
import { digestText } from '@helm/crypto/hash';
import { canonicalize } from '@helm/crypto/jcs';
import type { Driver } from './driver.js';
import { parseOrigin } from './effect.js';
import { ExecutorError } from './errors.js';
import { deepFreeze } from './internal/frozen.js';
import { validateToolDescriptor } from './internal/generated/validators.js';
import { type CompiledSchema, precompiledSchema, SchemaCache } from './schema.js';

/** digest(canonicalBytes(descriptor)) — the pinned identity of a descriptor. */
export function descriptorDigest(descriptor: ToolDescriptor): string {
  return canonicalDigest(descriptor);
}

export interface RegisteredTool {
  readonly name: string;
  /** The pinned descriptor (deeply frozen). */
  readonly descriptor: ToolDescriptor;
  /** The pinned digest. */
  readonly descriptor_digest: string;
  readonly driver: Driver;
  readonly input: CompiledSchema;
  readonly output: CompiledSchema;
  /** Digest of a differing descriptor the tool advertised since the last pin, if any. */
  readonly drifted_digest: string | null;
}

export interface PinnedTool {
  readonly name: string;
  readonly descriptor_digest: string;
}

function isAbsoluteJsonPointer(pointer: string): boolean {
  return pointer === '' || pointer.startsWith('/');
}

export class ToolRegistry {
  readonly #schemas: SchemaCache;
  readonly #tools = new Map<string, RegisteredTool>();
  readonly #validateDescriptor: CompiledSchema;

  constructor(schemas: SchemaCache = new SchemaCache()) {
    this.#schemas = schemas;
    // Precompiled at build time (#25): no process compiles the descriptor schema.
    this.#validateDescriptor = precompiledSchema(toolDescriptorSchema, validateToolDescriptor);
  }

  /** Number of compiled schemas shared by all tools (schemas are cached by digest). */
  get compiledSchemaCount(): number {
    return this.#schemas.size;
  }

  #admit(descriptor: ToolDescriptor, driver: Driver): Omit<RegisteredTool, 'drifted_digest'> {
    let copy: ToolDescriptor;
    let pinned: string;
    try {
      const text = canonicalize(descriptor);
      copy = deepFreeze(JSON.parse(text) as ToolDescriptor);
      pinned = digestText(text);
    } catch {
      throw new ExecutorError('TOOL_DESCRIPTOR_INVALID', 'descriptor is not representable JSON');
    }
    const check = this.#validateDescriptor.validate(copy);
    if (!check.valid) {
      throw new ExecutorError(
        'TOOL_DESCRIPTOR_INVALID',
        `descriptor violates helm.tool.v1: ${check.errors.map((e) => `${e.instance_path} ${e.keyword}`).join('; ')}`,
      );
    }
    if (copy.resource_pointer !== undefined && !isAbsoluteJsonPointer(copy.resource_pointer)) {
      throw new ExecutorError('TOOL_DESCRIPTOR_INVALID', 'resource_pointer must be an RFC 6901 pointer');
    }
    if (copy.destination !== undefined && !parseOrigin(copy.destination)) {
      throw new ExecutorError('TOOL_DESCRIPTOR_INVALID', 'destination must be a canonical URL origin');
    }
    if (driver.kind !== copy.driver.kind) {
      throw new ExecutorError(
        'DRIVER_BINDING_MISMATCH',
        `descriptor wants a ${copy.driver.kind} driver, got ${driver.kind}`,
      );
    }
    const input = this.#schemas.compile(copy.input_schema);
    const output = this.#schemas.compile(copy.output_schema);
    try {
      driver.bind?.(copy);
    } catch (error) {
      throw new ExecutorError(
        'DRIVER_BINDING_MISMATCH',
        `driver refused the binding: ${(error as Error).message}`,
      );
    }
    return { name: copy.name, descriptor: copy, descriptor_digest: pinned, driver, input, output };
  }

  /** Register a new tool and pin its descriptor. Throws ExecutorError on any problem. */
  register(descriptor: ToolDescriptor, driver: Driver): PinnedTool {
    const name = (descriptor as { name?: unknown } | null)?.name;
    if (typeof name === 'string' && this.#tools.has(name)) {
      throw new ExecutorError(
        'TOOL_ALREADY_REGISTERED',
        `tool ${name} is already registered; re-pin to change it`,
      );
    }
    const tool = this.#admit(descriptor, driver);
    this.#tools.set(tool.name, { ...tool, drifted_digest: null });
    return { name: tool.name, descriptor_digest: tool.descriptor_digest };
  }

  /**
   * Record the descriptor a tool currently advertises (e.g. a connector re-listed its tools). If it
   * differs from the pinned one, the tool is denied until re-pinned. Returns the advertised digest.
   */
  observe(descriptor: ToolDescriptor): string {
    const tool = this.#tools.get(descriptor.name);
    if (!tool) throw new ExecutorError('TOOL_UNKNOWN', `tool ${descriptor.name} is not registered`);
    let seen: string;
    try {
      seen = descriptorDigest(descriptor);
    } catch {
      seen = 'unrepresentable';
    }
    if (seen !== tool.descriptor_digest) this.#tools.set(tool.name, { ...tool, drifted_digest: seen });
    return seen;
  }

  /**
   * Re-pin a tool to `descriptor` (operator action). `expectedDigest` must equal the descriptor's
   * digest — the operator confirms exactly what they reviewed. Clears any drift mark.
   */
  repin(descriptor: ToolDescriptor, expectedDigest: string, driver?: Driver): PinnedTool {
    const current = this.#tools.get(descriptor.name);
    if (!current) throw new ExecutorError('TOOL_UNKNOWN', `tool ${descriptor.name} is not registered`);
    const tool = this.#admit(descriptor, driver ?? current.driver);
    if (tool.descriptor_digest !== expectedDigest) {
      throw new ExecutorError(
        'REPIN_MISMATCH',
        `descriptor digest is ${tool.descriptor_digest}, not ${expectedDigest}`,
      );
    }
    this.#tools.set(tool.name, { ...tool, drifted_digest: null });
    return { name: tool.name, descriptor_digest: tool.descriptor_digest };
  }

  get(name: string): RegisteredTool | undefined {
    return this.#tools.get(name);
  }

  /** The pinned surface, sorted by name. */
  list(): readonly PinnedTool[] {
    return [...this.#tools.values()]
      .map((t) => ({ name: t.name, descriptor_digest: t.descriptor_digest }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
