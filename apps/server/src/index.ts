import { createServer, type Server } from 'node:http';
import { REASON_CODE_LIST } from '@helm/contracts';

/** Create the HELM HTTP server. Routes are added by later issues; unknown routes answer 404 JSON. */
export function createHelmServer(): Server {
  return createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.method === 'GET' && req.url === '/healthz') {
      res.end(JSON.stringify({ ok: true }));
      return;
    }
    if (req.method === 'GET' && req.url === '/v1/reason-codes') {
      res.end(JSON.stringify({ reason_codes: REASON_CODE_LIST }));
      return;
    }
    res.statusCode = 404;
    res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}` } }));
  });
}
