import { isBuiltin } from 'node:module';
import { TcbCheckError } from './errors.js';

export interface ExternalAllowance {
  readonly version: string;
  readonly why: string;
}

export interface PackagePolicy {
  /** Keys of the TCB packages this package may import (`crypto` means `@helm/crypto`). */
  readonly internal: readonly string[];
  /** Allowlisted external packages with their exact version and a justification. */
  readonly external: Readonly<Record<string, ExternalAllowance>>;
  /** Allowlisted Node built-ins (without `node:`) with a justification. */
  readonly builtins: Readonly<Record<string, string>>;
  /** `file.ts#functionName` (file relative to the package's `src/`) that may read ambient state. */
  readonly injectionPoints: readonly string[];
}

export interface Policy {
  readonly coverageThreshold: number;
  readonly packages: Readonly<Record<string, PackagePolicy>>;
  /** The JSON text of the block, and the 0-based line in the markdown where it starts. */
  readonly source: { readonly text: string; readonly lineOffset: number };
}

export const POLICY_INFO_STRING = 'json tcb-policy';
const EXACT_VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;
const PACKAGE_KEY = /^[a-z][a-z0-9-]*$/;

/** Finds the single fenced ```json tcb-policy block of the markdown document. */
export function extractPolicyBlock(markdown: string): { text: string; lineOffset: number } {
  const lines = markdown.split(/\r?\n/);
  const blocks: { text: string; lineOffset: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,}|~{3,})\s*(.*?)\s*$/.exec(lines[i] ?? '');
    if (!open) continue;
    const fence = open[1] ?? '```';
    let end = i + 1;
    while (end < lines.length && !(lines[end] ?? '').trim().startsWith(fence)) end++;
    if (open[2] === POLICY_INFO_STRING) {
      if (end >= lines.length) throw new TcbCheckError('policy', 'the tcb-policy block is not closed');
      blocks.push({ text: lines.slice(i + 1, end).join('\n'), lineOffset: i + 1 });
    }
    i = end;
  }
  if (blocks.length !== 1) {
    throw new TcbCheckError(
      'policy',
      `expected exactly one \`\`\`${POLICY_INFO_STRING} block in TCB_POLICY.md, found ${blocks.length}`,
    );
  }
  return blocks[0] as { text: string; lineOffset: number };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function onlyKeys(where: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new TcbCheckError('policy', `${where}: unknown key "${key}"`);
  }
  for (const key of allowed) {
    if (!(key in value)) throw new TcbCheckError('policy', `${where}: missing key "${key}"`);
  }
}

function justification(where: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TcbCheckError('policy', `${where}: a non-empty justification is required`);
  }
  return value;
}

function parsePackage(key: string, raw: unknown): PackagePolicy {
  const where = `packages.${key}`;
  if (!PACKAGE_KEY.test(key)) throw new TcbCheckError('policy', `${where}: invalid package key`);
  if (!isRecord(raw)) throw new TcbCheckError('policy', `${where}: must be an object`);
  onlyKeys(where, raw, ['internal', 'external', 'builtins', 'injectionPoints']);
  const { internal, external, builtins, injectionPoints } = raw;
  if (!Array.isArray(internal) || !internal.every((d) => typeof d === 'string' && PACKAGE_KEY.test(d))) {
    throw new TcbCheckError('policy', `${where}.internal: must be an array of package keys`);
  }
  if (!isRecord(external)) throw new TcbCheckError('policy', `${where}.external: must be an object`);
  const ext: Record<string, ExternalAllowance> = {};
  for (const [name, entry] of Object.entries(external)) {
    const w = `${where}.external.${name}`;
    if (!isRecord(entry)) throw new TcbCheckError('policy', `${w}: must be an object`);
    onlyKeys(w, entry, ['version', 'why']);
    if (typeof entry.version !== 'string' || !EXACT_VERSION.test(entry.version)) {
      throw new TcbCheckError('policy', `${w}.version: must be an exact version like 1.2.3`);
    }
    ext[name] = { version: entry.version, why: justification(`${w}.why`, entry.why) };
  }
  if (!isRecord(builtins)) throw new TcbCheckError('policy', `${where}.builtins: must be an object`);
  const bi: Record<string, string> = {};
  for (const [name, why] of Object.entries(builtins)) {
    if (name.startsWith('node:') || !isBuiltin(name)) {
      throw new TcbCheckError('policy', `${where}.builtins: "${name}" is not a Node built-in (omit "node:")`);
    }
    bi[name] = justification(`${where}.builtins.${name}`, why);
  }
  if (
    !Array.isArray(injectionPoints) ||
    !injectionPoints.every((p) => typeof p === 'string' && /^[^#\s]+\.[cm]?[tj]s#[\w$.]+$/.test(p))
  ) {
    throw new TcbCheckError(
      'policy',
      `${where}.injectionPoints: must be an array of "file.ts#functionName" (file relative to src/)`,
    );
  }
  return {
    internal: [...internal] as string[],
    external: ext,
    builtins: bi,
    injectionPoints: [...injectionPoints],
  };
}

/** Parses and validates the policy from the TCB_POLICY.md markdown text. Throws TcbCheckError. */
export function parsePolicy(markdown: string): Policy {
  const source = extractPolicyBlock(markdown);
  let raw: unknown;
  try {
    raw = JSON.parse(source.text);
  } catch (error) {
    throw new TcbCheckError('policy', `the tcb-policy block is not valid JSON: ${(error as Error).message}`);
  }
  if (!isRecord(raw)) throw new TcbCheckError('policy', 'the tcb-policy block must be a JSON object');
  onlyKeys('tcb-policy', raw, ['coverageThreshold', 'packages']);
  const { coverageThreshold, packages } = raw;
  if (typeof coverageThreshold !== 'number' || coverageThreshold < 0 || coverageThreshold > 100) {
    throw new TcbCheckError('policy', 'coverageThreshold: must be a number between 0 and 100');
  }
  if (!isRecord(packages)) throw new TcbCheckError('policy', 'packages: must be an object');
  const parsed: Record<string, PackagePolicy> = {};
  for (const [key, entry] of Object.entries(packages)) parsed[key] = parsePackage(key, entry);
  return { coverageThreshold, packages: parsed, source };
}
