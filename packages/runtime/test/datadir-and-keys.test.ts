// The data directory's building blocks: strict JSON, the name rule, key files trusted only through
// their seed, registry key lookups, the verified instrumented-module cache, and crash recovery.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigner, digest, toBase64Url } from '@helm/crypto';
import { ManualClock } from '@helm/guardian';
import { commitTrustEvent } from '@helm/trust';
import { describe, expect, it } from 'vitest';
import {
  checkName,
  GovernedRuntime,
  initDataDir,
  isWellFormedText,
  lastRoles,
  liveKey,
  openRoles,
  parseJson,
  readJsonFile,
  recordsAtHead,
  refuseRootTarget,
} from '../src/index.ts';
import { keyOfFile } from '../src/internal/keys.ts';
import { pathInside } from '../src/internal/names.ts';

const T0 = Date.UTC(2026, 11, 7, 12);
const temp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
const echoWasm = new URL('../../../apps/cli/assets/wasm/echo.wasm', import.meta.url).pathname;

describe('strict JSON and names', () => {
  it('refuses duplicate keys, comments and lone surrogates with JSON_INVALID and a hint', () => {
    expect(() => parseJson('{"a":1,"a":2}', 'x.json')).toThrow(
      expect.objectContaining({ code: 'JSON_INVALID' }),
    );
    expect(() => parseJson('{"a":1 // c\n}', 'x.json')).toThrow(
      expect.objectContaining({ code: 'JSON_INVALID' }),
    );
    expect(parseJson('{"a":[1,2]}', 'x.json')).toEqual({ a: [1, 2] });
    expect(isWellFormedText('ok \u00e9')).toBe(true);
    expect(isWellFormedText('bad \ud800')).toBe(false);
    expect(() => readJsonFile(join(temp('helm-rt-json-'), 'missing.json'))).toThrow(
      expect.objectContaining({ code: 'FILE_NOT_FOUND' }),
    );
  });

  it('never lets a name leave its directory', () => {
    for (const bad of ['../x', 'a/b', '.hidden', 'UPPER', '', 'x'.repeat(129), 7, null]) {
      expect(() => checkName('tool', bad)).toThrow(expect.objectContaining({ code: 'NAME_INVALID' }));
    }
    expect(checkName('tool', 'files.read')).toBe('files.read');
    const dir = temp('helm-rt-names-');
    expect(() => pathInside(dir, join(dir, '..', 'escape.json'), 'tool')).toThrow(
      expect.objectContaining({ code: 'NAME_INVALID' }),
    );
  });
});

describe('key files and registry lookups', () => {
  it('trusts a key file only through its seed', () => {
    const seed = new Uint8Array(randomBytes(32));
    const signer = createSigner(seed);
    const good = { keyid: signer.keyId, public_key: toBase64Url(signer.publicKey), seed: toBase64Url(seed) };
    expect(keyOfFile(good, 'k.json').signer.keyId).toBe(signer.keyId);
    const other = createSigner(new Uint8Array(randomBytes(32)));
    for (const bad of [
      { ...good, keyid: other.keyId },
      { ...good, public_key: toBase64Url(other.publicKey) },
      { ...good, seed: 'short' },
      null,
    ]) {
      expect(() => keyOfFile(bad, 'k.json')).toThrow(expect.objectContaining({ code: 'KEY_FILE_MISMATCH' }));
    }
  });

  it('follows rotations to the live key, refuses exact rotated, revoked, unknown and root targets', () => {
    const { data } = initDataDir(temp('helm-rt-keys-'), { chainId: 'keys' });
    const registry = data.registry();
    const approver = data.localKey('approver-1').signer;
    const roots = data.rootSigners(registry);
    const next = createSigner(new Uint8Array(randomBytes(32)));
    data.appendTrustEvent(
      registry,
      commitTrustEvent(
        registry,
        { kind: 'key_rotate', keyid: approver.keyId, newPublicKey: next.publicKey },
        [...roots, next],
      ),
    );
    const followed = liveKey(registry, approver.keyId, 'follow');
    expect(followed.chain).toEqual([approver.keyId, next.keyId]);
    expect(openRoles(followed.record)).toEqual(['approver']);
    expect(() => liveKey(registry, approver.keyId, 'exact')).toThrow(
      expect.objectContaining({ code: 'KEY_NOT_VALID' }),
    );
    expect(() => liveKey(registry, `ed25519:${'0'.repeat(64)}`, 'follow')).toThrow(
      expect.objectContaining({ code: 'KEY_NOT_VALID' }),
    );
    data.appendTrustEvent(
      registry,
      commitTrustEvent(registry, { kind: 'key_revoke', keyid: next.keyId, reason: 'lost' }, roots),
    );
    expect(() => liveKey(registry, approver.keyId, 'follow')).toThrow(
      expect.objectContaining({ code: 'KEY_NOT_VALID' }),
    );
    const records = recordsAtHead(registry);
    expect(lastRoles(records.get(next.keyId)!)).toEqual(['approver']);
    expect(openRoles(records.get(next.keyId)!)).toEqual([]);
    const root = liveKey(registry, roots[0]!.keyId, 'exact');
    expect(() => refuseRootTarget(root, 'rotate')).toThrow(expect.objectContaining({ code: 'KEY_IS_ROOT' }));
  });
});

describe('the instrumented-module cache', () => {
  function wasmHome() {
    const { data } = initDataDir(temp('helm-rt-cache-'), {
      chainId: 'cache',
      bundle: {
        type: 'helm.policy.bundle.v1',
        name: 'r',
        version: 1,
        rules: [{ id: 'allow', effect: 'allow', when: { tool: { in: ['wasm.echo'] } } }],
      },
    });
    const bytes = new Uint8Array(readFileSync(echoWasm));
    const d = digest(bytes);
    data.writeModule(d.slice(7), bytes);
    data.writeTool({
      type: 'helm.tool.v1',
      name: 'wasm.echo',
      description: 'echo in the sandbox',
      input_schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      output_schema: { type: 'object' },
      effect_type: 'compute',
      risk_tier: 'LOW',
      action: 'run',
      driver: { kind: 'sandbox', ref: d, timeout_ms: 5_000 },
    });
    return data;
  }

  it('instruments once, re-registers the signed pin later, and treats edited cached bytes as a miss', async () => {
    const data = wasmHome();
    const first = await GovernedRuntime.open(data, { clock: new ManualClock(T0) });
    expect(first.moduleCache).toEqual({ hits: 0, misses: 1 });
    await first.close();
    const second = await GovernedRuntime.open(data, { clock: new ManualClock(T0) });
    expect(second.moduleCache).toEqual({ hits: 1, misses: 0 });
    await second.close();
    // Corrupt every cached instrumented module: the next open must instrument again.
    const sourceHex = digest(new Uint8Array(readFileSync(echoWasm))).slice(7);
    const pin = JSON.parse(data.instrumentedPin(sourceHex) ?? 'null');
    expect(pin).not.toBeNull();
    const body = JSON.parse(Buffer.from(pin.payload, 'base64url').toString('utf8')) as { id: string };
    const cachedPath = data.modulePath(body.id.slice(7));
    const cached = readFileSync(cachedPath);
    cached[cached.length - 1] ^= 1;
    writeFileSync(cachedPath, cached);
    const third = await GovernedRuntime.open(data, { clock: new ManualClock(T0) });
    expect(third.moduleCache).toEqual({ hits: 0, misses: 1 });
    await third.close();
  });
});

describe('recovery', () => {
  it('receipts a call admitted but never committed as EXECUTION_INTERRUPTED at the next open', async () => {
    const { data } = initDataDir(temp('helm-rt-recover-'), {
      chainId: 'recover',
      bundle: {
        type: 'helm.policy.bundle.v1',
        name: 'r',
        version: 1,
        rules: [{ id: 'allow', effect: 'allow', when: { tool: { in: ['echo'] } } }],
      },
    });
    data.writeTool({
      type: 'helm.tool.v1',
      name: 'echo',
      description: 'echo',
      input_schema: { type: 'object' },
      output_schema: { type: 'object' },
      effect_type: 'compute',
      risk_tier: 'LOW',
      action: 'echo',
      driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 1_000 },
    });
    const config = data.config();
    const binding = config.identity[0];
    const rt = await GovernedRuntime.open(data, { clock: new ManualClock(T0) });
    const store = data.store;
    // The process dies as the receipt's transaction is written (the runtime group-commits receipts
    // through commitCallsSync).
    store.commitCallsSync = () => {
      throw new Error('SIGKILL');
    };
    await expect(
      rt.execute({
        tool: 'echo',
        principal: binding?.principal ?? 'local',
        args: { x: 1 },
        context: {
          environment_fingerprint: config.environment_fingerprint,
          ...(binding ? { credential_id: binding.credential_id } : {}),
        },
      }),
    ).rejects.toThrow('SIGKILL');
    await rt.close();
    data.close();
    const reopened = await GovernedRuntime.open(data, { clock: new ManualClock(T0 + 1_000) });
    await reopened.close();
    const receipts = data.store.receiptsSync({ chainId: 'recover' });
    expect(receipts).toHaveLength(1);
    const body = JSON.parse(Buffer.from(receipts[0]!.envelope.payload, 'base64url').toString('utf8')) as {
      reason_code: string;
    };
    expect(body.reason_code).toBe('EXECUTION_INTERRUPTED');
  });
});
