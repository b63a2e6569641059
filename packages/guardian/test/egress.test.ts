// Gate 3: exact and explicit-wildcard host matching, normalisation, CIDR, protocol, port, size.
import { describe, expect, it } from 'vitest';
import { EgressPolicy, normalizeHost } from '../src/index.ts';
import { cidrContains, parseCidr, parseIPv6, parseIp } from '../src/internal/ip.ts';

const policy = new EgressPolicy({
  rules: [
    {
      hosts: ['api.example.com', '*.example.org', 'bücher.example'],
      protocols: ['https'],
      max_payload_bytes: 1024,
    },
    {
      cidrs: ['10.0.0.0/8', '192.168.1.128/25', '2001:db8::/32'],
      protocols: ['https', 'grpc'],
      ports: [443, 8443],
      max_payload_bytes: 10,
    },
  ],
});
const d = (host: string, extra: Partial<{ protocol: string; port: number; payload_bytes: number }> = {}) => ({
  host,
  protocol: 'https',
  payload_bytes: 1,
  ...extra,
});

describe('egress matching', () => {
  const table: [string, ReturnType<typeof d>, boolean][] = [
    ['exact host', d('api.example.com'), true],
    ['case-insensitive', d('API.Example.COM'), true],
    ['trailing dot', d('api.example.com.'), true],
    ['prefix attack', d('api.example.com.evil.net'), false],
    ['suffix attack', d('evilapi.example.com'), false],
    ['substring attack', d('xapi.example.comx'), false],
    ['sibling of exact host', d('www.example.com'), false],
    ['wildcard one label', d('a.example.org'), true],
    ['wildcard deeper', d('a.b.example.org'), true],
    ['wildcard never matches the apex', d('example.org'), false],
    ['wildcard label boundary', d('badexample.org'), false],
    ['IDNA unicode host', d('bücher.example'), true],
    ['IDNA punycode host', d('xn--bcher-kva.example'), true],
    ['userinfo smuggling', d('api.example.com@evil.net'), false],
    ['path smuggling', d('evil.net/api.example.com'), false],
    ['port smuggling', d('api.example.com:443'), false],
    ['empty label', d('a..example.org'), false],
    ['fullwidth solidus smuggling', d('evil.com\uFF0Fapi.example.com'), false],
    ['fullwidth at smuggling', d('api.example.com\uFF20evil.com'), false],
    ['percent-encoded dot', d('api.example.com%2e'), false],
    ['ideographic full stops fold to dots', d('api\u3002example\u3002com'), true],
    ['leading dot', d('.example.org'), false],
    ['wrong protocol', d('api.example.com', { protocol: 'http' }), false],
    ['protocol case', d('api.example.com', { protocol: 'HTTPS' }), true],
    ['payload at limit', d('api.example.com', { payload_bytes: 1024 }), true],
    ['payload too big', d('api.example.com', { payload_bytes: 1025 }), false],
    ['negative payload', d('api.example.com', { payload_bytes: -1 }), false],
    ['IPv4 in CIDR', d('10.1.2.3', { port: 443 }), true],
    ['IPv4 outside CIDR', d('11.1.2.3', { port: 443 }), false],
    ['IPv4 /25 boundary in', d('192.168.1.200', { port: 443, payload_bytes: 10 }), true],
    ['IPv4 /25 boundary out', d('192.168.1.127', { port: 443 }), false],
    ['IP needs a listed port', d('10.1.2.3'), false],
    ['IP wrong port', d('10.1.2.3', { port: 80 }), false],
    ['IP payload over rule limit', d('10.1.2.3', { port: 443, payload_bytes: 11 }), false],
    ['hex IPv4 normalised then CIDR-checked', d('0x0a.0.0.1', { port: 443 }), true],
    ['integer IPv4 normalised', d('167772161', { port: 443 }), true],
    ['IPv4-mapped IPv6', d('::ffff:10.0.0.1', { port: 443 }), true],
    ['bracketed IPv6 in range', d('[2001:db8::1]', { port: 8443, protocol: 'grpc' }), true],
    ['IPv6 out of range', d('2001:db9::1', { port: 443 }), false],
    ['host rule never matches an IP', d('93.184.216.34'), false],
    ['not a host', d(''), false],
    ['garbage', d('exa mple.com'), false],
  ];
  it.each(table)('%s', (_name, destination, expected) => {
    expect(policy.allows(destination)).toBe(expected);
  });

  it('rejects malformed rules at construction', () => {
    const bad = [
      { hosts: ['*example.com'], protocols: ['https'], max_payload_bytes: 1 },
      { hosts: ['a.*.com'], protocols: ['https'], max_payload_bytes: 1 },
      { hosts: ['*.com'], protocols: ['https'], max_payload_bytes: 1 },
      { hosts: ['10.0.0.1'], protocols: ['https'], max_payload_bytes: 1 },
      { cidrs: ['10.0.0.0/33'], protocols: ['https'], max_payload_bytes: 1 },
      { cidrs: ['10.0.0.0'], protocols: ['https'], max_payload_bytes: 1 },
      { hosts: ['a.com'], protocols: [], max_payload_bytes: 1 },
      { hosts: ['a.com'], protocols: ['https'], max_payload_bytes: -1 },
      { protocols: ['https'], max_payload_bytes: 1 },
    ];
    for (const rule of bad) expect(() => new EgressPolicy({ rules: [rule] }), JSON.stringify(rule)).toThrow();
    expect(() => new EgressPolicy(undefined as never)).toThrow();
  });

  it('normalizes hosts', () => {
    expect(normalizeHost('Bücher.Example.')).toEqual({ kind: 'name', name: 'xn--bcher-kva.example' });
    expect(normalizeHost('ｅｘａｍｐｌｅ.com')).toEqual({ kind: 'name', name: 'example.com' });
    expect(normalizeHost('x'.repeat(2000))).toBeUndefined();
    expect(normalizeHost('a.b.c.d.e')).toEqual({ kind: 'name', name: 'a.b.c.d.e' });
    expect(normalizeHost('a b')).toBeUndefined();
  });
});

describe('IP parsing', () => {
  it('is strict for IPv4', () => {
    expect(parseIp('1.2.3.4')?.version).toBe(4);
    for (const bad of ['01.2.3.4', '1.2.3', '1.2.3.256', '1.2.3.4.5', 'a.b.c.d'])
      expect(parseIp(bad), bad).toBeUndefined();
  });
  it('parses IPv6 forms', () => {
    expect(parseIPv6('::')).toEqual(new Uint8Array(16));
    expect(parseIPv6('::1')![15]).toBe(1);
    expect(parseIPv6('1:2:3:4:5:6:7:8')![15]).toBe(8);
    expect(parseIPv6('64:ff9b::1.2.3.4')![12]).toBe(1);
    for (const bad of [
      '1::2::3',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8:9',
      'fe80::1%eth0',
      '12345::',
      '::1.2.3',
      '',
      '1:2:3:4:5:6:7::8',
    ])
      expect(parseIPv6(bad), bad).toBeUndefined();
  });
  it('CIDR edge cases', () => {
    const all = parseCidr('0.0.0.0/0')!;
    expect(cidrContains(all, parseIp('255.255.255.255')!)).toBe(true);
    expect(cidrContains(all, parseIp('::1')!)).toBe(false);
    const host = parseCidr('2001:db8::1/128')!;
    expect(cidrContains(host, parseIp('2001:db8::1')!)).toBe(true);
    expect(cidrContains(host, parseIp('2001:db8::2')!)).toBe(false);
    expect(parseCidr('::/129')).toBeUndefined();
    expect(parseCidr('1.2.3.4/01')).toBeUndefined();
    expect(parseCidr('x/8')).toBeUndefined();
  });
});

describe('egress configuration errors name the fix', () => {
  const message = (rule: unknown): string => {
    try {
      new EgressPolicy({ rules: [rule as never] });
    } catch (error) {
      expect((error as { code?: string }).code).toBe('CONFIG_INVALID');
      return (error as Error).message;
    }
    throw new Error('accepted');
  };
  const base = { protocols: ['https'], max_payload_bytes: 1 };

  it.each([
    ['127.0.0.1', '127.0.0.1/32'],
    ['2130706433', '127.0.0.1/32'],
    ['0x7f.1', '127.0.0.1/32'],
    ['::ffff:127.0.0.1', '127.0.0.1/32'],
    ['[::1]', '0:0:0:0:0:0:0:1/128'],
  ])('an IP literal %s in hosts is refused, pointing at cidrs (%s)', (host, cidr) => {
    const m = message({ ...base, hosts: [host] });
    expect(m).toContain('cidrs');
    expect(m).toContain(cidr);
    // and the CIDR it names is accepted and matches that destination
    const p = new EgressPolicy({ rules: [{ ...base, cidrs: [cidr] }] });
    expect(p.allows({ host, protocol: 'https', payload_bytes: 1 })).toBe(true);
  });

  it('an unknown field is refused instead of silently widening the rule', () => {
    expect(message({ ...base, hosts: ['a.example.com'], port: [443] })).toContain('unknown field port');
    expect(message({ ...base, host: ['a.example.com'] })).toContain('unknown field host');
    expect(() => new EgressPolicy({ rules: [], extra: 1 } as never)).toThrow(/unknown field extra/);
  });

  it('hosts given as a string (not a list) is refused, not split into one-letter hosts', () => {
    expect(message({ ...base, hosts: 'example.com' })).toContain('hosts must be a list');
    expect(message({ ...base, cidrs: '10.0.0.0/8' })).toContain('cidrs must be a list');
    expect(message({ hosts: ['a.example.com'], protocols: 'https', max_payload_bytes: 1 })).toContain(
      'protocols',
    );
    expect(message({ ...base, hosts: ['a.example.com'], ports: [0] })).toContain('ports');
    expect(message({ ...base, hosts: ['a.example.com'], ports: '443' })).toContain('ports');
    expect(message(null)).toContain('must be an object');
  });
});

describe('I-RULES-1: IP literal vs hostname confusion', () => {
  const local = new EgressPolicy({
    rules: [{ cidrs: ['127.0.0.1/32'], protocols: ['http'], max_payload_bytes: 100 }],
  });
  const named = new EgressPolicy({
    rules: [{ hosts: ['localhost', '*.example.com'], protocols: ['http'], max_payload_bytes: 100 }],
  });
  const at = (host: string) => ({ host, protocol: 'http', payload_bytes: 1 });

  it('every spelling of 127.0.0.1 is the address: allowed by its CIDR, never by a name rule', () => {
    for (const host of [
      '127.0.0.1',
      '2130706433',
      '0x7f.1',
      '127.1',
      '0177.0.0.1',
      '::ffff:127.0.0.1',
      '[::ffff:7f00:1]',
    ]) {
      expect(local.allows(at(host)), host).toBe(true);
      expect(named.allows(at(host)), host).toBe(false);
    }
  });

  it('names never match a CIDR, however much they look like an address', () => {
    for (const host of ['localhost', '127.0.0.1.example.com', '127.0.0.1.nip.io', '127-0-0-1.example.com']) {
      expect(local.allows(at(host)), host).toBe(false);
    }
    // a name rule's wildcard does not reach an address whose text ends the same way
    expect(named.allows(at('127.0.0.1.example.com'))).toBe(true);
    expect(named.allows(at('1.example.com'))).toBe(true);
  });
});
