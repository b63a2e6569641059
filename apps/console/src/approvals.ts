// Approvals queue: pending challenges with their full binding, who has answered, and approve/deny
// signed in this page with the approver's own key (sign.ts). The server receives only the signed
// envelope (POST /v1/approvals/{id}); it holds no approver key and counts the approval only if the
// key holds the challenge's role in the trust registry.
import type { ApprovalChallenge } from '@helm/contracts';
import type { Signer } from '@helm/crypto';
import { ApiError, getContext, getJson, postJson } from './api.js';
import { clear, h, iso, pretty, relative, visible } from './dom.js';
import { checkBinding, KeyFileError, signApproval, signDenial, signerFromKeyFile } from './sign.js';

interface Summary {
  challenge_id: string;
  state: string;
  tool: string;
  principal: string;
  approvals: number;
  quorum: number;
  needed: number;
  expires_at_ms: number;
}

interface Answer {
  seq: number;
  action: string;
  keyid: string;
  approver: string | null;
  status: string;
  code: string | null;
  reason: string | null;
  signed_at_ms: number;
}

interface View {
  challenge_id: string;
  state: string;
  challenge: ApprovalChallenge;
  request: Record<string, unknown>;
  approvals: number;
  quorum: number;
  emergency_quorum: number | null;
  needed: number;
  not_before_ms: number;
  expires_at_ms: number;
  answers: Answer[];
  consumed_by: string | null;
  receipt_id: string | null;
}

/** The approver key of this tab: in memory only, forgotten on reload or on "Forget". */
let signer: Signer | null = null;
let timer: number | undefined;

export function renderApprovals(root: HTMLElement): () => void {
  const keyBox = h('div', { class: 'panel', id: 'approver-key' });
  const list = h('div', { class: 'panel', id: 'approval-list' });
  const detail = h('div', { class: 'panel', id: 'approval-detail' });
  const status = h('div', { class: 'status', role: 'status', id: 'approval-status' });
  let selected: string | null = null;

  const say = (text: string, kind: 'ok' | 'error' | 'info' = 'info') => {
    status.className = `status ${kind}`;
    status.textContent = text;
  };

  const renderKey = () => {
    const input = h('input', {
      type: 'file',
      id: 'key-file',
      accept: '.json,application/json',
    }) as HTMLInputElement;
    input.addEventListener('change', async () => {
      const file = input.files?.[0];
      if (!file) return;
      try {
        signer = signerFromKeyFile(await file.text());
        say(`Approver key loaded: ${signer.keyId}`, 'ok');
      } catch (e) {
        signer = null;
        say(`Key refused: ${e instanceof KeyFileError ? e.message : String(e)}`, 'error');
      }
      input.value = '';
      renderKey();
      if (selected) void showDetail(selected);
    });
    clear(
      keyBox,
      h('h2', {}, 'Approver key'),
      h(
        'p',
        { class: 'hint' },
        'The key file `helmts keys` writes. It is read in this page, kept in memory only, and never uploaded: the server receives only what it signs.',
      ),
      signer
        ? h(
            'p',
            {},
            'Signing as ',
            h('code', { id: 'signer-keyid' }, signer.keyId),
            ' ',
            h(
              'button',
              {
                type: 'button',
                onclick: () => {
                  signer = null;
                  renderKey();
                  if (selected) void showDetail(selected);
                },
              },
              'Forget key',
            ),
          )
        : h('p', {}, 'No key loaded. '),
      h('label', {}, signer ? 'Use another key file: ' : 'Load a key file: ', input),
    );
  };

  const refresh = async () => {
    try {
      const { approvals } = await getJson<{ approvals: Summary[] }>('/v1/approvals?state=all');
      const open = approvals.filter(
        (a) => a.state === 'pending' || a.state === 'timelocked' || a.state === 'approved',
      );
      const now = Date.now();
      clear(
        list,
        h('h2', {}, `Queue (${open.length} open)`),
        open.length === 0
          ? h('p', { class: 'hint' }, 'No open challenges.')
          : h(
              'table',
              { class: 'grid' },
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ['challenge', 'state', 'tool', 'principal', 'approvals', 'expires'].map((c) =>
                    h('th', {}, c),
                  ),
                ),
              ),
              h(
                'tbody',
                {},
                open.map((a) =>
                  h(
                    'tr',
                    {
                      class: `row ${a.challenge_id === selected ? 'selected' : ''}`,
                      'data-challenge': a.challenge_id,
                      onclick: () => void showDetail(a.challenge_id),
                    },
                    h('td', {}, h('code', {}, a.challenge_id.slice(0, 19), '…')),
                    h('td', {}, h('span', { class: `badge ${a.state}` }, a.state)),
                    h('td', {}, a.tool),
                    h('td', {}, a.principal),
                    h('td', {}, `${a.approvals} / ${a.quorum}`),
                    h('td', {}, relative(a.expires_at_ms, now)),
                  ),
                ),
              ),
            ),
      );
    } catch (e) {
      clear(list, h('h2', {}, 'Queue'), h('p', { class: 'error' }, errorText(e)));
    }
  };

  const showDetail = async (id: string) => {
    selected = id;
    let v: View;
    try {
      v = await getJson<View>(`/v1/approvals/${encodeURIComponent(id)}`);
    } catch (e) {
      clear(detail, h('p', { class: 'error' }, errorText(e)));
      return;
    }
    const c = v.challenge;
    const binding = checkBinding(c, v.request);
    // Exactly the value the binding check hashed (when it could), with format characters escaped.
    const shown = visible(pretty(binding.args ?? v.request.args ?? v.request.args_text ?? {}));
    const raw = visible(JSON.stringify(v.request));
    const now = Date.now();
    const row = (k: string, ...val: (Node | string)[]) => h('tr', {}, h('th', {}, k), h('td', {}, ...val));
    const canAct = (v.state === 'pending' || v.state === 'timelocked') && signer !== null && binding.ok;
    const act = async (what: 'grant' | 'deny') => {
      if (!signer) return;
      try {
        const ctx = await getContext();
        const log = { trustAnchor: ctx.trust_anchor, chainId: ctx.chain_id };
        const event =
          what === 'grant'
            ? signApproval(c, signer, log)
            : signDenial(
                c.challenge_id,
                signer,
                log,
                (detail.querySelector('#deny-reason') as HTMLInputElement | null)?.value || undefined,
              );
        const res = await postJson<{ action: string; challenge: View }>(
          `/v1/approvals/${encodeURIComponent(c.challenge_id)}`,
          { event },
        );
        say(
          `${what === 'grant' ? 'Approval' : 'Denial'} by ${signer.keyId} accepted: the challenge is ${res.challenge.state} (${res.challenge.approvals}/${res.challenge.quorum}).`,
          'ok',
        );
      } catch (e) {
        say(`Refused: ${errorText(e)}`, 'error');
      }
      await refresh();
      await showDetail(c.challenge_id);
    };
    const run = async () => {
      try {
        const res = await postJson<{
          status: string;
          reason_code: string;
          output?: unknown;
          receipt_hash: string;
        }>('/v1/calls', {
          challenge: c.challenge_id,
        });
        say(
          `The held call ran: ${res.status} (${res.reason_code}); receipt ${res.receipt_hash}`,
          res.status === 'SUCCEEDED' ? 'ok' : 'error',
        );
        const out = detail.querySelector('#run-output');
        if (out) out.textContent = pretty(res.output ?? null);
      } catch (e) {
        say(`Run refused: ${errorText(e)}`, 'error');
      }
      await refresh();
    };
    clear(
      detail,
      h('h2', {}, 'Challenge ', h('code', {}, c.challenge_id)),
      h(
        'p',
        {},
        h('span', { class: `badge ${v.state}`, id: 'challenge-state' }, v.state),
        ` ${v.approvals} of ${v.quorum} approvals, ${v.needed} needed`,
      ),
      binding.ok
        ? h(
            'p',
            { class: 'ok', id: 'binding-check' },
            '✓ Checked in this page: the challenge id is the digest of its fields, and the recorded arguments hash to its args_hash.',
          )
        : h(
            'p',
            { class: 'error', id: 'binding-check' },
            `✗ Binding check failed — signing disabled: ${binding.problems.join('; ')}`,
          ),
      h(
        'table',
        { class: 'kv' },
        row('tool', h('code', {}, c.tool)),
        row(
          'principal',
          c.principal,
          c.authority !== c.principal ? ` (for ${c.authority})` : '',
          c.tenant === null ? '' : ` in tenant ${c.tenant}`,
        ),
        row(
          'arguments',
          h('pre', { id: 'args-rendered' }, shown.text),
          ...(shown.hidden > 0
            ? [
                h(
                  'p',
                  { class: 'error', id: 'args-hidden' },
                  `${shown.hidden} invisible or direction-changing character(s) in the arguments, shown escaped (\\u…): read them before approving.`,
                ),
              ]
            : []),
        ),
        row('raw request', h('pre', { class: 'raw', id: 'args-raw' }, raw.text)),
        row(
          'effect',
          `${c.action} on `,
          h('code', {}, c.resource),
          h('br'),
          h('small', {}, `effect ${c.effect_digest}`),
        ),
        row(
          'hashes',
          h('small', {}, `args ${c.args_hash}`),
          h('br'),
          h('small', {}, `intent ${c.intent_hash}`),
        ),
        row(
          'requirement',
          `rule ${c.rule_id}: quorum ${c.quorum} of role `,
          h('code', {}, c.role),
          c.emergency_quorum === null ? '' : `, emergency quorum ${c.emergency_quorum}`,
        ),
        row(
          'timelock',
          v.not_before_ms > now
            ? `active ${relative(v.not_before_ms, now)} (${iso(v.not_before_ms)})`
            : 'none / elapsed',
          h('span', { class: 'countdown', 'data-until': String(v.not_before_ms) }),
        ),
        row('TTL', `expires ${relative(v.expires_at_ms, now)} (${iso(v.expires_at_ms)})`),
      ),
      h('h3', {}, 'Answers'),
      v.answers.length === 0
        ? h('p', { class: 'hint' }, 'No answers yet.')
        : h(
            'ul',
            { id: 'answers' },
            v.answers.map((a) =>
              h(
                'li',
                {},
                `#${a.seq} ${a.action === 'approval.grant' ? 'approved' : 'denied'} by `,
                h('code', {}, a.approver ?? a.keyid),
                ` — ${a.status}${a.code ? ` ${a.code}` : ''}${a.reason ? `: ${a.reason}` : ''}`,
              ),
            ),
          ),
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          { type: 'button', id: 'approve', disabled: !canAct, onclick: () => void act('grant') },
          'Approve (sign in browser)',
        ),
        h('input', { id: 'deny-reason', placeholder: 'reason (optional)' }),
        h(
          'button',
          { type: 'button', id: 'deny', class: 'danger', disabled: !canAct, onclick: () => void act('deny') },
          'Deny',
        ),
        v.state === 'approved'
          ? h('button', { type: 'button', id: 'run', onclick: () => void run() }, 'Run the approved call')
          : null,
      ),
      signer === null && (v.state === 'pending' || v.state === 'timelocked')
        ? h('p', { class: 'hint' }, 'Load an approver key to answer.')
        : null,
      h('pre', { id: 'run-output' }),
    );
    for (const tr of list.querySelectorAll('tr.row'))
      tr.classList.toggle('selected', tr.getAttribute('data-challenge') === id);
  };

  renderKey();
  clear(
    root,
    h('h1', {}, 'Approvals'),
    status,
    h('div', { class: 'cols' }, h('div', {}, keyBox, list), detail),
  );
  void refresh();
  timer = window.setInterval(() => void refresh(), 5000);
  return () => window.clearInterval(timer);
}

function errorText(e: unknown): string {
  // 403: the credential in the header (API key or OIDC token) lacks the scope; say so first.
  if (e instanceof ApiError && e.status === 403)
    return `Not allowed for this credential — ${e.code} (403): ${e.message}`;
  if (e instanceof ApiError) return `${e.code} (${e.status}): ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
