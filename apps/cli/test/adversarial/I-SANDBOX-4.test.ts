// I-SANDBOX-4 (CLI side) — gas bounds work even when modules come from the instrumented-module
// cache: a tool's module is instrumented once and re-registered from the cache at later opens, and
// a data-directory writer who edits the cached bytes or forges the pin gets a cache miss (the
// module is instrumented again), never unmetered code.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSigner, digest, signEnvelope } from '@helm/crypto';
import { DataDir, GovernedRuntime } from '@helm/runtime';
import { describe, expect, it } from 'vitest';
import {
  INSTRUMENTED_PIN_TYPE,
  instrumenterFingerprint,
} from '../../../../packages/runtime/src/internal/module-cache.ts';
import { initCommand, runCall, toolRegister } from '../../src/commands/index.ts';
import { ECHO_TOOL, tempRoot } from '../helpers.ts';

const wasm = new URL('../../assets/wasm/echo.wasm', import.meta.url).pathname;
const source = new Uint8Array(readFileSync(wasm));
const sourceHex = digest(source).slice('sha256:'.length);

async function home(name: string): Promise<DataDir> {
  const root = tempRoot(`helm-cache-${name}-`);
  const dir = join(root, 'home');
  initCommand(dir);
  const desc = join(root, 'wasm-echo.json');
  writeFileSync(
    desc,
    JSON.stringify({
      ...ECHO_TOOL,
      input_schema: { type: 'object' },
      driver: { kind: 'sandbox', ref: 'set-by-register', timeout_ms: 5000 },
    }),
  );
  const data = new DataDir(dir);
  await toolRegister(data, desc, wasm);
  return data;
}

async function openStats(data: DataDir): Promise<{ hits: number; misses: number }> {
  const rt = await GovernedRuntime.open(data, { clock: { now: () => Date.now() } });
  const stats = { ...rt.moduleCache };
  await rt.close();
  return stats;
}

const pinPath = (data: DataDir) => join(data.dir, 'modules', `${sourceHex}.instrumented.json`);

describe('I-SANDBOX-4: the instrumented-module cache never runs unmetered code', () => {
  it('a later open re-registers the cached, pinned module instead of instrumenting again', async () => {
    const data = await home('hit');
    expect(existsSync(pinPath(data))).toBe(true);
    expect(await openStats(data)).toEqual({ hits: 1, misses: 0 });
    const r = await runCall(data, { tool: 'echo', principal: 'local', args: '{"a":1}' });
    expect(r.json, JSON.stringify(r.json)).toMatchObject({ status: 'SUCCEEDED', output: { a: 1 } });
    data.close();
  });

  it('edited cached bytes are a miss: instrumented again, and the call still runs metered', async () => {
    const data = await home('edited');
    const pin = JSON.parse(
      Buffer.from(JSON.parse(readFileSync(pinPath(data), 'utf8')).payload, 'base64url').toString(),
    );
    // Replace the instrumented module with the raw (unmetered) source under the pinned name.
    writeFileSync(join(data.dir, 'modules', `${pin.id.slice('sha256:'.length)}.wasm`), source);
    expect(await openStats(data)).toEqual({ hits: 0, misses: 1 });
    expect(await openStats(data)).toEqual({ hits: 1, misses: 0 });
    data.close();
  });

  it('a pin signed by anyone but the data directory’s executor key is a miss', async () => {
    const data = await home('forged');
    const mallory = createSigner(new Uint8Array(32).fill(7));
    // Point the pin at the raw source bytes (unmetered), stored under their own digest.
    writeFileSync(join(data.dir, 'modules', `${sourceHex}.wasm`), source);
    const forged = signEnvelope(
      {
        type: INSTRUMENTED_PIN_TYPE,
        source_digest: `sha256:${sourceHex}`,
        id: `sha256:${sourceHex}`,
        max_memory_bytes: 1 << 20,
        canonicalize_nan: true,
        instrumenter: instrumenterFingerprint(),
      },
      [mallory],
    );
    writeFileSync(pinPath(data), JSON.stringify(forged));
    expect(await openStats(data)).toEqual({ hits: 0, misses: 1 });
    expect(readdirSync(join(data.dir, 'modules')).some((n) => n.endsWith('.instrumented.json'))).toBe(true);
    data.close();
  });
});
