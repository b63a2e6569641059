// The HTTP driver against a real loopback server (127.0.0.1 only), governed end to end by the real
// guardian (Gate 3 egress allowlist), receipts and proofgraph through the SafeExecutor.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Effect, ToolDescriptor } from '@helm/contracts';
import { createSigner, signEnvelope } from '@helm/crypto';
import {
  createExecutor,
  type DriverContext,
  DriverFailure,
  type Executor,
  ExecutorError,
  proofGraphPort,
  type Timer,
} from '@helm/executor';
import {
  DEFAULT_THREAT_CONFIG,
  Guardian,
  InMemoryBudgetLedger,
  loadPolicyStack,
  ManualClock,
} from '@helm/guardian';
import { ProofGraph } from '@helm/proofgraph';
import { InMemoryReceiptStore, ReceiptPolicySet, ReceiptRecorder } from '@helm/receipts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointOf, httpDriver } from '../src/index.ts';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

const seed = (n: number) => new Uint8Array(32).fill(n);
const FINGERPRINT = `sha256:${'cd'.repeat(32)}`;

class ManualTimer implements Timer {
  readonly pending = new Map<number, () => void>();
  #next = 1;
  setTimeout(cb: () => void): unknown {
    const id = this.#next++;
    this.pending.set(id, cb);
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  fireAll(): void {
    for (const [id, cb] of [...this.pending]) {
      this.pending.delete(id);
      cb();
    }
  }
}

describe('HTTP driver (loopback, real guardian)', () => {
  let server: Server;
  let port = 0;
  let origin = '';
  const seen: { path: string; method: string; body: string; contentType: string | undefined }[] = [];
  const handlers = new Map<string, Handler>();
  const timer = new ManualTimer();
  let executor: Executor;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({
          path: req.url ?? '',
          method: req.method ?? '',
          body,
          contentType: req.headers['content-type'],
        });
        const h = handlers.get(req.url ?? '');
        if (h) h(req, body, res);
        else {
          res.writeHead(404);
          res.end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    origin = `http://127.0.0.1:${port}`;

    const clock = new ManualClock(1_767_225_600_000);
    const bundleSigner = createSigner(seed(22));
    const policy = loadPolicyStack({
      p0: {
        type: 'helm.policy.p0.v1',
        name: 'ceiling',
        forbidden_effect_types: [],
        budgets: { default_principal_max: 1000, default_tenant_max: 1000 },
        max_delegation_ttl_ms: 3_600_000,
        require_delegation_mfa: false,
      },
      bundles: [
        signEnvelope(
          {
            type: 'helm.policy.bundle.v1',
            name: 'egress',
            version: 1,
            rules: [
              {
                id: 'allow-http',
                effect: 'allow',
                when: { principal: { eq: 'alice' }, effect_type: { eq: 'net.egress' } },
              },
            ],
          },
          [bundleSigner],
        ),
      ],
      trustedBundleKeys: (id) => (id === bundleSigner.keyId ? bundleSigner.publicKey : undefined),
    });
    const ledger = new InMemoryBudgetLedger();
    const guardianSigner = createSigner(seed(21));
    const guardian = new Guardian({
      signer: guardianSigner,
      clock,
      freeze: {},
      environmentFingerprint: FINGERPRINT,
      identity: { bindings: [{ credential_id: 'cred-alice', principal: 'alice' }] },
      // Gate 3: only 127.0.0.1, only http, only this port, at most 256 payload bytes.
      egress: {
        rules: [{ cidrs: ['127.0.0.1/32'], protocols: ['http'], ports: [port], max_payload_bytes: 256 }],
      },
      threat: DEFAULT_THREAT_CONFIG,
      delegation: {},
      policy,
      budget: ledger,
      approvals: {
        keyAuthorization: () => undefined,
        perApprover: { max: 1, window_ms: 1 },
        perPrincipal: { max: 1, window_ms: 1 },
      },
    });
    const executorSigner = createSigner(seed(23));
    executor = createExecutor({
      guardian: guardian.asExecutorPort(),
      guardianKeys: guardian.publicKeys,
      receipts: new ReceiptRecorder({
        signer: executorSigner,
        chainId: 'http-test',
        store: new InMemoryReceiptStore(),
        trust: () => ({ seq: 1, head: `sha256:${'7'.repeat(64)}` }),
        policies: new ReceiptPolicySet([
          {
            effect_class: 'net.egress',
            risk_tier: 'MEDIUM',
            require_idempotency_key: false,
            min_approvals: 0,
            required_evidence: [],
          },
        ]),
      }),
      proofgraph: proofGraphPort({ graph: new ProofGraph() }),
      clock,
      timer,
    });
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function tool(name: string, path: string, destination = origin, ref = `${origin}${path}`): ToolDescriptor {
    return {
      type: 'helm.tool.v1',
      name,
      description: 'HTTP tool',
      input_schema: {
        type: 'object',
        properties: { q: { type: 'string' } },
        required: ['q'],
        additionalProperties: false,
      },
      output_schema: {
        type: 'object',
        properties: { answer: { type: 'string' } },
        required: ['answer'],
        additionalProperties: false,
      },
      effect_type: 'net.egress',
      risk_tier: 'MEDIUM',
      action: 'POST',
      destination,
      driver: { kind: 'http', ref, timeout_ms: 10_000 },
    };
  }

  const call = (name: string, q = 'hello', key?: string) =>
    executor.execute({
      tool: name,
      principal: 'alice',
      args: { q },
      context: {
        environment_fingerprint: FINGERPRINT,
        credential_id: 'cred-alice',
        destination: { host: 'evil.example', protocol: 'https', payload_bytes: 0 },
      },
      ...(key ? { idempotency_key: key } : {}),
    });

  it('ALLOW: POSTs exactly the canonical args to the endpoint Gate 3 checked and releases the JSON answer', async () => {
    handlers.set('/ask', (_req, body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ answer: `you said ${JSON.parse(body).q}` }));
    });
    executor.registerTool(tool('http.ask', '/ask'), httpDriver({ headers: { 'x-api-key': 'k' } }));
    const before = seen.length;
    const r = await call('http.ask');
    expect(r).toMatchObject({
      status: 'SUCCEEDED',
      reason_code: 'ALLOW',
      output: { answer: 'you said hello' },
    });
    expect(seen.slice(before)).toEqual([
      { path: '/ask', method: 'POST', body: '{"q":"hello"}', contentType: 'application/json' },
    ]);
  });

  it('Gate 3 denies a destination outside the allowlist; nothing leaves', async () => {
    // 127.0.0.2 is loopback too but not in the allowed CIDR; the connection is never attempted.
    const other = `http://127.0.0.2:${port}`;
    executor.registerTool(tool('http.other', '/ask', other, `${other}/ask`), httpDriver());
    const before = seen.length;
    const r = await call('http.other');
    expect(r).toMatchObject({ status: 'DENIED', reason_code: 'GATE_EGRESS_DENIED' });
    expect(seen.length).toBe(before);
  });

  it('Gate 3 denies a payload above the allowed size; nothing leaves', async () => {
    const before = seen.length;
    const r = await call('http.ask', 'x'.repeat(300));
    expect(r).toMatchObject({ status: 'DENIED', reason_code: 'GATE_EGRESS_DENIED' });
    expect(seen.length).toBe(before);
  });

  it('refuses to bind an endpoint outside the declared destination', () => {
    expect(() =>
      executor.registerTool(tool('http.bad', '/x', origin, `http://127.0.0.1:${port + 1}/x`), httpDriver()),
    ).toThrow(ExecutorError);
    expect(() =>
      executor.registerTool(tool('http.bad2', '/x', origin, 'ftp://127.0.0.1/x'), httpDriver()),
    ).toThrow(ExecutorError);
  });

  it('server errors, redirects, non-JSON and oversized responses are DRIVER_ERROR; nothing released', async () => {
    handlers.set('/500', (_q, _b, res) => {
      res.writeHead(500);
      res.end('oops');
    });
    handlers.set('/redirect', (_q, _b, res) => {
      res.writeHead(302, { location: 'http://127.0.0.2/steal' });
      res.end();
    });
    handlers.set('/text', (_q, _b, res) => {
      res.writeHead(200);
      res.end('{"answer":"a","answer":"b"}');
    });
    handlers.set('/huge', (_q, _b, res) => {
      res.writeHead(200);
      res.end(JSON.stringify({ answer: 'y'.repeat(5000) }));
    });
    handlers.set('/chunked', (_q, _b, res) => {
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      res.write('{"answer":"');
      res.write('z'.repeat(5000));
      res.end('"}');
    });
    handlers.set('/declared', (_q, _b, res) => {
      const payload = JSON.stringify({ answer: 'w'.repeat(5000) });
      res.writeHead(200, { 'content-length': String(Buffer.byteLength(payload)) });
      res.end(payload);
    });
    handlers.set('/empty', (_q, _b, res) => {
      res.writeHead(204);
      res.end();
    });
    handlers.set('/info', (_q, _b, res) => {
      res.writeHead(304);
      res.end();
    });
    executor.registerTool(tool('http.declared', '/declared'), httpDriver({ maxResponseBytes: 1000 }));
    executor.registerTool(tool('http.empty', '/empty'), httpDriver());
    executor.registerTool(tool('http.info', '/info'), httpDriver());
    executor.registerTool(tool('http.e500', '/500'), httpDriver());
    executor.registerTool(tool('http.redirect', '/redirect'), httpDriver());
    executor.registerTool(tool('http.text', '/text'), httpDriver());
    executor.registerTool(tool('http.huge', '/huge'), httpDriver({ maxResponseBytes: 1000 }));
    executor.registerTool(tool('http.chunked', '/chunked'), httpDriver({ maxResponseBytes: 1000 }));
    for (const name of [
      'http.e500',
      'http.redirect',
      'http.text',
      'http.huge',
      'http.chunked',
      'http.declared',
      'http.empty',
      'http.info',
    ]) {
      const r = await call(name);
      expect(r.reason_code, name).toBe('DRIVER_ERROR');
      expect(r.status).toBe('FAILED');
      expect(r.output).toBeUndefined();
    }
  });

  it('a hanging endpoint is cut off by the per-tool timeout (DRIVER_TIMEOUT)', async () => {
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    handlers.set('/hang', () => arrived());
    executor.registerTool(tool('http.hang', '/hang'), httpDriver());
    const pending = call('http.hang');
    await reached;
    timer.fireAll();
    const r = await pending;
    expect(r).toMatchObject({ status: 'FAILED', reason_code: 'DRIVER_TIMEOUT' });
  });

  it('the driver itself refuses a context whose authorized destination is another host', async () => {
    const d = tool('x', '/ask');
    const driver = httpDriver({ fetch: () => Promise.reject(new Error('must not be called')) });
    const effect = { destination: 'api.example.com' } as Effect;
    const context = {
      descriptor: d,
      effect,
      intent_id: 'i',
      signal: new AbortController().signal,
    } as DriverContext;
    await expect(driver.invoke({ q: 'a' }, context)).rejects.toMatchObject({ code: 'DRIVER_EGRESS_DENIED' });
    const failing = httpDriver({ fetch: () => Promise.reject(new Error('ECONNREFUSED')) });
    const ok = { ...context, effect: { destination: '127.0.0.1' } as Effect };
    await expect(failing.invoke({ q: 'a' }, ok)).rejects.toBeInstanceOf(DriverFailure);
  });

  it('endpointOf accepts only plain http(s) URLs', () => {
    expect(endpointOf('http://[::1]:8080/x')).toMatchObject({ origin: 'http://[::1]:8080', host: '::1' });
    expect(endpointOf('https://user:pw@example.com/')).toBeUndefined();
    expect(endpointOf('https://example.com/#frag')).toBeUndefined();
    expect(endpointOf('not a url')).toBeUndefined();
    expect(endpointOf('file:///etc/passwd')).toBeUndefined();
  });
});
