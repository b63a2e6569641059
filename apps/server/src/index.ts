import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { REASON_CODE_LIST } from '@helm/contracts';
import { replayEvidencePack, verifyEvidencePack } from '@helm/evidencepack';

/** Largest EvidencePack accepted by the verify endpoint (bytes). */
export const MAX_PACK_BYTES = 256 * 1024 * 1024;

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * Create the HELM HTTP server. Routes:
 * - `GET /healthz`, `GET /v1/reason-codes`
 * - `POST /v1/evidencepack/verify[?trust_anchor=sha256:…]` — body: the pack (.tar); answers the
 *   verification report (200 PASS, 422 FAILED or UNVERIFIABLE) with the replay result. Stateless:
 *   the server holds no project state and uses no network to verify.
 * Unknown routes answer 404 JSON.
 */
export function createHelmServer(options: { maxPackBytes?: number } = {}): Server {
  const limit = options.maxPackBytes ?? MAX_PACK_BYTES;
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://helm.invalid');
    if (req.method === 'GET' && url.pathname === '/healthz') return send(res, 200, { ok: true });
    if (req.method === 'GET' && url.pathname === '/v1/reason-codes') {
      return send(res, 200, { reason_codes: REASON_CODE_LIST });
    }
    if (req.method === 'POST' && url.pathname === '/v1/evidencepack/verify') {
      const anchor = url.searchParams.get('trust_anchor');
      if (anchor !== null && !DIGEST.test(anchor)) {
        return send(res, 400, {
          error: { code: 'BAD_REQUEST', message: 'trust_anchor must be sha256:<64 hex>' },
        });
      }
      readBody(req, limit).then(
        async (bytes) => {
          if (!bytes)
            return send(res, 413, { error: { code: 'TOO_LARGE', message: `pack exceeds ${limit} bytes` } });
          const report = await verifyEvidencePack(bytes, anchor ? { trustAnchor: anchor } : {});
          const replay = report.manifest
            ? replayEvidencePack(bytes, anchor ? { trustAnchor: anchor } : {})
            : null;
          send(res, report.status === 'PASS' ? 200 : 422, { report, replay });
        },
        () => send(res, 400, { error: { code: 'BAD_REQUEST', message: 'could not read the request body' } }),
      );
      return;
    }
    send(res, 404, { error: { code: 'NOT_FOUND', message: `no route ${req.method} ${url.pathname}` } });
  });
}
