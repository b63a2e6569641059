// Prometheus metrics (prom-client, one registry per server): decisions by verdict and reason,
// request latencies by route, store errors and the governed calls in flight.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface ServeMetrics {
  readonly registry: Registry;
  readonly decisions: Counter<'verdict' | 'reason_code'>;
  readonly requests: Histogram<'method' | 'route' | 'status'>;
  readonly storeErrors: Counter;
  readonly authFailures: Counter<'status'>;
  readonly callsInFlight: Gauge;
}

export function createMetrics(): ServeMetrics {
  const registry = new Registry();
  return {
    registry,
    decisions: new Counter({
      name: 'helm_decisions_total',
      help: 'Governed calls by verdict and reason code',
      labelNames: ['verdict', 'reason_code'],
      registers: [registry],
    }),
    requests: new Histogram({
      name: 'helm_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    storeErrors: new Counter({
      name: 'helm_store_errors_total',
      help: 'Requests refused because the store was unavailable',
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'helm_auth_failures_total',
      help: 'Requests refused by authentication (401) or authorization (403)',
      labelNames: ['status'],
      registers: [registry],
    }),
    callsInFlight: new Gauge({
      name: 'helm_calls_in_flight',
      help: 'Governed calls in flight on the runtime',
      registers: [registry],
    }),
  };
}
