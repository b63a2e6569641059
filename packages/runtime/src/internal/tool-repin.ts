// `tool.repin`: the one way to change a registered tool (docs/cli.md §Tools, invariant I-TOOL-1).
// `helmts tool repin` checks the new descriptor and its body without the runtime (tools.ts
// prepareRepin) and appends a governance event signed by a `policy` key; the runtime applies it at
// its next open or decision and writes the administrative receipt `helm.admin.tool.repin`
// (docs/spec/governance-event.md §7), so an EvidencePack shows who changed which tool when.
//
// Body: {tool, descriptor, descriptor_digest, previous_digest, previous_descriptor}.
//   - check (before the event is appended): the digests are the descriptors'; the tool is
//     registered and pinned to `previous_digest` right now (a repin prepared against an older pin is
//     refused); the new body's artifacts are in place (the module file, the plugin's signed
//     registration and digest).
//   - apply, first time: the runtime's pin must still be `previous_digest` (else rejected
//     TOOL_REPIN_STALE: another repin came first) — or already `descriptor_digest` (idempotent); the
//     executor re-pins the tool (runtime.repinTool) and, with the application, `tools/<name>.json`
//     is rewritten. That file is the materialized result of every applied repin: a later open loads
//     it, so re-applying the event then changes nothing.
//   - re-execution starts each repinned tool from the first event's `previous_descriptor`, so calls
//     before a repin replay under the descriptor they were made with.
import { existsSync, readFileSync } from 'node:fs';
import type { ToolDescriptor } from '@helm/contracts';
import { canonicalBytes, digest } from '@helm/crypto';
import type { Json } from '@helm/store';
import type { TrustRegistry } from '@helm/trust';
import { RuntimeError } from '../errors.js';
import type { DataDir } from './datadir.js';
import type { GovernanceEventRecord, GovernanceHandler, PendingGovernanceEvent } from './governance.js';
import { parseJson } from './json.js';
import { checkedPlugin, PLUGIN_DRIVER_KIND } from './plugin.js';

export interface ToolRepinBody {
  readonly tool: string;
  readonly descriptor: Record<string, Json>;
  readonly descriptor_digest: string;
  readonly previous_digest: string;
  readonly previous_descriptor: Record<string, Json>;
}

const digestOf = (value: unknown): string => digest(canonicalBytes(value));
const isObject = (v: unknown): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const invalid = (message: string, hint?: string): RuntimeError =>
  new RuntimeError('GOVERNANCE_EVENT_INVALID', `tool.repin: ${message}`, hint);

/** The body, checked for shape and self-consistency (the digests are the descriptors'). */
export function repinBody(body: unknown): ToolRepinBody {
  const b = (isObject(body) ? body : {}) as Partial<ToolRepinBody>;
  if (
    typeof b.tool !== 'string' ||
    !isObject(b.descriptor) ||
    !isObject(b.previous_descriptor) ||
    typeof b.descriptor_digest !== 'string' ||
    typeof b.previous_digest !== 'string'
  )
    throw invalid('the body needs tool, descriptor, descriptor_digest, previous_digest, previous_descriptor');
  if (b.descriptor.name !== b.tool || b.previous_descriptor.name !== b.tool)
    throw invalid(`both descriptors must be named ${b.tool}`);
  if (digestOf(b.descriptor) !== b.descriptor_digest || digestOf(b.previous_descriptor) !== b.previous_digest)
    throw invalid('descriptor_digest and previous_digest must be the digests of the descriptors');
  if (b.descriptor_digest === b.previous_digest) throw invalid('the descriptor is unchanged');
  return b as ToolRepinBody;
}

/** The digest of `tools/<name>.json` as it is (undefined: not registered). */
function pinnedOnDisk(data: DataDir, tool: string): string | undefined {
  const path = data.toolPath(tool);
  return existsSync(path) ? digestOf(parseJson(new Uint8Array(readFileSync(path)), path)) : undefined;
}

/** What the new descriptor's body needs on disk, checked without loading it. */
function checkBody(data: DataDir, descriptor: ToolDescriptor, registry: TrustRegistry): void {
  const kind = descriptor.driver?.kind;
  if (kind === PLUGIN_DRIVER_KIND) checkedPlugin(data, descriptor, registry);
  else if (
    kind === 'sandbox' &&
    data.module(String(descriptor.driver.ref).slice('sha256:'.length)) === undefined
  )
    throw new RuntimeError(
      'FILE_NOT_FOUND',
      `tool ${descriptor.name}: WASM module ${descriptor.driver.ref} is missing`,
      'prepare the repin again with the module: `helmts tool repin <descriptor> --wasm <file>`',
    );
}

/**
 * On a shared database a repin cannot work yet: each node's tools are its own files, which the
 * first applier's writes would rewrite on that node only (and a networked store takes no
 * synchronous writes) — the other nodes would find their files behind the record at their next
 * open. Refused at append, and recorded rejected if one gets past the check (never a node halted).
 */
const sharedRepin = (): RuntimeError =>
  new RuntimeError(
    'DATABASE_RUNTIME_UNSUPPORTED',
    "tool.repin on a shared database is not supported yet: tools are each node's own files; nothing was appended",
    "repin the tool in the deployment's template data directory and copy tools/ to every node (docs/deployment.md)",
  );

function check(event: PendingGovernanceEvent, data: DataDir, registry: TrustRegistry): void {
  if (data.shared !== undefined) throw sharedRepin();
  const body = repinBody(event.body);
  const pinned = pinnedOnDisk(data, body.tool);
  if (pinned === undefined)
    throw new RuntimeError('TOOL_NOT_REGISTERED', `no tool ${body.tool} is registered; nothing to repin`);
  if (pinned !== body.previous_digest)
    throw invalid(
      `tool ${body.tool} is pinned to ${pinned} now, not to ${body.previous_digest} this repin replaces`,
      'prepare the repin again against the current descriptor: `helmts tool repin <descriptor> …`',
    );
  checkBody(data, body.descriptor as unknown as ToolDescriptor, registry);
}

function apply(
  event: GovernanceEventRecord,
  runtime: Parameters<GovernanceHandler['apply']>[1],
  context: { first: boolean },
) {
  if (context.first && runtime.data.shared !== undefined) {
    const refused = sharedRepin();
    return { applied: false as const, code: refused.code, detail: refused.message };
  }
  const body = repinBody(event.body);
  const output = {
    tool: body.tool,
    descriptor_digest: body.descriptor_digest,
    previous_digest: body.previous_digest,
  };
  // tools/ holds the result of every applied repin (written with the first application): a later
  // open has loaded it — and must have loaded exactly it. The runtime checks, once every applied
  // event is re-applied, that each repinned tool's descriptor is the LAST applied repin's (a file
  // written back by a data-directory writer puts the tool out of service, TOOL_PIN_MISMATCH).
  if (!context.first) {
    // On a shared database no node applies a repin first (refused above), so a repin recorded
    // applied there is not one this node can follow: its tools are its own files, and noting the
    // digest would keep the old descriptor running silently. Refused: the node decides nothing
    // (unless it already runs the new descriptor).
    if (
      runtime.data.shared !== undefined &&
      runtime.executor.getTool(body.tool)?.descriptor_digest !== body.descriptor_digest
    ) {
      const refused = sharedRepin();
      return { applied: false as const, code: refused.code, detail: refused.message };
    }
    runtime.noteAppliedRepin(body.tool, body.descriptor_digest);
    return { applied: true as const, output };
  }
  // A tool out of service is pinned to what the signed record says it should be (the last applied
  // repin), else to its file (its old body failed its pins at open).
  const current = runtime.outOfService().has(body.tool)
    ? (runtime.appliedRepin(body.tool) ?? pinnedOnDisk(runtime.data, body.tool))
    : runtime.executor.getTool(body.tool)?.descriptor_digest;
  const descriptor = body.descriptor as unknown as ToolDescriptor;
  if (current !== body.descriptor_digest) {
    if (current !== body.previous_digest)
      return {
        applied: false as const,
        code: 'TOOL_REPIN_STALE',
        detail: `tool ${body.tool} is pinned to ${String(current)}, not to ${body.previous_digest} this repin replaces`,
      };
    runtime.repinTool(descriptor, body.descriptor_digest);
  }
  return {
    applied: true as const,
    output,
    writes: () => {
      if (pinnedOnDisk(runtime.data, body.tool) !== body.descriptor_digest)
        runtime.data.writeTool(body.descriptor);
    },
  };
}

export const TOOL_REPIN_HANDLERS: Readonly<Record<'tool.repin', GovernanceHandler>> = {
  'tool.repin': { check, apply },
};

/**
 * Re-execution (runtime.ts reexecute): put each repinned tool of `scratch` back to the descriptor it
 * had before its first repin, so the recorded calls and repins replay in order.
 */
export function rewindRepins(scratch: DataDir, events: readonly GovernanceEventRecord[]): void {
  const seen = new Set<string>();
  for (const event of events) {
    if (event.action !== 'tool.repin') continue;
    let body: ToolRepinBody;
    try {
      body = repinBody(event.body);
    } catch {
      continue;
    }
    if (seen.has(body.tool)) continue;
    seen.add(body.tool);
    scratch.writeTool(body.previous_descriptor);
  }
}
