// A few DOM helpers. Every value from a server or a pack reaches the page as text (textContent),
// never as HTML: tool arguments and receipt fields are attacker-controlled.
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | ((e: Event) => void)> = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else if (v !== false) el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'object' ? c : String(c));
  }
  return el;
}

export function clear(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'object' ? c : String(c));
  }
}

export const pretty = (v: unknown): string => JSON.stringify(v, null, 2) ?? String(v);

/**
 * Unicode format characters (general category Cf: bidi overrides and isolates, zero-width spaces,
 * joiners, …) change how the text around them is displayed or are invisible, so a value shown to
 * an approver could read as another. `visible` writes each one as its JSON escape (`\u202e`),
 * which is also what it means inside a JSON string, and counts them.
 */
export function visible(text: string): { text: string; hidden: number } {
  let hidden = 0;
  const out = text.replace(/\p{Cf}/gu, (ch) => {
    hidden++;
    return `\\u${(ch.codePointAt(0) as number).toString(16).padStart(4, '0')}`;
  });
  return { text: out, hidden };
}

export function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : '—';
}

/** "in 4m 10s" / "4m 10s ago". */
export function relative(ms: number, now: number): string {
  const d = Math.round((ms - now) / 1000);
  const a = Math.abs(d);
  const s =
    a >= 3600
      ? `${Math.floor(a / 3600)}h ${Math.floor((a % 3600) / 60)}m`
      : a >= 60
        ? `${Math.floor(a / 60)}m ${a % 60}s`
        : `${a}s`;
  return d >= 0 ? `in ${s}` : `${s} ago`;
}
