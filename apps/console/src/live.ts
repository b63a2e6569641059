// Live view: the newest decisions and receipts, polled from GET /v1/receipts (audit scope) every
// two seconds from the last Lamport seen; filter by principal, tool and verdict. Display only: the
// receipts are the server's answer here, verified when a pack of them is opened in the explorer.
import type { SignedEnvelope } from '@helm/contracts';
import { envelopeBody } from '@helm/evidencepack';
import { ApiError, getJson } from './api.js';
import { clear, h, iso } from './dom.js';

interface Row {
  lamport: number;
  status: string;
  verdict: string;
  reason_code: string;
  principal: string;
  tool: string;
  issued_at_ms: number;
}

const KEEP = 500;

export function renderLive(root: HTMLElement): () => void {
  const rows: Row[] = [];
  let next = 1;
  const filters = { principal: '', tool: '', verdict: '' };
  const status = h('p', { class: 'hint', id: 'live-status' });
  const body = h('tbody', { id: 'live-rows' });
  const field = (name: keyof typeof filters, placeholder: string) =>
    h('input', {
      id: `filter-${name}`,
      placeholder,
      oninput: (e: Event) => {
        filters[name] = (e.target as HTMLInputElement).value.trim();
        draw();
      },
    });
  const verdict = h(
    'select',
    {
      id: 'filter-verdict',
      onchange: (e: Event) => {
        filters.verdict = (e.target as HTMLSelectElement).value;
        draw();
      },
    },
    ['', 'ALLOW', 'DENY', 'ESCALATE'].map((v) => h('option', { value: v }, v || 'any verdict')),
  );
  const draw = () => {
    const shown = rows.filter(
      (r) =>
        (!filters.principal || r.principal.includes(filters.principal)) &&
        (!filters.tool || r.tool.includes(filters.tool)) &&
        (!filters.verdict || r.verdict === filters.verdict),
    );
    clear(
      body,
      shown
        .slice()
        .reverse()
        .map((r) =>
          h(
            'tr',
            { class: `verdict-${r.verdict.toLowerCase()}` },
            h('td', {}, r.lamport),
            h('td', {}, h('span', { class: `badge ${r.status.toLowerCase()}` }, r.status)),
            h('td', {}, r.verdict),
            h('td', {}, h('code', {}, r.reason_code)),
            h('td', {}, r.principal),
            h('td', {}, h('code', {}, r.tool)),
            h('td', {}, iso(r.issued_at_ms)),
          ),
        ),
    );
  };
  const poll = async () => {
    try {
      for (;;) {
        const page = await getJson<{
          receipts: { lamport: number; envelope: SignedEnvelope }[];
          next_from: number | null;
        }>(`/v1/receipts?from=${next}&limit=500`);
        for (const r of page.receipts) {
          const b = envelopeBody<Record<string, unknown>>(r.envelope);
          rows.push({
            lamport: r.lamport,
            status: String(b.status),
            verdict: String(b.verdict),
            reason_code: String(b.reason_code),
            principal: String(b.principal),
            tool: String(b.tool),
            issued_at_ms: Number(b.issued_at_ms),
          });
          next = r.lamport + 1;
        }
        if (page.next_from === null) break;
      }
      rows.splice(0, Math.max(0, rows.length - KEEP));
      status.textContent = `${rows.length} receipts, last Lamport ${next - 1}; polling every 2 s (${new Date().toISOString()})`;
      draw();
    } catch (e) {
      status.textContent = e instanceof ApiError ? `${e.code} (${e.status}): ${e.message}` : String(e);
    }
  };
  clear(
    root,
    h('h1', {}, 'Live'),
    h('div', { class: 'filters' }, field('principal', 'principal'), field('tool', 'tool'), verdict),
    status,
    h(
      'table',
      { class: 'grid', id: 'live' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['L', 'status', 'verdict', 'reason', 'principal', 'tool', 'issued'].map((t) => h('th', {}, t)),
        ),
      ),
      body,
    ),
  );
  void poll();
  const timer = window.setInterval(() => void poll(), 2000);
  return () => window.clearInterval(timer);
}
