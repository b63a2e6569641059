// Evidence explorer: a pack dropped on the page (or fetched from the server) is verified here, in
// the browser, by @helm/evidencepack's verifier over @helm/crypto's browser entry, @helm/receipts
// and @helm/proofgraph — the code `helmts verify` runs. No network is used for the verdict: the
// pack's bytes are all it needs (trust comes from the pack's own snapshot, as for `helmts verify`
// without a pin; a pin is an input here too). Then the receipts as a timeline, the ProofGraph as
// a graph, and the checkpoints with their consistency proofs; for a chosen receipt, its RFC 9162
// inclusion proof against each checkpoint that covers it, verified here by @helm/proofgraph's
// verifier (inclusion.ts).
import type { SignedEnvelope } from '@helm/contracts';
import { canonicalBytes, digest, isDigest } from '@helm/crypto';
import {
  type Check,
  envelopeBody,
  freshnessLine,
  parseTrustHeadPin,
  readTar,
  receiptHashOf,
  type VerifyOptions,
  type VerifyReport,
  verifyEvidencePack,
} from '@helm/evidencepack';
import { getBytes, getContext } from './api.js';
import { clear, h, iso } from './dom.js';
import { type HistoryLeaf, historyLeaf, renderInclusion } from './inclusion.js';

interface Receipt {
  path: string;
  /** False when the entry could not be read (e.g. tampered): shown, marked, not interpreted. */
  readable: boolean;
  lamport: number;
  hash: string;
  status: string;
  verdict: string;
  reason_code: string;
  principal: string;
  tool: string;
  prev_hash: string;
  issued_at_ms: number;
  /** Its log leaf (hash, and the proof a condensed entry carries); undefined when unreadable. */
  leaf?: HistoryLeaf | undefined;
}

interface GraphNode {
  hash: string;
  kind: string;
  lamport: number;
  parents: string[];
}

interface Checkpoint {
  path: string;
  /** digest of the checkpoint envelope: what condensed entries name. */
  hash: string;
  tree_size: number;
  root_hash: string;
  lamport_from: number;
  lamport_to: number;
  issued_at_ms: number;
}

export function renderExplorer(root: HTMLElement): () => void {
  const out = h('div', { id: 'explorer-result' });
  const input = h('input', {
    type: 'file',
    id: 'pack-file',
    accept: '.tar,application/x-tar',
  }) as HTMLInputElement;
  const anchor = h('input', {
    id: 'trust-anchor',
    placeholder: 'sha256:<64 hex> (helmts trust anchor)',
    size: '76',
  }) as HTMLInputElement;
  const pin = h('input', {
    id: 'trust-head',
    placeholder: 'optional <seq>:sha256:<hex> (helmts trust head)',
    size: '76',
  }) as HTMLInputElement;
  const fromServer = async () => {
    try {
      anchor.value = (await getContext()).trust_anchor;
    } catch (e) {
      clear(
        out,
        h(
          'p',
          { class: 'error' },
          `Could not read this server's anchor: ${e instanceof Error ? e.message : String(e)}`,
        ),
      );
    }
  };
  const drop = h(
    'div',
    { class: 'dropzone', id: 'dropzone' },
    h(
      'p',
      {},
      'Drop an EvidencePack (.tar) here, or ',
      h('label', {}, 'choose a file ', input),
      ' or ',
      h(
        'button',
        { type: 'button', id: 'fetch-pack', onclick: () => void fetchPack() },
        'fetch this server’s pack',
      ),
    ),
    h(
      'p',
      { class: 'hint' },
      'Verified in this page with the same code as `helmts verify`: nothing is uploaded.',
    ),
    h(
      'p',
      {},
      h('label', {}, 'Trust anchor (required for PASS, as for helmts verify): ', anchor),
      ' ',
      h(
        'button',
        { type: 'button', id: 'anchor-from-server', onclick: () => void fromServer() },
        'use this server’s',
      ),
    ),
    h('p', {}, h('label', {}, 'Trust head pin: ', pin)),
  );
  const open = async (bytes: Uint8Array, name: string) => {
    clear(out, h('p', { class: 'hint' }, `Verifying ${name} (${bytes.length} bytes) in the browser…`));
    const options: { -readonly [K in keyof VerifyOptions]: VerifyOptions[K] } = { workers: 0 };
    if (anchor.value.trim()) {
      if (!isDigest(anchor.value.trim())) {
        clear(out, h('p', { class: 'error' }, 'The trust anchor is not sha256:<64 lowercase hex>.'));
        return;
      }
      options.trustAnchor = anchor.value.trim();
    }
    if (pin.value.trim()) {
      const p = parseTrustHeadPin(pin.value.trim());
      if (!p) {
        clear(out, h('p', { class: 'error' }, 'The trust head pin is not <seq>:sha256:<64 hex>.'));
        return;
      }
      options.trustHead = p;
    }
    let report: VerifyReport;
    try {
      report = await verifyEvidencePack(bytes, options);
    } catch (e) {
      clear(
        out,
        h('p', { class: 'error' }, `The verifier threw: ${e instanceof Error ? e.message : String(e)}`),
      );
      return;
    }
    renderReport(out, report, bytes, name);
  };
  input.addEventListener('change', async () => {
    const f = input.files?.[0];
    if (f) await open(new Uint8Array(await f.arrayBuffer()), f.name);
    input.value = '';
  });
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', async (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = (e as DragEvent).dataTransfer?.files?.[0];
    if (f) await open(new Uint8Array(await f.arrayBuffer()), f.name);
  });
  const fetchPack = async () => {
    try {
      await open(await getBytes('/v1/evidencepack'), 'the server’s pack');
    } catch (e) {
      clear(out, h('p', { class: 'error' }, `Fetch failed: ${e instanceof Error ? e.message : String(e)}`));
    }
  };
  clear(root, h('h1', {}, 'Evidence explorer'), drop, out);
  return () => {};
}

function renderReport(out: HTMLElement, report: VerifyReport, bytes: Uint8Array, name: string): void {
  const firstFailure = report.checks.find((c) => c.status === 'FAILED' || c.status === 'UNVERIFIABLE');
  const checkRow = (c: Check) =>
    h(
      'tr',
      {
        class: `check ${c.status.toLowerCase()}${c === firstFailure ? ' first-failure' : ''}`,
        'data-code': c.code,
        'data-status': c.status,
      },
      h('td', {}, h('code', {}, c.code)),
      h('td', {}, h('span', { class: `badge ${c.status.toLowerCase()}` }, c.status)),
      h(
        'td',
        {},
        c.message,
        c.detail ? h('small', {}, ` (${c.detail})`) : null,
        c.path ? h('small', {}, ` — ${c.path}`) : null,
      ),
    );
  const { receipts, nodes, checkpoints, consistency } = contents(bytes);
  const inclusion = h(
    'section',
    { id: 'inclusion', class: 'inclusion' },
    h(
      'p',
      { class: 'hint' },
      checkpoints.length === 0
        ? 'No checkpoints in this pack, so no inclusion proofs (export with condense to get one).'
        : 'Choose a receipt above to see its inclusion proof against each checkpoint that covers it.',
    ),
  );
  const checkpointsSigned = report.checks.some((c) => c.code === 'CHECKPOINTS' && c.status === 'PASS');
  const blamed = new Set(
    report.checks.filter((c) => c.status === 'FAILED' && c.path).map((c) => c.path as string),
  );
  clear(
    out,
    h(
      'section',
      { class: `verdict ${report.status.toLowerCase()}`, id: 'verdict', 'data-status': report.status },
      h('h2', {}, report.status === 'PASS' ? '✓ PASS' : `✗ ${report.status}`),
      h('p', {}, `${name}: `, h('code', {}, report.pack_digest)),
      firstFailure
        ? h(
            'p',
            { id: 'first-failure' },
            'First failure: ',
            h('code', {}, firstFailure.code),
            ` — ${firstFailure.message}`,
          )
        : null,
      h('p', { class: 'hint' }, freshnessLine(report.freshness)),
    ),
    h('h2', {}, 'Checks'),
    h('table', { class: 'grid', id: 'checks' }, h('tbody', {}, report.checks.map(checkRow))),
    h('h2', {}, `Receipt chain (${receipts.length})`),
    timeline(receipts, blamed, (r) =>
      renderInclusion(inclusion, r, receipts, checkpoints, checkpointsSigned),
    ),
    inclusion,
    h('h2', {}, `ProofGraph (${receipts.filter((r) => r.readable).length + nodes.length} readable nodes)`),
    graph(receipts, nodes),
    h('h2', {}, `Checkpoints (${checkpoints.length})`),
    checkpoints.length === 0
      ? h('p', { class: 'hint' }, 'No checkpoints in this pack.')
      : h(
          'table',
          { class: 'grid', id: 'checkpoints' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['tree size', 'Lamport range', 'root', 'issued', 'consistency proof to next'].map((t) =>
                h('th', {}, t),
              ),
            ),
          ),
          h(
            'tbody',
            {},
            checkpoints.map((c, i) =>
              h(
                'tr',
                {},
                h('td', {}, c.tree_size),
                h('td', {}, `${c.lamport_from}–${c.lamport_to}`),
                h('td', {}, h('code', {}, c.root_hash)),
                h('td', {}, iso(c.issued_at_ms)),
                h('td', {}, i < checkpoints.length - 1 ? `${consistency[i]?.length ?? 0} hashes` : '—'),
              ),
            ),
          ),
        ),
    h(
      'p',
      { class: 'hint' },
      'Each checkpoint’s root is recomputed from the receipts (CHECKPOINTS check); the consistency proofs bind every checkpoint to the next.',
    ),
  );
}

/** What the explorer shows, read from the archive (display only: the verdict above is the check). */
function contents(bytes: Uint8Array) {
  const receipts: Receipt[] = [];
  const nodes: GraphNode[] = [];
  const checkpoints: Checkpoint[] = [];
  let consistency: string[][] = [];
  let entries: { path: string; data: Uint8Array }[] = [];
  try {
    entries = readTar(bytes);
  } catch {
    return { receipts, nodes, checkpoints, consistency };
  }
  const text = new TextDecoder();
  for (const e of entries) {
    try {
      if (/^receipts\/\d+\.json$/.test(e.path)) {
        const lamport = Number(e.path.slice('receipts/'.length, -'.json'.length));
        let env: SignedEnvelope;
        let b: Record<string, unknown>;
        try {
          env = JSON.parse(text.decode(e.data)) as SignedEnvelope;
          b = envelopeBody<Record<string, unknown>>(env);
        } catch {
          receipts.push({
            path: e.path,
            readable: false,
            lamport,
            hash: '',
            status: 'UNREADABLE',
            verdict: '?',
            reason_code: '—',
            principal: '—',
            tool: '—',
            prev_hash: '',
            issued_at_ms: Number.NaN,
          });
          continue;
        }
        receipts.push({
          path: e.path,
          readable: true,
          lamport: Number(b.lamport),
          hash: receiptHashOf(env),
          status: String(b.status),
          verdict: String(b.verdict),
          reason_code: String(b.reason_code),
          principal: String(b.principal),
          tool: String(b.tool),
          prev_hash: String(b.prev_hash),
          issued_at_ms: Number(b.issued_at_ms),
          leaf: historyLeaf({ ...b, entry_hash: receiptHashOf(env) }),
        });
      } else if (/^condensed\/\d+\.json$/.test(e.path)) {
        // A LOW receipt replaced by its log leaf and an inclusion proof (docs/spec/condensed-entry.md).
        const lamport = Number(e.path.slice('condensed/'.length, -'.json'.length));
        let c: Record<string, unknown> | undefined;
        try {
          c = JSON.parse(text.decode(e.data)) as Record<string, unknown>;
        } catch {
          c = undefined;
        }
        receipts.push({
          path: e.path,
          readable: c !== undefined,
          lamport: c === undefined ? lamport : Number(c.lamport),
          hash: c === undefined ? '' : String(c.entry_hash),
          status: c === undefined ? 'UNREADABLE' : 'CONDENSED',
          verdict: '—',
          reason_code: '—',
          principal: '—',
          tool: '—',
          prev_hash: c === undefined ? '' : String(c.prev_hash),
          issued_at_ms: Number.NaN,
          ...(c === undefined ? {} : { leaf: historyLeaf(c) }),
        });
      } else if (e.path.startsWith('proofgraph/nodes/')) {
        const m = /^proofgraph\/nodes\/(\d+)-([0-9a-f]{64})\.json$/.exec(e.path);
        const entry = JSON.parse(text.decode(e.data)) as { envelope: SignedEnvelope };
        const b = envelopeBody<{ kind: string; lamport: number; parents: string[] }>(entry.envelope);
        nodes.push({
          hash: `sha256:${m?.[2] ?? ''}`,
          kind: b.kind,
          lamport: b.lamport,
          parents: b.parents ?? [],
        });
      } else if (/^checkpoints\/\d+-[0-9a-f]{64}\.json$/.test(e.path)) {
        const env = JSON.parse(text.decode(e.data)) as SignedEnvelope;
        const b = envelopeBody<Checkpoint>(env);
        checkpoints.push({ ...b, path: e.path, hash: digest(canonicalBytes(env)) });
      } else if (e.path === 'checkpoints/consistency.json') {
        consistency = JSON.parse(text.decode(e.data)) as string[][];
      }
    } catch {
      // an entry the verifier has already judged; the explorer shows what it can read
    }
  }
  receipts.sort((a, b) => a.lamport - b.lamport);
  checkpoints.sort((a, b) => a.tree_size - b.tree_size);
  return { receipts, nodes, checkpoints, consistency };
}

function timeline(
  receipts: Receipt[],
  blamed: ReadonlySet<string>,
  choose: (r: Receipt) => void,
): HTMLElement {
  const list = h('ol', { class: 'timeline', id: 'timeline' });
  const pick = (r: Receipt, li: HTMLElement) => {
    for (const other of list.querySelectorAll('li.chosen')) other.classList.remove('chosen');
    li.classList.add('chosen');
    choose(r);
  };
  for (const r of receipts) {
    const li: HTMLElement = h(
      'li',
      {
        class: `verdict-${r.verdict.toLowerCase()}${blamed.has(r.path) ? ' blamed' : ''}${r.readable ? '' : ' unreadable'}`,
        'data-lamport': String(r.lamport),
        title: blamed.has(r.path) ? `${r.path}: named by a failed check` : r.path,
        tabindex: '0',
        role: 'button',
        onclick: () => pick(r, li),
        onkeydown: (e: Event) => {
          if ((e as KeyboardEvent).key === 'Enter') pick(r, li);
        },
      },
      h('span', { class: 'lamport' }, `L${r.lamport}`),
      h('span', { class: `badge ${r.status.toLowerCase()}` }, r.status),
      ...(r.status === 'CONDENSED'
        ? [
            h('span', { class: 'hint' }, 'LOW receipt kept as its log leaf and inclusion proof:'),
            h('code', {}, r.hash),
          ]
        : [
            h('span', {}, r.verdict),
            h('code', {}, r.reason_code),
            h('span', {}, r.principal),
            h('span', {}, '→ ', h('code', {}, r.tool)),
            h('small', {}, iso(r.issued_at_ms)),
          ]),
    );
    list.append(li);
  }
  return list;
}

const SVG = 'http://www.w3.org/2000/svg';
function s(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Nodes by Lamport along x (receipt nodes on the chain's row, others below), edges to parents. */
function graph(receipts: Receipt[], nodes: GraphNode[]): Element {
  const all: (GraphNode & { receipt?: Receipt })[] = [
    ...receipts
      .filter((r) => r.readable)
      .map((r) => ({
        hash: r.hash,
        kind: 'EFFECT',
        lamport: r.lamport,
        parents: r.lamport === 1 ? [] : [r.prev_hash],
        receipt: r,
      })),
    ...nodes,
  ].sort((a, b) => a.lamport - b.lamport || a.kind.localeCompare(b.kind));
  const STEP = 70;
  const at = new Map<string, { x: number; y: number }>();
  let other = 0;
  all.forEach((n, i) => {
    at.set(n.hash, { x: 40 + i * STEP, y: n.kind === 'EFFECT' ? 50 : 120 + 40 * (other++ % 2) });
  });
  const width = Math.max(200, 80 + all.length * STEP);
  const height = nodes.length === 0 ? 100 : 200;
  const svg = s('svg', { id: 'proofgraph', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
  svg.append(s('title', {}, 'ProofGraph: nodes by Lamport, edges to parents'));
  for (const n of all)
    for (const p of n.parents) {
      const a = at.get(n.hash);
      const b = at.get(p);
      if (a && b) svg.append(s('line', { x1: b.x, y1: b.y, x2: a.x, y2: a.y, class: 'edge' }));
    }
  for (const n of all) {
    const p = at.get(n.hash) as { x: number; y: number };
    const g = s('g', {
      class: `node ${n.kind.toLowerCase()} ${n.receipt ? `verdict-${n.receipt.verdict.toLowerCase()}` : ''}`,
    });
    g.append(s('circle', { cx: p.x, cy: p.y, r: 14 }));
    g.append(s('text', { x: p.x, y: p.y + 4, 'text-anchor': 'middle' }, String(n.lamport)));
    g.append(
      s(
        'text',
        { x: p.x, y: p.y + 30, 'text-anchor': 'middle', class: 'label' },
        n.receipt ? n.receipt.tool : n.kind,
      ),
    );
    g.append(
      s(
        'title',
        {},
        `${n.kind} ${n.hash}${n.receipt ? ` ${n.receipt.status} ${n.receipt.reason_code}` : ''}`,
      ),
    );
    svg.append(g);
  }
  return h('div', { class: 'graph' }, svg as unknown as Node);
}
