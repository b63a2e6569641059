// What `helmts run` reports about one governed call, in words that match what happened:
//
//   DENIED / ESCALATED  the tool did not run (nothing was charged);
//   FAILED              the tool was invoked — the effect may have happened — and did not succeed
//                       (a receipt records it and the call is charged: docs/spec/pipeline.md I5);
//   SUCCEEDED           the tool ran (or, IDEMPOTENT_REPLAY, an earlier identical call's output).
//
// Every result names the stage that decided it, the policy rule (when one did) and a message;
// hints appear only where the operator can do something about the outcome.

import { isReasonCode } from '@helm/contracts';
import { envelopeBody } from '@helm/evidencepack';
import type { DataDir, GovernedResult } from '@helm/runtime';
import { type CommandResult, failed, ok } from '../errors.js';
import { CLI_NAME } from '../help.js';
import { reasonCodeInfo } from '../reason-code-meanings.js';

/** Executor steps (docs/spec/pipeline.md §Algorithm) that end a call, by reason code. */
const EXECUTOR_STAGES: Readonly<Record<string, string>> = {
  TOOL_UNKNOWN: 'surface',
  TOOL_DESCRIPTOR_CHANGED: 'pin',
  ARGS_MALFORMED: 'pep.args',
  SCHEMA_VIOLATION: 'pep.input_schema',
  INTENT_INVALID: 'intent',
  IDEMPOTENCY_CONFLICT: 'idempotency',
  IDEMPOTENCY_RECORD_INVALID: 'idempotency',
  IDEMPOTENT_REPLAY: 'idempotency',
  RECEIPT_POLICY_MISSING: 'receipt_policy',
  RECEIPT_POLICY_VIOLATION: 'receipt_policy',
  APPROVAL_INVALID: 'approval_grant',
  ERR_CONNECTOR_CONTRACT_DRIFT: 'output_schema',
  RECEIPT_PERSIST_FAILED: 'receipt',
  EXECUTION_INTERRUPTED: 'recovery',
  // A node's refusals on a shared database, before its decision (docs/spec/multi-node.md §3).
  TRUST_REGISTRY_STALE: 'shared_database',
  CLOCK_SKEW: 'shared_database',
  INTERNAL_ERROR: 'internal',
};

/**
 * The stage that decided the call: `guardian.<gate>` for a guardian DENY or ESCALATE (the signed
 * decision's `decided_by`), else the executor step, `driver` for a driver's failure, `released`
 * for a success.
 */
export function stageOf(r: GovernedResult): string {
  if (r.decision) {
    const d = envelopeBody<{ verdict?: string; decided_by?: string }>(r.decision);
    if (d.verdict !== 'ALLOW' && typeof d.decided_by === 'string') return `guardian.${d.decided_by}`;
  }
  if (r.reason_code === 'ALLOW') return 'released';
  if (Object.hasOwn(EXECUTOR_STAGES, r.reason_code)) return EXECUTOR_STAGES[r.reason_code] as string;
  return r.status === 'FAILED' ? 'driver' : 'executor';
}

/** Hints for outcomes the operator can change (everything else: the reason code's meaning). */
function hintFor(r: GovernedResult, tool: string, stage: string): string | undefined {
  switch (r.reason_code) {
    case 'ARGS_MALFORMED':
      // Only the executor's parse of --args; the guardian's context stage uses the same code for
      // a request it cannot read (e.g. no credential), where this hint would mislead.
      return stage === 'pep.args'
        ? `--args must be strict JSON (RFC 8259: no duplicate keys, no lone surrogates); quote it, e.g. --args '{"path":"/data/a.txt"}'`
        : undefined;
    case 'SCHEMA_VIOLATION':
      return `the arguments do not match ${tool}'s input_schema (violations above)`;
    case 'TOOL_UNKNOWN':
      return `no tool ${tool} is registered: \`${CLI_NAME} tool list\`, or \`${CLI_NAME} tool register <descriptor.json>\``;
    case 'NO_POLICY':
      return `no policy rule allows this call: add an allow rule to your P1 bundle and \`${CLI_NAME} policy sign <bundle.json>\` (\`${CLI_NAME} policy show\` shows the rules)`;
    case 'POLICY_DENY':
      return `a deny rule matched${r.rule ? ` (${r.rule})` : ''}: \`${CLI_NAME} policy show\``;
    case 'GATE_IDENTITY_ISOLATION':
      return 'pass the credential bound to this principal (--credential), or bind one in the data directory (config.json `identity`)';
    case 'GATE_EGRESS_DENIED':
      return "allow the tool's destination host and protocol in the data directory's egress allowlist (config.json `egress`)";
    case 'BUDGET_EXCEEDED':
      return "the principal's budget for this window is spent (P0 `budgets`)";
    case 'TRUST_REGISTRY_STALE':
      return 'a newer trust registry was published to the database: run again (each run opens under the published registry) — docs/deployment.md';
    case 'CLOCK_SKEW':
      return "synchronize this machine's clock with the database host (NTP) — docs/deployment.md";
    default:
      return undefined;
  }
}

function summaryLine(r: GovernedResult, stage: string, message: string): string {
  const rule = r.rule ? `, rule ${r.rule}` : '';
  const head = `${r.status} ${r.reason_code} (${stage}${rule})`;
  return r.status === 'SUCCEEDED'
    ? `${head}${r.replayed ? ' — idempotent replay of an earlier call' : ''}`
    : `${head}: ${message}`;
}

function whatHappened(r: GovernedResult): string {
  switch (r.status) {
    case 'SUCCEEDED':
      return r.replayed
        ? 'The tool did not run again: this is the stored output of an earlier identical call, re-authorized.'
        : 'The tool ran.';
    case 'FAILED':
      return 'The tool was invoked and did not succeed: its effect may have happened. The receipt records the failure and the call is charged.';
    case 'ESCALATED':
      return 'The tool did not run: the call is held until approvers reach the quorum the policy asks for.';
    default:
      return 'The tool did not run.';
  }
}

/** The CommandResult of one governed call (exit 0 only for SUCCEEDED). */
export function runResult(r: GovernedResult, tool: string, data: DataDir): CommandResult {
  const stage = stageOf(r);
  const meaning = isReasonCode(r.reason_code) ? reasonCodeInfo(r.reason_code).meaning : r.reason_code;
  // The executor's message for a guardian verdict only says who decided; the code's meaning says why.
  const message = stage.startsWith('guardian.') ? meaning : (r.message ?? meaning);
  const hint = hintFor(r, tool, stage);
  const json = {
    status: r.status,
    verdict: r.verdict,
    reason_code: r.reason_code,
    stage,
    rule: r.rule,
    message,
    driver_invoked: r.status === 'FAILED' || (r.status === 'SUCCEEDED' && !r.replayed),
    output: r.output ?? null,
    receipt_hash: r.receipt_hash,
    replayed: r.replayed,
    ...(r.approval_challenge_id ? { approval_challenge_id: r.approval_challenge_id } : {}),
    ...(r.errors ? { errors: r.errors } : {}),
    ...(hint ? { hint } : {}),
  };
  const human = [
    summaryLine(r, stage, message),
    whatHappened(r),
    ...(r.output !== undefined ? [`output: ${JSON.stringify(r.output)}`] : []),
    ...(r.errors ? r.errors.map((e) => `  ${e.instance_path || '/'} ${e.keyword}`) : []),
    ...(r.approval_challenge_id ? [`approval challenge: ${r.approval_challenge_id}`] : []),
    r.receipt_hash
      ? `receipt ${r.receipt_hash} committed to ${data.shared === undefined ? data.path('helm.db') : 'the shared database'}`
      : 'no receipt could be written (see the message)',
    ...(hint ? [`hint: ${hint}`] : []),
    ...(r.status === 'SUCCEEDED' ? [`Next: ${CLI_NAME} export -o pack.tar`] : []),
  ];
  return r.status === 'SUCCEEDED' ? ok(json, human) : failed(json, human);
}
