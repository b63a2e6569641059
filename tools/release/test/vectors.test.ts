import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyManifest } from '../src/manifest.ts';

const vectors = JSON.parse(
  readFileSync(new URL('../../../docs/spec/vectors/release-manifest.json', import.meta.url), 'utf8'),
);

describe('I-RELEASE-2: docs/spec/vectors/release-manifest.json', () => {
  for (const v of vectors.valid) {
    it(`verifies: ${v.name}`, () => {
      const r = verifyManifest(v.envelope, v.public_key_pem);
      expect(r.problems).toEqual([]);
      expect(r.ok).toBe(true);
      expect(r.body).toEqual(v.body);
      expect(v.envelope.signatures[0].keyid).toBe(v.keyid);
    });
    it(`rejects the same envelope under another type: ${v.name}`, () => {
      const r = verifyManifest({ ...v.envelope, type: 'helm.receipt.v1' }, v.public_key_pem);
      expect(r.ok).toBe(false);
    });
  }
});
