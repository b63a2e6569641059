import { EFFECT_CLASSES, EFFECT_TYPE, EFFECT_TYPE_PATTERN, type Effect } from '@helm/contracts';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { EffectSchema } from '../src/index.ts';

const validate = new Ajv2020({ strict: true }).compile(EffectSchema);

const effect: Effect = {
  type: EFFECT_TYPE,
  effect_type: 'fs.write',
  tool: 'write_file',
  action: 'write',
  resource: '/workspace/out.txt',
  principal: 'agent:alice',
  args_hash: `sha256:${'ab'.repeat(32)}`,
  risk_tier: 'MEDIUM',
};

describe('Effect schema', () => {
  it('accepts a well-formed effect with and without a destination', () => {
    expect(validate(effect)).toBe(true);
    expect(validate({ ...effect, effect_type: 'net.egress', destination: 'api.example.com:443' })).toBe(true);
  });

  it('accepts every well-known effect class', () => {
    const re = new RegExp(EFFECT_TYPE_PATTERN);
    for (const c of EFFECT_CLASSES) {
      expect(re.test(c), c).toBe(true);
      expect(validate({ ...effect, effect_type: c }), c).toBe(true);
    }
  });

  it.each([
    ['wrong type', { ...effect, type: 'helm.effect.v2' }],
    ['uppercase class', { ...effect, effect_type: 'FS.write' }],
    ['empty class segment', { ...effect, effect_type: 'fs..write' }],
    ['bad risk tier', { ...effect, risk_tier: 'CRITICAL' }],
    ['args hash not a digest', { ...effect, args_hash: 'sha256:ABC' }],
    ['args hash with uppercase hex', { ...effect, args_hash: `sha256:${'AB'.repeat(32)}` }],
    ['extra field', { ...effect, extra: 1 }],
    ['empty tool', { ...effect, tool: '' }],
    ['empty destination', { ...effect, destination: '' }],
  ])('rejects %s', (_label, value) => {
    expect(validate(value)).toBe(false);
  });

  it('requires every mandatory field', () => {
    for (const field of EffectSchema.required) {
      const copy: Record<string, unknown> = { ...effect };
      delete copy[field];
      expect(validate(copy), field).toBe(false);
    }
  });
});
