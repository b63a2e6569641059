// Unit tests for the registry, schema cache, effect construction, PEP and idempotency keys.
import type { ToolDescriptor } from '@helm/contracts';
import { canonicalBytes, digest } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
// Internal helpers of effect building, tested directly (not part of the public surface).
import { egressDestination, parseOrigin, resolveResource } from '../src/effect.ts';
import {
  buildEffect,
  clientIdempotencyKey,
  type Driver,
  deriveIdempotencyKey,
  descriptorDigest,
  type ExecutorError,
  functionDriver,
  InMemoryIdempotencyStore,
  MAX_SCHEMA_ERROR_DETAILS,
  prepareArgsText,
  prepareArgsValue,
  SchemaCache,
  ToolRegistry,
} from '../src/index.ts';

const base: ToolDescriptor = {
  type: 'helm.tool.v1',
  name: 'net.fetch',
  description: 'fetch',
  input_schema: { type: 'object', properties: { url: { type: 'string' } } },
  output_schema: { type: 'object' },
  effect_type: 'net.egress',
  risk_tier: 'MEDIUM',
  action: 'GET',
  resource_pointer: '/url',
  destination: 'https://api.example.com:8443',
  driver: { kind: 'function', ref: 'fetch', timeout_ms: 100 },
};
const noop = functionDriver(() => ({}));

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as ExecutorError).code;
  }
  return undefined;
}

describe('ToolRegistry', () => {
  it('pins the JCS digest and keeps a frozen private copy', () => {
    const registry = new ToolRegistry();
    const mine = structuredClone(base) as { description: string } & ToolDescriptor;
    const pinned = registry.register(mine, noop);
    expect(pinned.descriptor_digest).toBe(digest(canonicalBytes(base)));
    expect(pinned.descriptor_digest).toBe(descriptorDigest(base));
    mine.description = 'changed after registration';
    const tool = registry.get('net.fetch')!;
    expect(tool.descriptor.description).toBe('fetch');
    expect(Object.isFrozen(tool.descriptor.input_schema)).toBe(true);
    expect(registry.list()).toEqual([pinned]);
  });

  it('rejects invalid descriptors and bindings', () => {
    const registry = new ToolRegistry();
    const bad = (d: unknown, driver: Driver = noop) =>
      code(() => registry.register(d as ToolDescriptor, driver));
    expect(bad({ ...base, name: 'Bad Name' })).toBe('TOOL_DESCRIPTOR_INVALID');
    expect(bad({ ...base, extra: 1 })).toBe('TOOL_DESCRIPTOR_INVALID');
    expect(bad({ ...base, description: undefined })).toBe('TOOL_DESCRIPTOR_INVALID');
    expect(bad({ ...base, cost: Number.NaN })).toBe('TOOL_DESCRIPTOR_INVALID');
    expect(bad({ ...base, destination: 'https://api.example.com/path' })).toBe('TOOL_DESCRIPTOR_INVALID');
    expect(bad({ ...base, destination: 'https://API.example.com' })).toBe('TOOL_DESCRIPTOR_INVALID');
    expect(bad({ ...base, destination: 'https://api.example.com:443' })).toBe('TOOL_DESCRIPTOR_INVALID');
    expect(bad({ ...base, driver: { ...base.driver, timeout_ms: 0 } })).toBe('TOOL_DESCRIPTOR_INVALID');
    expect(bad(base, { kind: 'http', invoke: () => 1 })).toBe('DRIVER_BINDING_MISMATCH');
    expect(
      bad(base, {
        kind: 'function',
        bind: () => {
          throw new Error('no');
        },
        invoke: () => 1,
      }),
    ).toBe('DRIVER_BINDING_MISMATCH');
    expect(bad({ ...base, input_schema: { type: 'object', format: 'nonsense-format' } })).toBe(
      'SCHEMA_INVALID',
    );
    expect(bad({ ...base, output_schema: { type: 'objekt' } })).toBe('SCHEMA_INVALID');
    expect(bad({ ...base, output_schema: { $ref: 'https://elsewhere.example/schema.json' } })).toBe(
      'SCHEMA_INVALID',
    );
    registry.register(base, noop);
    expect(bad(base)).toBe('TOOL_ALREADY_REGISTERED');
  });

  it('observe / repin', () => {
    const registry = new ToolRegistry();
    const pinned = registry.register(base, noop);
    expect(registry.observe(base)).toBe(pinned.descriptor_digest);
    expect(registry.get(base.name)?.drifted_digest).toBeNull();
    const changed = { ...base, action: 'POST' };
    registry.observe(changed);
    expect(registry.get(base.name)?.drifted_digest).toBe(descriptorDigest(changed));
    expect(code(() => registry.observe({ ...base, name: 'other' }))).toBe('TOOL_UNKNOWN');
    expect(code(() => registry.repin({ ...base, name: 'other' }, 'x'))).toBe('TOOL_UNKNOWN');
    expect(code(() => registry.repin(changed, pinned.descriptor_digest))).toBe('REPIN_MISMATCH');
    const cyclic: Record<string, unknown> = { ...base };
    cyclic.self = cyclic;
    expect(registry.observe(cyclic as unknown as ToolDescriptor)).toBe('unrepresentable');
    expect(code(() => new ToolRegistry().register(cyclic as unknown as ToolDescriptor, noop))).toBe(
      'TOOL_DESCRIPTOR_INVALID',
    );
    const again = registry.repin(
      changed,
      descriptorDigest(changed),
      functionDriver(() => 1),
    );
    expect(registry.get(base.name)?.drifted_digest).toBeNull();
    expect(again.descriptor_digest).toBe(descriptorDigest(changed));
  });

  it('lists tools sorted by name and shares compiled schemas', () => {
    const registry = new ToolRegistry();
    registry.register({ ...base, name: 'zeta' }, noop);
    registry.register({ ...base, name: 'alpha' }, noop);
    registry.register({ ...base, name: 'mid' }, noop);
    expect(registry.list().map((t) => t.name)).toEqual(['alpha', 'mid', 'zeta']);
    // One input + one output schema, shared by all three tools (the descriptor schema is precompiled).
    expect(registry.compiledSchemaCount).toBe(2);
  });
});

describe('SchemaCache', () => {
  it('rejects non-object and unrepresentable schemas', () => {
    const cache = new SchemaCache();
    expect(code(() => cache.compile([]))).toBe('SCHEMA_INVALID');
    expect(code(() => cache.compile('string'))).toBe('SCHEMA_INVALID');
    expect(code(() => cache.compile({ a: undefined }))).toBe('SCHEMA_INVALID');
  });

  it('caps the reported details but counts them all', () => {
    const cache = new SchemaCache();
    const props: Record<string, unknown> = {};
    for (let i = 0; i < 40; i++) props[`p${String(i).padStart(2, '0')}`] = { type: 'string' };
    const schema = cache.compile({ type: 'object', properties: props });
    const instance = Object.fromEntries(Object.keys(props).map((k) => [k, 1]));
    const result = schema.validate(instance);
    expect(result.valid).toBe(false);
    expect(result.error_count).toBe(40);
    expect(result.errors).toHaveLength(MAX_SCHEMA_ERROR_DETAILS);
    expect(result.errors[0]?.instance_path).toBe('/p00');
    expect(schema.validate({ p01: 'x' })).toEqual({ valid: true, errors: [], error_count: 0 });
  });

  it('does not mutate or coerce instances', () => {
    const cache = new SchemaCache();
    const schema = cache.compile({ type: 'object', properties: { n: { type: 'integer', default: 5 } } });
    const instance = { n: '1' };
    expect(schema.validate(instance).valid).toBe(false);
    expect(instance).toEqual({ n: '1' });
    const empty = {};
    schema.validate(empty);
    expect(empty).toEqual({});
  });
});

describe('effect construction', () => {
  it('resolves RFC 6901 pointers', () => {
    const args = { a: { 'b/c': ['x', { '~k': 'deep' }] }, s: 'top', n: 3 };
    expect(resolveResource(args, undefined, 'tool')).toBe('tool');
    expect(resolveResource(args, '/s', 'tool')).toBe('top');
    expect(resolveResource(args, '/n', 'tool')).toBe('3');
    expect(resolveResource(args, '/a/b~1c/0', 'tool')).toBe('x');
    expect(resolveResource(args, '/a/b~1c/1/~0k', 'tool')).toBe('deep');
    expect(resolveResource(args, '/a/b~1c/01', 'tool')).toBe('');
    expect(resolveResource(args, '/a/b~1c/7', 'tool')).toBe('');
    expect(resolveResource(args, '/s/x', 'tool')).toBe('');
    expect(resolveResource(args, '/missing', 'tool')).toBe('');
    expect(resolveResource(args, '/toString', 'tool')).toBe('');
    expect(resolveResource(args, '', 'tool')).toBe('{"a":{"b/c":["x",{"~k":"deep"}]},"n":3,"s":"top"}');
  });

  it('parses canonical origins only', () => {
    expect(parseOrigin('https://api.example.com')).toEqual({ host: 'api.example.com', protocol: 'https' });
    expect(parseOrigin('http://127.0.0.1:8080')).toEqual({ host: '127.0.0.1', protocol: 'http', port: 8080 });
    expect(parseOrigin('http://[::1]:9')).toEqual({ host: '::1', protocol: 'http', port: 9 });
    expect(parseOrigin('https://api.example.com/')).toBeUndefined();
    expect(parseOrigin('nope')).toBeUndefined();
    expect(parseOrigin('file:///etc')).toBeUndefined();
  });

  it('builds the effect and Gate 3 destination from the descriptor only', () => {
    const args = { url: '/v1/x' };
    const effect = buildEffect(base, 'alice', args, 'sha256:aa');
    expect(effect).toEqual({
      type: 'helm.effect.v1',
      effect_type: 'net.egress',
      tool: 'net.fetch',
      action: 'GET',
      resource: '/v1/x',
      principal: 'alice',
      args_hash: 'sha256:aa',
      destination: 'api.example.com',
      risk_tier: 'MEDIUM',
    });
    expect(egressDestination(base, new Uint8Array(12))).toEqual({
      host: 'api.example.com',
      protocol: 'https',
      port: 8443,
      payload_bytes: 12,
    });
    const local = { ...base, destination: undefined } as unknown as ToolDescriptor;
    expect(egressDestination(local, new Uint8Array(1))).toBeNull();
    expect('destination' in buildEffect(local, 'a', args, 'h')).toBe(false);
    const broken = { ...base, destination: 'garbage' };
    expect(egressDestination(broken, new Uint8Array(1))).toEqual({
      host: '',
      protocol: 'invalid',
      payload_bytes: 1,
    });
  });
});

describe('PEP argument step', () => {
  it('hashes the JCS bytes and returns a frozen canonical copy', () => {
    const input = { b: [1, { d: true }], a: 'x' };
    const r = prepareArgsValue(input);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.args.canonical).toBe('{"a":"x","b":[1,{"d":true}]}');
    expect(r.args.args_hash).toBe(digest(canonicalBytes(input)));
    expect(r.args.value).not.toBe(input);
    expect(Object.isFrozen((r.args.value as { b: object }).b)).toBe(true);
  });

  it('a getter cannot smuggle a different value to the driver', () => {
    let n = 0;
    const tricky = {
      get path() {
        n++;
        return n === 1 ? '/safe' : '/etc/shadow';
      },
    };
    const r = prepareArgsValue(tricky);
    expect(r.ok && r.args.value).toEqual({ path: '/safe' });
    // the hashed canonical text is the value the driver gets
    expect(r.ok && r.args.canonical).toBe('{"path":"/safe"}');
  });

  it('strict text: duplicates, lone surrogates, big numbers, garbage', () => {
    for (const text of ['{"a":1,"a":2}', '"\\ud800"', '1e400', '{"a":1} x', "{'a':1}", '']) {
      const r = prepareArgsText(text);
      expect(r.ok, text).toBe(false);
    }
    const ok = prepareArgsText('{"__proto__":{"admin":true},"b":1}');
    expect(ok.ok && ok.args.canonical).toBe('{"__proto__":{"admin":true},"b":1}');
    expect(({} as { admin?: boolean }).admin).toBeUndefined();
  });
});

describe('idempotency keys', () => {
  it('derived keys bind principal, tenant, tool, args and session; client keys are namespaced', () => {
    const k = (
      over: Partial<{
        principal: string;
        tenant: string | null;
        tool: string;
        args_hash: string;
        session: string | null;
      }>,
    ) =>
      deriveIdempotencyKey({
        principal: 'a',
        tenant: null,
        tool: 't',
        args_hash: 'sha256:1',
        session: null,
        ...over,
      });
    const all = new Set([
      k({}),
      k({ principal: 'b' }),
      k({ tenant: 'acme' }),
      k({ tool: 'u' }),
      k({ args_hash: 'sha256:2' }),
      k({ session: 's' }),
    ]);
    expect(all.size).toBe(6);
    expect(k({})).toBe(
      digest(
        canonicalBytes({
          type: 'helm.idempotency.v1',
          principal: 'a',
          tenant: null,
          tool: 't',
          args_hash: 'sha256:1',
          session: null,
        }),
      ),
    );
    const c = (over: Partial<{ principal: string; tenant: string | null; session: string | null }>) =>
      clientIdempotencyKey({ principal: 'a', tenant: null, session: null, client_key: 'k', ...over });
    const clients = new Set([c({}), c({ principal: 'b' }), c({ tenant: 't' }), c({ session: 's' })]);
    expect(clients.size).toBe(4);
  });

  it('in-memory store: first writer wins', () => {
    const store = new InMemoryIdempotencyStore();
    const rec = (tool: string) => ({
      key: 'k',
      tool,
      args_hash: 'h',
      receipt: { type: 'helm.receipt.v1', payload: '', signatures: [] },
      receipt_hash: 'r',
      decision_id: 'd',
      output: null,
      decision: null,
    });
    store.put(rec('first'));
    store.put(rec('second'));
    expect(store.get('k')?.tool).toBe('first');
    expect(store.size).toBe(1);
  });
});
