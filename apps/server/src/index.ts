import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { REASON_CODE_LIST } from '@helm/contracts';
import { isDigest } from '@helm/crypto';
import {
  parseTrustHeadPin,
  replayEvidencePack,
  type VerifyOptions,
  verifyEvidencePack,
} from '@helm/evidencepack';

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

const SEQ = /^[1-9][0-9]{0,15}$/;

type PinOptions = Pick<VerifyOptions, 'trustAnchor' | 'minTrustSeq' | 'trustHead'>;

/**
 * The verify endpoint's query: `trust_anchor`, and the freshness pins `min_trust_seq` (a registry
 * seq) and `trust_head` (`<seq>:sha256:<hex>`, what `helmts trust head` prints). A malformed value
 * is a usage error (400), never a verification verdict.
 */
function verifyQuery(params: URLSearchParams): PinOptions | string {
  const options: { -readonly [K in keyof PinOptions]: PinOptions[K] } = {};
  const anchor = params.get('trust_anchor');
  if (anchor !== null) {
    if (!isDigest(anchor)) return 'trust_anchor must be sha256:<64 lowercase hex>';
    options.trustAnchor = anchor;
  }
  const minSeq = params.get('min_trust_seq');
  if (minSeq !== null) {
    if (!SEQ.test(minSeq) || !Number.isSafeInteger(Number(minSeq))) {
      return 'min_trust_seq must be a registry seq (a positive integer)';
    }
    options.minTrustSeq = Number(minSeq);
  }
  const head = params.get('trust_head');
  if (head !== null) {
    const pin = parseTrustHeadPin(head);
    if (pin === undefined)
      return 'trust_head must be <seq>:sha256:<64 lowercase hex> (see `helmts trust head`)';
    options.trustHead = pin;
  }
  return options;
}

/**
 * Create the HELM HTTP server. Routes:
 * - `GET /healthz`, `GET /v1/reason-codes`
 * - `POST /v1/evidencepack/verify[?trust_anchor=sha256:…][&min_trust_seq=N][&trust_head=N:sha256:…]`
 *   — body: the pack (.tar); answers the verification report (200 PASS, 422 FAILED or
 *   UNVERIFIABLE) with the replay result. The report's `freshness` says which trust state the PASS
 *   is relative to (`unpinned` without a pin: docs/spec/evidencepack.md §5.3). Stateless: the
 *   server holds no project state and uses no network to verify.
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
      const options = verifyQuery(url.searchParams);
      if (typeof options === 'string')
        return send(res, 400, { error: { code: 'BAD_REQUEST', message: options } });
      readBody(req, limit).then(
        async (bytes) => {
          if (!bytes)
            return send(res, 413, { error: { code: 'TOO_LARGE', message: `pack exceeds ${limit} bytes` } });
          const report = await verifyEvidencePack(bytes, options);
          const replay = report.manifest ? replayEvidencePack(bytes, options) : null;
          send(res, report.status === 'PASS' ? 200 : 422, { report, replay });
        },
        () => send(res, 400, { error: { code: 'BAD_REQUEST', message: 'could not read the request body' } }),
      );
      return;
    }
    send(res, 404, { error: { code: 'NOT_FOUND', message: `no route ${req.method} ${url.pathname}` } });
  });
}
