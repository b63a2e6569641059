// The console shell: the API key (this tab only), navigation between the three views by hash.
import './style.css';
import { apiKey } from './api.js';
import { renderApprovals } from './approvals.js';
import { clear, h } from './dom.js';
import { renderExplorer } from './explorer.js';
import { renderLive } from './live.js';

const VIEWS: Record<string, { title: string; render: (root: HTMLElement) => () => void }> = {
  approvals: { title: 'Approvals', render: renderApprovals },
  explorer: { title: 'Evidence explorer', render: renderExplorer },
  live: { title: 'Live', render: renderLive },
};

const app = document.getElementById('app') as HTMLElement;
const main = h('main', { id: 'view' });
let stop: () => void = () => {};

function header(): HTMLElement {
  const key = h('input', {
    id: 'api-key',
    type: 'password',
    placeholder: 'API key (helm_…) or OIDC token (JWT)',
    value: apiKey.get(),
    autocomplete: 'off',
  }) as HTMLInputElement;
  const save = () => {
    apiKey.set(key.value.trim());
    route();
  };
  key.addEventListener('change', save);
  return h(
    'header',
    {},
    h('strong', { class: 'brand' }, 'HELM console'),
    h(
      'nav',
      {},
      Object.entries(VIEWS).map(([id, v]) => h('a', { href: `#/${id}`, id: `nav-${id}` }, v.title)),
    ),
    h(
      'label',
      { class: 'key' },
      'API key or OIDC token ',
      key,
      h('button', { type: 'button', id: 'api-key-save', onclick: save }, 'Use'),
    ),
  );
}

function route(): void {
  stop();
  const id = location.hash.replace(/^#\/?/, '') || 'approvals';
  const view = VIEWS[id] ?? VIEWS.approvals;
  for (const a of document.querySelectorAll('nav a'))
    a.classList.toggle('active', a.getAttribute('href') === `#/${id}`);
  document.title = `HELM — ${view?.title ?? ''}`;
  stop = view ? view.render(main) : () => {};
}

clear(app, header(), main);
window.addEventListener('hashchange', route);
route();
