// The browser build's platform (package.json "imports" → `browser`) against the Node build's, in
// Node: the same digests and the same encodings/decodings for random and hostile inputs, and the
// browser entry's export list equal to the Node entry's minus the node backend. The spec vectors
// run against the bundled browser entry in Chromium (apps/console/test/browser-vectors.test.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as browserEntry from '../src/browser.ts';
import * as nodeEntry from '../src/index.ts';
import * as ed25519Node from '../src/internal/platform-ed25519-node.ts';
import * as ed25519Web from '../src/internal/platform-ed25519-web.ts';
import * as node from '../src/internal/platform-node.ts';
import * as web from '../src/internal/platform-web.ts';

describe('I-CONSOLE-3 browser platform = node platform', () => {
  it('SHA-256 of bytes and of strings', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.string({ unit: 'grapheme', maxLength: 80 }),
        (b, s) => {
          expect(web.sha256Raw(b)).toEqual(node.sha256Raw(b));
          expect(web.sha256HexOf(b)).toBe(node.sha256HexOf(b));
          expect(web.sha256HexOf(s)).toBe(node.sha256HexOf(s));
        },
      ),
    );
  });

  it('encodings round-trip identically', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        expect(web.encodeHex(b)).toBe(node.encodeHex(b));
        expect(web.encodeBase64Url(b)).toBe(node.encodeBase64Url(b));
        expect(web.decodeHexChecked(node.encodeHex(b))).toEqual(b);
        const into = new Uint8Array(b.length);
        expect(web.decodeBase64UrlInto(node.encodeBase64Url(b), into, 0)).toBe(b.length);
        expect(into).toEqual(b);
      }),
    );
  });

  // fromBase64Url refuses `+` `/` `=` before decoding (Node's decoder would take `+` `/`); on every
  // other text the decoded length, which it compares, must be Node's.
  it('lenient decoders agree with Node on arbitrary text (the strict callers rely on the length)', () => {
    const chars = fc.constantFrom(...'AZaz09-_!. \u00e9'.split(''));
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 40 }), (cs) => {
        const t = cs.join('');
        const [w, n] = [new Uint8Array(40), new Uint8Array(40)];
        expect(web.decodeBase64UrlInto(t, w, 3)).toBe(node.decodeBase64UrlInto(t, n, 3));
        expect(w).toEqual(n);
      }),
    );
  });

  it('default Ed25519 backend: the same keys, signatures and verdicts', () => {
    const seed = new Uint8Array(32).fill(7);
    const msg = new TextEncoder().encode('HELM');
    const pk = ed25519Web.nodePublicKeyFromSeed(seed);
    expect(pk).toEqual(ed25519Node.nodePublicKeyFromSeed(seed));
    const sig = ed25519Web.nodeSignerFor(seed)(msg);
    expect(sig).toEqual(ed25519Node.nodeSignerFor(seed)(msg));
    expect(ed25519Web.nodeVerify(pk, msg, sig)).toBe(true);
    const bad = Uint8Array.from(sig);
    bad[0] = (bad[0] as number) ^ 1;
    expect(ed25519Web.nodeVerify(pk, msg, bad)).toBe(false);
    expect(ed25519Web.isCachedValidKey(pk)).toBe(ed25519Node.isCachedValidKey(pk));
    expect(ed25519Web.isCachedValidKey(new Uint8Array(32))).toBe(
      ed25519Node.isCachedValidKey(new Uint8Array(32)),
    );
  });
});

describe('browser entry', () => {
  it('exports what the Node entry exports, except the node backend', () => {
    const expected = Object.keys(nodeEntry)
      .filter((k) => k !== 'nodeBackend')
      .sort();
    expect(Object.keys(browserEntry).sort()).toEqual(expected);
  });

  it('has only the noble backend; asking for node is a typed error', () => {
    expect(browserEntry.ED25519_BACKENDS.map((b) => b.name)).toEqual(['noble']);
    expect(browserEntry.getBackend('noble')).toBe(browserEntry.nobleBackend);
    expect(() => browserEntry.getBackend('node')).toThrow(/not available in a browser/);
  });
});
