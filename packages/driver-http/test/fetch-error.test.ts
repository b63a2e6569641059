// A request that fails before any response names its cause (issue #17 §3): fetch() itself only
// says "fetch failed"; the reason is in its `cause`.
import { createServer } from 'node:net';
import type { Effect, ToolDescriptor } from '@helm/contracts';
import { DriverFailure } from '@helm/executor';
import { describe, expect, it } from 'vitest';
import { describeFetchError } from '../src/http-driver.ts';
import { httpDriver } from '../src/index.ts';

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('DRIVER_ERROR carries the cause of a failed request', () => {
  it('a closed port is "connection refused", with the socket detail', async () => {
    const port = await closedPort();
    const origin = `http://127.0.0.1:${port}`;
    const descriptor = { name: 't', destination: origin, driver: { kind: 'http', ref: `${origin}/x` } };
    const driver = httpDriver();
    const context = {
      descriptor: descriptor as unknown as ToolDescriptor,
      effect: { destination: '127.0.0.1' } as unknown as Effect,
      decision_id: 'd',
      signal: new AbortController().signal,
    };
    const failure = await Promise.resolve(driver.invoke({}, context)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(DriverFailure);
    expect(failure).toMatchObject({ code: 'DRIVER_ERROR' });
    expect((failure as Error).message).toMatch(
      new RegExp(`^request failed: connection refused \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)$`),
    );
  });

  it('names codes in words, falls back to the code or message, and never throws', () => {
    const fetchFailed = (cause: unknown) => Object.assign(new TypeError('fetch failed'), { cause });
    expect(
      describeFetchError(fetchFailed({ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND x.invalid' })),
    ).toBe('host not found (getaddrinfo ENOTFOUND x.invalid)');
    // Happy eyeballs: an AggregateError of one error per address.
    const aggregate = {
      errors: [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED ::1:80' }],
      message: '',
    };
    expect(describeFetchError(fetchFailed(aggregate))).toBe(
      'connection refused (connect ECONNREFUSED ::1:80)',
    );
    expect(describeFetchError(fetchFailed({ code: 'EWHATEVER' }))).toBe('EWHATEVER');
    expect(describeFetchError(fetchFailed({ code: 'constructor' }))).toBe('constructor');
    expect(describeFetchError(fetchFailed({ message: 'bad port' }))).toBe('fetch failed (bad port)');
    expect(describeFetchError(new Error('plain'))).toBe('plain');
    expect(describeFetchError('a string')).toBe('a string');
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
      },
    );
    expect(describeFetchError(hostile)).toBe('an unprintable error');
  });
});
