// Tool results feed the threat scan (docs/spec/mcp-gateway.md §Session taint). Each upstream result
// a client receives is scanned, when it arrives, with the guardian's own pure threat scan at trust
// `untrusted`. A finding is recorded on the gateway session for its whole lifetime and every later
// tools/call of that session carries it to gate 4 as untrusted input, so the guardian — not a second
// rule set here — decides what a tainted session may still do.
import { digestText } from '@helm/crypto';
import {
  DEFAULT_THREAT_CONFIG,
  normalizeForScan,
  scanText,
  THREAT_CATEGORIES,
  type ThreatCode,
  type UntrustedInput,
} from '@helm/guardian';

/** Characters of one excerpt carried to gate 4 (a window of the scanned text). */
export const TAINT_EXCERPT_CHARS = 4096;
/** Overlap of consecutive windows: longer than any one rule's match on raw text of normal spacing. */
const OVERLAP_CHARS = 1024;

/** One recorded finding: the threat code, where the text came from, and what it was. */
export interface TaintFinding {
  readonly code: ThreatCode;
  /** `tool:<client-facing tool name>`. */
  readonly source: string;
  /** digestText of the whole scanned text of the result (`sha256:<hex>`). */
  readonly digest: string;
  /**
   * The excerpt gate 4 is given: a window of the scanned text on which the guardian's scan reports
   * this code by itself, so the decision is re-derived by the guardian on every later call.
   */
  readonly excerpt: string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Characters of a finding's `source` kept (and charged): a client-chosen URI must not grow a session. */
export const TAINT_SOURCE_CHARS = 256;

/**
 * Every string a relayed JSON value carries — string values and member names, depth first — one
 * per line. The scan reads these decoded strings, never the value's serialized JSON: JSON escapes a
 * newline as the two characters `\` `n`, so words split by newlines would evade the scan's
 * whitespace collapse in the serialized text (I-MCP-9/12). One walker for every relayed value (tool
 * results, pass-through answers, upstream errors). The value is bounded by max_result_bytes before
 * it is walked; the walk is iterative, so a deeply nested answer cannot exhaust the stack.
 */
export function valueText(value: unknown): string {
  const parts: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') parts.push(v);
    else if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
    else if (isObject(v)) {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, member] = entries[i] as [string, unknown];
        stack.push(member, key);
      }
    }
  }
  return parts.join('\n');
}

/**
 * The text of a tool result the client will read: the text of each text item as it is, every
 * string inside any other item and inside the structured content (valueText), one per line. The
 * result is already bounded by `max_result_bytes` (checked before it is scanned).
 */
export function resultText(result: { content?: unknown; structuredContent?: unknown }): string {
  const parts: string[] = [];
  if (Array.isArray(result.content))
    for (const item of result.content)
      parts.push(
        isObject(item) && item.type === 'text' && typeof item.text === 'string' ? item.text : valueText(item),
      );
  if (result.structuredContent !== undefined) parts.push(valueText(result.structuredContent));
  return parts.join('\n');
}

/** The first window of `text` on which the scan alone reports `code` (undefined: none does). */
function windowFor(text: string, code: ThreatCode): string | undefined {
  const step = TAINT_EXCERPT_CHARS - OVERLAP_CHARS;
  for (let at = 0; at < text.length; at += step) {
    const window = text.slice(at, at + TAINT_EXCERPT_CHARS);
    if (scanText(window, [code]).includes(code)) return window;
    if (at + TAINT_EXCERPT_CHARS >= text.length) break;
  }
  return undefined;
}

/**
 * Scan one result's text as untrusted input. Returns one finding per threat code that fires (none:
 * an empty list). The excerpt of each is a window of the raw text that fires on its own; when a
 * match spans more than a window of raw text (long runs of whitespace collapse in normalisation),
 * a window of the normalised text — the scan's normalisation is idempotent for its rules — and at
 * last the raw text itself cut to the largest input gate 4 accepts.
 */
export function scanResult(
  tool: string,
  text: string,
  kind: 'tool' | 'resource' | 'prompt' | 'completion' | 'list' | 'error' = 'tool',
): TaintFinding[] {
  const codes = scanText(text, DEFAULT_THREAT_CONFIG.untrusted);
  if (codes.length === 0) return [];
  const digest = digestText(text);
  // What produced the text: a tool's result, or a passed-through resource or prompt (by the
  // client-facing URI or name), cut: the URI is the client's own text and is charged to the session.
  const source = `${kind}:${tool}`.slice(0, TAINT_SOURCE_CHARS);
  let normalized: string | undefined;
  return codes.map((code) => {
    let excerpt = windowFor(text, code);
    if (excerpt === undefined) {
      normalized ??= normalizeForScan(text).text;
      excerpt = windowFor(normalized, code) ?? text.slice(0, 1_048_576);
    }
    return { code, source, digest, excerpt };
  });
}

/**
 * The findings of one gateway session. Sticky: a finding is never dropped, and the first finding of
 * each threat code is kept (at most one per code, so the state is bounded however many results
 * arrive); a later result can add codes, never remove one — benign results do not dilute it, since
 * gate 4 denies on any input that fires.
 */
export class SessionTaint {
  readonly #byCode = new Map<ThreatCode, TaintFinding>();

  /** Record the findings of one result; true if a code was added. */
  record(findings: readonly TaintFinding[]): boolean {
    let added = false;
    for (const f of findings) {
      if (this.#byCode.has(f.code)) continue;
      this.#byCode.set(f.code, f);
      added = true;
    }
    return added;
  }

  /** The recorded findings, in the scan's precedence order. */
  findings(): TaintFinding[] {
    return THREAT_CATEGORIES.flatMap((c) => {
      const f = this.#byCode.get(c);
      return f ? [f] : [];
    });
  }

  /** Characters of the recorded excerpts (what keeping the session retains, beyond fixed fields). */
  retainedChars(): number {
    let chars = 0;
    for (const f of this.#byCode.values()) chars += f.excerpt.length + f.source.length + f.digest.length;
    return chars;
  }

  get tainted(): boolean {
    return this.#byCode.size > 0;
  }

  /**
   * The untrusted inputs every later call of the session carries to gate 4: one per distinct
   * excerpt, its source `tool:<name>#<digest of the scanned text>` — the request every receipt
   * signs (request_digest) therefore names which result tainted the session and why.
   */
  inputs(): UntrustedInput[] {
    const out: UntrustedInput[] = [];
    const seen = new Set<string>();
    for (const f of this.findings()) {
      const source = `${f.source}#${f.digest}`;
      const key = `${source}\n${f.excerpt}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ source, trust: 'untrusted', text: f.excerpt });
    }
    return out;
  }
}
