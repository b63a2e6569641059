// Gate 4 — threat scan (docs/spec/policy.md §Threat scan). Deterministic, documented rules over
// normalised text: NFKC → strip invisible format characters (recorded as obfuscation) → fold
// homoglyphs (a word mixing Latin with look-alike letters is recorded as obfuscation) → lowercase
// → collapse whitespace. Each input is scanned for the categories its trust level requires. When
// several categories fire, the reported code follows THREAT_PRECEDENCE.
import { GuardianError } from './errors.js';
import { CONFUSABLES, isConfusable } from './internal/confusables.js';

export const TRUST_LEVELS = ['trusted', 'internal', 'untrusted'] as const;
export type TrustLevel = (typeof TRUST_LEVELS)[number];

export const THREAT_CATEGORIES = [
  'THREAT_COMMAND_EXECUTION',
  'THREAT_CREDENTIAL_ACCESS',
  'THREAT_EXFILTRATION',
  'THREAT_PUBLISH',
  'THREAT_PROMPT_INJECTION',
  'THREAT_UNICODE_OBFUSCATION',
] as const;
export type ThreatCode = (typeof THREAT_CATEGORIES)[number];

/** Fixed reporting precedence (first wins) — identical to THREAT_CATEGORIES order. */
export const THREAT_PRECEDENCE: readonly ThreatCode[] = THREAT_CATEGORIES;

export interface UntrustedInput {
  /** Where the text came from, e.g. `web:https://…`, `email`, `tool:search`. */
  readonly source: string;
  readonly trust: TrustLevel;
  readonly text: string;
}

/** Which categories are scanned per trust level. */
export type ThreatScanConfig = Readonly<Record<TrustLevel, readonly ThreatCode[]>>;

/** The default: untrusted text gets every rule, internal text the high-severity ones, trusted none. */
export const DEFAULT_THREAT_CONFIG: ThreatScanConfig = {
  trusted: [],
  internal: ['THREAT_COMMAND_EXECUTION', 'THREAT_CREDENTIAL_ACCESS', 'THREAT_UNICODE_OBFUSCATION'],
  untrusted: THREAT_CATEGORIES,
};

// Patterns run on normalised (folded, lowercase, single-spaced) text. They use only literals,
// alternations and bounded repetitions — no nested quantifiers, so no catastrophic backtracking.
export const THREAT_RULES: Readonly<
  Record<Exclude<ThreatCode, 'THREAT_UNICODE_OBFUSCATION'>, readonly RegExp[]>
> = {
  THREAT_PROMPT_INJECTION: [
    /\b(ignore|disregard|forget|override) (all |any |the |your |every )?(previous|prior|above|earlier|system|preceding) (instructions|prompts?|rules|messages|directions|guidelines)/,
    /\bforget (everything|all|your instructions)\b/,
    /\byou are now (a|an|in|the|dan)\b/,
    /\b(reveal|print|show|repeat|output) (me )?(your |the )?(system|hidden|initial) (prompt|instructions)/,
    /\bnew (system )?instructions ?:/,
    /\b(developer|god|jailbreak|dan) mode\b/,
    /\bdo anything now\b/,
    /<\|?(im_start|system|endoftext)\|?>/,
  ],
  THREAT_COMMAND_EXECUTION: [
    /\brm -(rf|fr|r)\b/,
    /\b(curl|wget)\b[^|\n]{0,200}\| ?(ba|z|da)?sh\b/,
    /\b(bash|sh|zsh|cmd|powershell|pwsh)(\.exe)? (-c|\/c|-command|-enc)\b/,
    /\b(os\.system|subprocess\.|child_process|runtime\.getruntime\(\)\.exec|shell_exec|popen)\b/,
    /\b(eval|exec)\(/,
    /\$\([a-z]/,
    /\/bin\/(ba)?sh\b/,
    /\bchmod \+x\b/,
    /\bmkfifo\b|\bnc -e\b/,
  ],
  THREAT_CREDENTIAL_ACCESS: [
    /~?\/\.ssh\/|\bid_(rsa|ed25519|ecdsa)\b/,
    /\.aws\/credentials|\baws_secret_access_key\b|\.netrc\b|\.npmrc\b|\.git-credentials\b|\.docker\/config\.json/,
    /\/etc\/(shadow|passwd|sudoers)\b/,
    /\b(print|show|reveal|send|dump|cat|read|list|give me|leak|exfiltrate)\b.{0,40}\b(passwords?|secrets?|api[ _-]?keys?|tokens?|credentials|private keys?)\b/,
    /\bprintenv\b|\benv \|/,
    /-----begin ([a-z]+ )?private key-----/,
  ],
  THREAT_PUBLISH: [
    /\b(npm|yarn|pnpm) publish\b/,
    /\bgit push\b/,
    /\b(docker|podman) push\b/,
    /\btwine upload\b|\bcargo publish\b|\bgem push\b|\bgh release create\b/,
    /\b(publish|release|deploy) (it |this |the package |the release )?to (production|npm|pypi|the registry)\b/,
  ],
  THREAT_EXFILTRATION: [
    /\b(send|upload|post|forward|email|exfiltrate|transmit|copy|leak)\b.{0,60}\b(to|at|via) https?:\/\//,
    /\b(webhook\.site|pastebin\.com|requestbin|ngrok\.io|ngrok-free\.app|transfer\.sh|interact\.sh|burpcollaborator)\b/,
    /!\[[^\]]{0,100}\]\(https?:\/\/[^)]{0,300}[?&][a-z_]{1,30}=/,
    /\bexfiltrat/,
  ],
};

// Invisible / format characters that hide text: zero-width, joiners, word joiner, BOM, soft
// hyphen, bidi embeddings/overrides/isolates and marks, Mongolian vowel separator, tag characters.
const INVISIBLE =
  /[\u00AD\u061C\u115F\u1160\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\u3164\uFEFF\uFFA0\u{E0000}-\u{E007F}]|\u034F|[\uFE00-\uFE0F]/gu;
const LATIN = /[a-z]/i;
const WORD = /[^\s]+/g;

export interface NormalizedText {
  readonly text: string;
  readonly obfuscated: boolean;
}

/** The documented normalisation pipeline. */
export function normalizeForScan(input: string): NormalizedText {
  let obfuscated = false;
  let text = input.normalize('NFKC');
  const stripped = text.replace(INVISIBLE, '');
  if (stripped.length !== text.length) obfuscated = true;
  text = stripped;
  // Mixed-script words: a word containing Latin letters and look-alike letters.
  for (const word of text.match(WORD) ?? []) {
    if (!LATIN.test(word)) continue;
    for (const ch of word) {
      if (isConfusable(ch)) {
        obfuscated = true;
        break;
      }
    }
    if (obfuscated) break;
  }
  let folded = '';
  for (const ch of text) folded += CONFUSABLES[ch] ?? ch;
  folded = folded.toLowerCase().replace(/\s+/g, ' ');
  return { text: folded, obfuscated };
}

/** Every category that fires for one text, in precedence order. */
export function scanText(text: string, categories: readonly ThreatCode[]): ThreatCode[] {
  const normalized = normalizeForScan(text);
  const hits: ThreatCode[] = [];
  for (const code of THREAT_PRECEDENCE) {
    if (!categories.includes(code)) continue;
    if (code === 'THREAT_UNICODE_OBFUSCATION') {
      if (normalized.obfuscated) hits.push(code);
    } else if (THREAT_RULES[code].some((re) => re.test(normalized.text))) {
      hits.push(code);
    }
  }
  return hits;
}

/** Validate a scan configuration (every trust level present, known categories only). */
export function checkThreatConfig(config: ThreatScanConfig): ThreatScanConfig {
  for (const level of TRUST_LEVELS) {
    const list = config?.[level];
    if (!Array.isArray(list) || list.some((c) => !THREAT_CATEGORIES.includes(c))) {
      throw new GuardianError('CONFIG_INVALID', `threat scan config for ${level} is missing or unknown`);
    }
  }
  // Scanning nothing for untrusted text would switch the gate off by configuration.
  if (config.untrusted.length === 0) {
    throw new GuardianError('CONFIG_INVALID', 'untrusted input must be scanned for at least one category');
  }
  return config;
}

/** Scan all inputs; the highest-precedence hit across inputs, or null. */
export function scanInputs(inputs: readonly UntrustedInput[], config: ThreatScanConfig): ThreatCode | null {
  let best = THREAT_PRECEDENCE.length;
  for (const input of inputs) {
    const categories = config[input.trust];
    if (categories.length === 0) continue;
    const hits = scanText(input.text, categories);
    if (hits.length > 0) best = Math.min(best, THREAT_PRECEDENCE.indexOf(hits[0]!));
  }
  return best < THREAT_PRECEDENCE.length ? THREAT_PRECEDENCE[best]! : null;
}
