// The test vectors published in docs/spec/sandbox.md; this file fails if the code drifts from them.
import { readFileSync } from 'node:fs';
import { canonicalBytes, digest, toHex } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { createSandbox } from '../src/index.ts';
import { type InstantiateComponent, runComponent } from '../src/internal/component-run.ts';
import {
  COMPONENT_INSTANCE_GAS,
  componentInstanceCost,
  instantiationCost,
} from '../src/internal/instantiation-cost.ts';
import { GAS_EXPORT, instrumentModule } from '../src/internal/instrument.ts';
import { preview1ImportPolicy, randomSeed } from '../src/internal/sandbox.ts';
import { Sha256CounterStream } from '../src/internal/sha256.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const SOURCE = hex(
  '0061736d01000000010401600000030201000503010001071302066d656d6f72790200065f737461727400000a15011301017f0340200041016a2200410a490d000b0b',
);
const INSTRUMENTED =
  '0061736d0100000001040160000003020100050501010180080610037e0142000b7f0141000b7f0141000b073504066d656d6f72790200065f737461727400000a5f5f68656c6d5f6761730300125f5f68656c6d5f67726f775f6661696c656403010a35013301017f230042027d240023004200530440000b0340230042087d240023004200530440000b200041016a2200410a490d000b0b';
const ID = 'sha256:4cd63c47cb3206d7432636dd9b5313a6b44617a93b5a7429b97df385fa4e8824';

describe('docs/spec/sandbox.md vectors', () => {
  it('V1: instrumentation output, module id and gas', async () => {
    const inst = instrumentModule(SOURCE, {
      maxMemoryPages: 1024,
      maxTableElements: 100_000,
      importPolicy: preview1ImportPolicy,
    });
    expect(toHex(inst.bytes)).toBe(INSTRUMENTED);
    expect(digest(inst.bytes)).toBe(ID);
    const sb = createSandbox();
    try {
      const h = await sb.register(SOURCE);
      expect(h.id).toBe(ID);
      expect(h.source_digest).toBe('sha256:6c99b7ba9300feb040311944951ea6d6481a34a55ee06c07fe14ce925487a9b2');
      const limits = { gas: 82, timeout_ms: 10_000, max_output_bytes: 0 };
      expect(await sb.run(h, new Uint8Array(0), limits)).toMatchObject({ ok: true, gas_used: 82 });
      expect(await sb.run(h, new Uint8Array(0), { ...limits, gas: 81 })).toMatchObject({
        ok: false,
        code: 'ERR_COMPUTE_GAS_EXHAUSTED',
        gas_used: 81,
      });
    } finally {
      await sb.close();
    }
  });

  it('V2: random seed and stream', () => {
    const seed = randomSeed(ID, new TextEncoder().encode('x'));
    expect(toHex(seed)).toBe('7664c60967ba3e73859c6e51e7561933588e57fc63d13ad2518c547ac58699b7');
    const out = new Uint8Array(40);
    new Sha256CounterStream(seed).fill(out);
    expect(toHex(out)).toBe(
      'b1d6825d0fbf4f942661f245072a0075774a77bb326274809bdac9a420e342c41b25dcb41ea9a550',
    );
  });

  it('V3: component id', () => {
    const body = {
      type: 'helm.sandbox.component.v1',
      glue: `sha256:${'11'.repeat(32)}`,
      core_modules: {
        'a.core.wasm': `sha256:${'22'.repeat(32)}`,
        'a.core2.wasm': `sha256:${'33'.repeat(32)}`,
      },
    };
    expect(digest(canonicalBytes(body))).toBe(
      'sha256:d492d73e9c33b57b5187c067a2e3183328e03ad04dc8efa4364524a777272429',
    );
  });

  it('I1–I6: instruction costs and NaN canonicalization (§"Instruction costs" vector blocks)', () => {
    const page = readFileSync(new URL('../../../docs/spec/sandbox.md', import.meta.url), 'utf8');
    const blocks = [...page.matchAll(/```vector\n([\s\S]*?)```/g)]
      .map((m) => {
        const v: Record<string, string> = {};
        for (const line of (m[1] as string).split('\n')) {
          const i = line.indexOf(': ');
          if (i > 0) v[line.slice(0, i)] = line.slice(i + 2);
        }
        return v;
      })
      .filter((v) => v.name !== undefined); // (§"Host-call costs" has its own, unnamed block)
    expect(blocks.map((v) => v.name)).toEqual(['I1', 'I2', 'I3', 'I4', 'I5', 'I6']);
    const options = { maxMemoryPages: 1024, maxTableElements: 100_000, importPolicy: () => true };
    const pairs = (text: string | undefined): string[][] => (text ?? '').split(' ').map((p) => p.split(':'));
    for (const v of blocks) {
      const inst = instrumentModule(hex(v.source_hex as string), options);
      expect(toHex(inst.bytes), v.name).toBe(v.instrumented_hex);
      expect(digest(inst.bytes), v.name).toBe(v.id);
      const module = new WebAssembly.Module(inst.bytes);
      const call = (arg: string): { gas: bigint; result: unknown } => {
        const instance = new WebAssembly.Instance(module, {});
        const g = instance.exports[GAS_EXPORT] as WebAssembly.Global;
        g.value = 1n << 40n;
        const result = (instance.exports.f as (n: number) => unknown)(Number(arg));
        return { gas: (1n << 40n) - (g.value as bigint), result };
      };
      for (const [arg, gas] of pairs(v.gas))
        expect(call(arg as string).gas, `${v.name}(${arg})`).toBe(BigInt(gas as string));
      if (v.result_hex !== undefined) {
        for (const [arg, bits] of pairs(v.result_hex)) {
          const r = BigInt.asUintN(64, call(arg as string).result as bigint);
          expect(r.toString(16).padStart(16, '0')).toBe(bits);
        }
        const off = instrumentModule(hex(v.source_hex as string), { ...options, canonicalizeNaN: false });
        expect(digest(off.bytes)).toBe(v.id_without_canonicalization);
      }
    }
  });
});

describe('docs/spec/sandbox.md S1 vector (a component core module imports its gas counter)', () => {
  it('renumbers the defined global, meters on the imported counter and keeps the results', () => {
    const page = readFileSync(new URL('../../../docs/spec/sandbox.md', import.meta.url), 'utf8');
    const block = page.match(/```shared-gas-vector\n([\s\S]*?)```/)?.[1] ?? '';
    const v: Record<string, string> = {};
    for (const line of block.split('\n')) {
      const i = line.indexOf(': ');
      if (i > 0) v[line.slice(0, i)] = line.slice(i + 2);
    }
    expect(v.name).toBe('S1');
    const inst = instrumentModule(hex(v.source_hex as string), {
      maxMemoryPages: 1024,
      maxTableElements: 100_000,
      importPolicy: () => true,
      sharedGas: true,
    });
    expect(toHex(inst.bytes)).toBe(v.instrumented_hex);
    expect(digest(inst.bytes)).toBe(v.id);
    const module = new WebAssembly.Module(inst.bytes);
    const call = (n: number) => {
      const gas = new WebAssembly.Global({ value: 'i64', mutable: true }, 1000n);
      const base = new WebAssembly.Global({ value: 'i32' }, 2);
      const instance = new WebAssembly.Instance(module, { env: { base }, __helm: { gas } });
      const result = (instance.exports.f as (n: number) => number)(n);
      return { gas: 1000n - (gas.value as bigint), result };
    };
    const pairs = (text: string | undefined) => (text ?? '').split(' ').map((p) => p.split(':').map(Number));
    for (const [n, gas] of pairs(v.gas)) expect(call(n as number).gas, `f(${n})`).toBe(BigInt(gas as number));
    for (const [n, r] of pairs(v.result)) expect(call(n as number).result, `f(${n})`).toBe(r);
  });
});

describe('docs/spec/sandbox.md §"Instantiation cost" vector', () => {
  it('charges tables, segments and globals before instantiating', async () => {
    const page = readFileSync(new URL('../../../docs/spec/sandbox.md', import.meta.url), 'utf8');
    const block = page.match(/```instantiation-vector\n([\s\S]*?)```/)?.[1] ?? '';
    const v: Record<string, string> = {};
    for (const line of block.split('\n')) {
      const i = line.indexOf(': ');
      if (i > 0) v[line.slice(0, i)] = line.slice(i + 2);
    }
    const source = hex(v.source_hex as string);
    const inst = instrumentModule(source, {
      maxMemoryPages: 1024,
      maxTableElements: 100_000,
      importPolicy: () => true,
    });
    expect(digest(inst.bytes)).toBe(v.id);
    expect(instantiationCost(inst.bytes)).toBe(Number(v.instantiation_gas));
    const sb = createSandbox();
    try {
      const h = await sb.register(source);
      const limits = { gas: Number(v.gas_used), timeout_ms: 10_000, max_output_bytes: 0 };
      expect(await sb.run(h, new Uint8Array(0), limits)).toMatchObject({
        ok: true,
        gas_used: Number(v.gas_used),
      });
      // a budget below the instantiation cost never instantiates
      const poor = await sb.run(h, new Uint8Array(0), { ...limits, gas: Number(v.instantiation_gas) - 1 });
      expect(poor).toMatchObject({ ok: false, code: 'ERR_COMPUTE_GAS_EXHAUSTED' });
    } finally {
      await sb.close();
    }
  });
});

describe('docs/spec/sandbox.md §"Instantiation cost" component vector', () => {
  it('charges every core instance of a component run the base, its initial pages and its cost', () => {
    const page = readFileSync(new URL('../../../docs/spec/sandbox.md', import.meta.url), 'utf8');
    const field = (block: string, name: string) => block.match(new RegExp(`^${name}: (.*)$`, 'm'))?.[1];
    const source = page.match(/```instantiation-vector\n([\s\S]*?)```/)?.[1] ?? '';
    const block = page.match(/```component-instantiation-vector\n([\s\S]*?)```/)?.[1] ?? '';
    const inst = instrumentModule(hex(field(source, 'source_hex') as string), {
      maxMemoryPages: 1024,
      maxTableElements: 100_000,
      importPolicy: () => true,
      sharedGas: true,
    });
    expect(digest(inst.bytes)).toBe(field(block, 'id'));
    expect(instantiationCost(inst.bytes)).toBe(Number(field(block, 'instantiation_gas')));
    const instanceGas = Number(field(block, 'instance_gas'));
    expect(COMPONENT_INSTANCE_GAS + componentInstanceCost(inst.bytes)).toBe(instanceGas);
    // One core instance, created by runComponent's instantiateCore as jco's glue would.
    let created = 0;
    const instantiate: InstantiateComponent = (getCoreModule, _imports, instantiateCore) => {
      instantiateCore(getCoreModule('m.wasm'), {});
      created++;
      return { run: { run: () => {} } };
    };
    const req = {
      modules: { 'm.wasm': new WebAssembly.Module(inst.bytes) },
      instantiationGas: { 'm.wasm': componentInstanceCost(inst.bytes) },
      stdin: new Uint8Array(0),
      maxOutputBytes: 0,
      seed: new Uint8Array(32),
      virtualTimeMs: 0,
    };
    expect(runComponent(instantiate, { ...req, gas: instanceGas })).toMatchObject({
      ok: true,
      gas_used: instanceGas,
    });
    expect(created).toBe(1);
    expect(runComponent(instantiate, { ...req, gas: instanceGas - 1 })).toMatchObject({
      ok: false,
      code: 'ERR_COMPUTE_GAS_EXHAUSTED',
    });
    expect(created).toBe(1); // the instance was not created
  });
});
