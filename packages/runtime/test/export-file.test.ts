// exportPackFile (the streamed export `helm export` uses) against exportPack: the very same archive
// bytes for a whole-chain, a range and a condensed export of a real data directory, and the file
// verifies PASS read from disk.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyEvidencePackFile } from '@helm/evidencepack';
import { ManualClock } from '@helm/guardian';
import { describe, expect, it } from 'vitest';
import { exportPack, exportPackFile, GovernedRuntime, initDataDir } from '../src/index.ts';

const T0 = Date.UTC(2026, 11, 7, 12);
const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;

async function world() {
  const dir = mkdtempSync(join(tmpdir(), 'helm-export-file-'));
  const { data, anchor } = initDataDir(dir, {
    chainId: 'export-file',
    fingerprint: FINGERPRINT,
    bundle: {
      type: 'helm.policy.bundle.v1',
      name: 'rules',
      version: 1,
      rules: [
        { id: 'allow-echo', effect: 'allow', when: { principal: { in: ['alice'] }, tool: { in: ['echo'] } } },
      ],
    },
    identity: [{ credential_id: 'cred-alice', principal: 'alice' }],
  });
  data.writeTool({
    type: 'helm.tool.v1',
    name: 'echo',
    description: 'echo its args',
    input_schema: { type: 'object', additionalProperties: false, properties: { text: { type: 'string' } } },
    output_schema: { type: 'object' },
    effect_type: 'compute',
    risk_tier: 'LOW',
    action: 'run',
    resource_pointer: '/text',
    driver: { kind: 'function', ref: 'builtin.echo', timeout_ms: 5_000 },
  });
  const clock = new ManualClock(T0);
  const rt = await GovernedRuntime.open(data, { clock });
  try {
    for (const args of [{ text: 'a' }, { text: 1 }, { text: 'b' }, { text: 'c' }]) {
      await rt.execute({
        tool: 'echo',
        principal: 'alice',
        args: args as never,
        context: { environment_fingerprint: FINGERPRINT, credential_id: 'cred-alice' },
      });
      clock.advance(1_000);
    }
  } finally {
    await rt.close();
  }
  return { dir, data, anchor };
}

describe('exportPackFile', () => {
  it('writes exportPack’s bytes (whole chain, range, condensed), and the file verifies PASS', async () => {
    const { dir, data, anchor } = await world();
    for (const [name, options] of [
      ['whole', {}],
      ['range', { from: 2, to: 3 }],
      ['condensed', { condense: true }],
    ] as const) {
      const file = join(dir, `${name}.tar`);
      const written = exportPackFile(data, file, options);
      const built = exportPack(data, options);
      expect(written.digest).toBe(built.digest);
      expect(written.bytes).toBe(built.bytes.length);
      expect(Buffer.compare(readFileSync(file), Buffer.from(built.bytes))).toBe(0);
      if (name === 'whole') {
        const report = await verifyEvidencePackFile(file, { trustAnchor: anchor });
        expect(report.status).toBe('PASS');
      }
    }
  });
});
