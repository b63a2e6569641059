// Resource canonical form (docs/spec/policy.md §Resource canonical form): the rule, kind by kind,
// as a table — and its load-time counterpart for `resource` matchers.
import { describe, expect, it } from 'vitest';
import { resourceDefect, resourceKind } from '../src/index.ts';
import { resourceMatchDefect } from '../src/internal/resource.ts';
import { harness } from './fixtures.ts';

const CANONICAL: [string, 'path' | 'url' | 'opaque'][] = [
  ['/', 'path'],
  ['/a', 'path'],
  ['/data/report.csv', 'path'],
  ['/a/..b/.c/d..', 'path'],
  ['/a/b c/~x', 'path'],
  ['/data/100%/x%zz', 'path'],
  ['/caf\u00e9/\u00fcber', 'path'],
  ['https://example.com/', 'url'],
  ['https://example.com/a/b/', 'url'],
  ['https://example.com/a?x=1&y=%2e#frag', 'url'],
  ['https://example.com/caf%C3%A9', 'url'],
  ['https://example.com:8443/a', 'url'],
  ['https://[::1]/', 'url'],
  ['file:///etc/hosts', 'url'],
  ['s3://bucket/key/part', 'url'],
  ['foo://host', 'url'],
  ['', 'opaque'],
  ['svc/api', 'opaque'],
  ['alice@example.com', 'opaque'],
  ['a...b', 'opaque'],
  ['{"path":"x"}', 'opaque'],
  ['urn:isbn:0451450523', 'opaque'],
  ['mailto:ann@example.com', 'opaque'],
];

const NONCANONICAL: [string, 'path' | 'url' | 'opaque', RegExp][] = [
  ['/a/', 'path', /trailing/],
  ['//', 'path', /trailing/],
  ['/a//b', 'path', /empty segment/],
  ['/./a', 'path', /"\." or "\.\."/],
  ['/a/..', 'path', /"\." or "\.\."/],
  ['/a\\b', 'path', /backslash/],
  ['/a%2e', 'path', /percent-escape/],
  ['/a/%41', 'path', /percent-escape/],
  ['/a\u0000b', 'path', /control/],
  ['/a\u0085', 'path', /control/],
  ['/a/\u2025', 'path', /"\." or "\.\."/],
  ['/a\uff0fb', 'path', /inside a segment/],
  ['/a/\uff05\uff12\uff45', 'path', /percent-escape/],
  ['/a\ud800', 'path', /lone surrogate/],
  ['https://EXAMPLE.com/', 'url', /WHATWG/],
  ['https://example.com', 'url', /WHATWG/],
  ['HTTPS://example.com/', 'url', /WHATWG/],
  ['https://example.com/a/../b', 'url', /WHATWG/],
  ['https://example.com:443/', 'url', /WHATWG/],
  ['https://example.com/\u00e9', 'url', /WHATWG/],
  ['https://u@example.com/', 'url', /userinfo/],
  ['https://u:p@example.com/', 'url', /userinfo/],
  ['https://example.com./', 'url', /trailing "\."/],
  ['https://example.com//a', 'url', /empty path segment/],
  ['https://example.com/%2e%2e/a', 'url', /WHATWG|dot segment/],
  ['s3://bucket/%2e%2e/key', 'url', /WHATWG|dot segment/],
  ['s3://bucket/a/%2E', 'url', /WHATWG|dot segment/],
  ['https://example.com/%7E', 'url', /percent-escape of "~"/],
  ['https://example.com/%c3%a9', 'url', /lower-case/],
  ['https://example.com/a%2F', 'url', /percent-escape of "\/"/],
  ['https://example.com/a%5C', 'url', /percent-escape/],
  ['https://example.com/a%25', 'url', /percent-escape of "%"/],
  ['https://example.com/a%00', 'url', /percent-escape/],
  ['https://example.com/a%7F', 'url', /percent-escape/],
  ['foo://host/a\\b', 'url', /backslash/],
  ['https://', 'url', /parseable/],
  ['https://exa mple.com/', 'url', /parseable/],
  ['https://example.com/\t', 'url', /control/],
  [' svc', 'opaque', /whitespace/],
  ['svc\u00a0', 'opaque', /whitespace/],
  ['..', 'opaque', /segment/],
  ['.', 'opaque', /segment/],
  ['a/./b', 'opaque', /segment/],
  ['a\\..\\b', 'opaque', /segment/],
  ['a/%2E%2e/b', 'opaque', /segment/],
  ['a/\u2025/b', 'opaque', /segment/],
  ['a\u001bb', 'opaque', /control/],
  ['\udc00a', 'opaque', /lone surrogate/],
];

describe('resource canonical form', () => {
  it.each(CANONICAL)('%j is a canonical %s', (resource, kind) => {
    expect(resourceKind(resource)).toBe(kind);
    expect(resourceDefect(resource)).toBeNull();
  });

  it.each(NONCANONICAL)('%j (%s) is not canonical', (resource, kind, why) => {
    expect(resourceKind(resource)).toBe(kind);
    expect(resourceDefect(resource)).toMatch(why);
  });

  it('the policy engine matches nothing with a non-canonical resource, whoever calls it', () => {
    const stack = harness().guardian.policyStack!;
    const subject = {
      principal: 'alice',
      tenant: null,
      tool: 'fs',
      action: 'read',
      effect_type: 'fs.read',
      risk_tier: 'LOW',
      args: {},
      context: {},
    };
    expect(stack.evaluate({ ...subject, resource: '/data/public/x' }).allowed).toBe(true);
    expect(stack.evaluate({ ...subject, resource: '/data/public/../secret/k' })).toEqual({
      allowed: false,
      code: 'RESOURCE_NONCANONICAL',
      rule_id: null,
    });
  });
});

describe('resource matchers (load time)', () => {
  const ok: object[] = [
    { prefix: '/' },
    { prefix: '/data/' },
    { prefix: 'https://' },
    { prefix: 'https://api.example.com/' },
    { prefix: 'https://api.example.com/v1/' },
    { prefix: 'svc' },
    { eq: '/data/x' },
    { eq: 1 },
    { in: ['/a', 'https://example.com/', 'svc/x', true] },
    { glob: '/data/*.csv' },
  ];
  it.each(ok)('accepts %j', (m) => {
    expect(resourceMatchDefect(m)).toBeNull();
  });

  const rejected: [object, RegExp][] = [
    [{ prefix: '/data' }, /must end with "\/"/],
    [{ prefix: '/data//' }, /prefix has/],
    [{ prefix: '/data/../x/' }, /prefix has/],
    [{ prefix: 'https://api.example.com' }, /must end with "\/"/],
    [{ prefix: 'https://api.example.com/v1' }, /must end with "\/"/],
    [{ prefix: 'https://API.example.com/' }, /prefix has/],
    [{ prefix: 'https://api.example.com/?q=/' }, /query or fragment/],
    [{ prefix: 'https://api.example.com/#/' }, /query or fragment/],
    [{ prefix: 'svc\u0000' }, /control/],
    [{ eq: '/data/x/' }, /can never match/],
    [{ in: ['/data/x', '/data/./y'] }, /can never match/],
  ];
  it.each(rejected)('rejects %j', (m, why) => {
    expect(resourceMatchDefect(m)).toMatch(why);
  });
});
