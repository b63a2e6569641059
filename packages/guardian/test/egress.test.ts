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
