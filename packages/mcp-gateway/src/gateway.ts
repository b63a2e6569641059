// The gateway core, independent of the face a client reaches it by (docs/mcp-gateway.md). Every tools/call
// is one governed call of @helm/runtime: the guardian, the schema PEP on the PINNED input schema, the
// pin check of the upstream's current descriptor (TOOL_DESCRIPTOR_CHANGED), the upstream call as
// the tool's driver, the output check against the pinned output schema, and a signed receipt —
// exactly as `helmts run`. A denied or held call never reaches the upstream.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { ToolDescriptor } from '@helm/contracts';
import { canonicalBytes, digest } from '@helm/crypto';
import type { Driver } from '@helm/executor';
import {
  challengeViewById,
  type DataDir,
  type GovernedResult,
  GovernedRuntime,
  governanceSnapshot,
  type HostDrivers,
  RuntimeError,
} from '@helm/runtime';
import type { GatewayConfig, ToolClassification } from './config.js';
import {
  helmDescriptor,
  helmToolName,
  MCP_DRIVER_KIND,
  type McpTool,
  mcpToolPin,
  parseMcpRef,
  UNCLASSIFIED,
} from './descriptor.js';
import { PassThroughRouter } from './passthrough.js';
import { seal, sealSession, unseal, unsealSession } from './seal.js';
import { type SessionLimits, SessionTable } from './sessions.js';
import { resultText, SessionTaint, scanResult, type TaintFinding, valueText } from './taint.js';
import { CONNECT_TIMEOUT_MS, Upstream } from './upstream.js';

/** `_meta` key of the sealed handle a held call's result carries and its retry brings back. */
export const REQUEST_STATE_META = 'helm.dev/request-state';

/**
 * `_meta` key of the sealed session handle of a stateless face (HTTP): every tools/call result
 * carries it, and a request that brings it back belongs to that session (its taint included).
 */
export const SESSION_META = 'helm.dev/session';
/** How long a sealed session lasts (ms): its handle, and the findings kept for it, end then. */
export const SESSION_TTL_MS = 24 * 3_600_000;

/** Codes the gateway itself answers with (no governed call was made). */
export type GatewayRefusal =
  | 'REQUEST_STATE_INVALID'
  | 'CHALLENGE_PENDING'
  | 'CHALLENGE_CLOSED'
  /** A tool out of service (e.g. TOOL_DRIVER_UNAVAILABLE), refused as the runtime refuses it. */
  | 'TOOL_OUT_OF_SERVICE'
  /**
   * A sealed session handle the gateway no longer keeps state for and cannot tell from one whose
   * findings it evicted (docs/spec/mcp-gateway.md §Session table): the client starts a new session.
   */
  | 'SESSION_EVICTED';

/** An MCP CallToolResult as the gateway returns it. */
export interface GatewayCallResult {
  readonly content: readonly Record<string, unknown>[];
  readonly structuredContent?: Record<string, unknown>;
  readonly isError?: boolean;
  readonly _meta?: Record<string, unknown>;
}

export interface GatewayOptions {
  readonly clock?: { now(): number };
  /** The guardian context's credential (identity binding) of the principal, if any. */
  readonly credential?: string;
  /** The sealing key (32 bytes); default: random per gateway process. */
  readonly sealKey?: Uint8Array;
  /** Upstreams already connected (tests); default: connected from the config. */
  readonly upstreams?: ReadonlyMap<string, Upstream>;
  /** Bounds of the tainted sealed sessions kept (defaults: DEFAULT_MAX_TAINTED_*). */
  readonly sessionLimits?: SessionLimits;
}

/**
 * Who a session's calls are made for. The stdio face: the configured principal. The HTTP face on
 * `helmts serve`: the authenticated identity — never anything the client sends in MCP.
 */
export interface GatewayCaller {
  readonly principal: string;
  /** The guardian context's credential (identity binding), if any. */
  readonly credential?: string;
  readonly tenant?: string | null;
}

/**
 * One gateway session: a caller and the threat findings of the tool results its client received
 * (sticky for the session's lifetime, docs/spec/mcp-gateway.md §Session taint). A face makes one per
 * connection; the gateway's own listTools/callTool use one default session.
 */
export class GatewaySession {
  readonly caller: GatewayCaller;
  readonly taint = new SessionTaint();
  /** The sealed session's id and end (stateless faces only). */
  readonly sealed: { readonly id: string; readonly expiresAtMs: number } | undefined;
  /** Set when the session's handle is refused: every call is refused with it, nothing runs. */
  readonly refused: 'SESSION_EVICTED' | undefined;
  readonly #gateway: McpGateway;

  constructor(
    gateway: McpGateway,
    caller: GatewayCaller,
    sealed?: { readonly id: string; readonly expiresAtMs: number },
    refused?: 'SESSION_EVICTED',
  ) {
    this.#gateway = gateway;
    this.caller = caller;
    this.sealed = sealed;
    this.refused = refused;
  }

  /** Characters the session retains (its findings' excerpts): what the session table charges. */
  retainedChars(): number {
    return this.taint.retainedChars();
  }

  listTools(): Promise<Record<string, unknown>[]> {
    return this.#gateway.listTools(this);
  }

  callTool(
    name: string,
    args: unknown,
    meta: unknown,
    signal?: AbortSignal,
    onProgress?: (p: GatewayProgress) => void,
  ): Promise<GatewayCallResult> {
    return this.#gateway.callTool(name, args, meta, signal, onProgress, this);
  }

  /** The recorded findings (never fewer over the session's lifetime). */
  findings(): readonly TaintFinding[] {
    return this.taint.findings();
  }
}

/** One progress notification of a governed call, as relayed to the client that asked for it. */
export interface GatewayProgress {
  readonly progress: number;
  readonly total?: number;
  readonly message?: string;
}

/** Progress relayed per call at most this often (ms); a faster upstream's extra updates are dropped. */
export const PROGRESS_MIN_INTERVAL_MS = 100;
/** A relayed progress message is cut to this many characters (it is upstream text: untrusted). */
export const PROGRESS_MAX_MESSAGE = 256;

interface CallScope {
  readonly signal: AbortSignal | undefined;
  /** The client's progress sink for this call, if it asked for progress (a progress token). */
  readonly progress?: (p: GatewayProgress) => void;
  /**
   * Set while a descriptor change is receipted: the descriptor observed changed, which the pin
   * check then sees (so it denies TOOL_DESCRIPTOR_CHANGED whatever the upstream advertises by
   * then), and the driver refuses to invoke (a change is receipted, never executed: I-MCP-4).
   */
  readonly probe?: ToolDescriptor;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** One listed tool: the client-facing name and the advertised (pinned) descriptor. */
interface Listed {
  readonly name: string;
  readonly helmName: string;
  readonly upstream: string;
  readonly tool: McpTool;
}

export class McpGateway {
  readonly runtime: GovernedRuntime;
  readonly config: GatewayConfig;
  /** Resources, prompts and completion passed through where gateway.json allows them. */
  readonly passThrough: PassThroughRouter;
  readonly #data: DataDir;
  readonly #upstreams: ReadonlyMap<string, Upstream>;
  readonly #clock: { now(): number };
  readonly #sealKey: Uint8Array;
  readonly #credential: string | undefined;
  readonly #ownsRuntime: boolean;
  readonly #scope = new AsyncLocalStorage<CallScope>();
  /**
   * tools/list passes (which may receipt a descriptor change) run one at a time among themselves.
   * Governed calls do not wait for them, nor for each other: the runtime takes any number of
   * calls in flight (I-CONC-1).
   */
  #listQueue: Promise<unknown> = Promise.resolve();
  /**
   * Calls in flight per (tool, args digest): the same call runs one at a time, so its held-call
   * check sees the challenge an identical call in flight opened (one challenge, not two).
   */
  readonly #sameCall = new Map<string, Promise<unknown>>();
  /** Every call in flight: close() waits for them (each ends with its receipt). */
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Per helm tool, the observed pin whose change was receipted last (bounded by the tools). */
  readonly #receiptedChanges = new Map<string, string>();
  readonly #listeners = new Set<() => void>();
  /** The session of direct listTools/callTool calls (the faces make their own). */
  readonly #defaultSession: GatewaySession;
  /**
   * Sealed sessions with findings, by id, until they expire. An untainted session holds no state:
   * its handle alone recreates it. So the table grows only with sessions a result tainted; it is
   * bounded (sessions and retained characters, least recently used evicted), and a handle it can
   * no longer vouch for is refused SESSION_EVICTED rather than opened clean (I-MCP-11).
   */
  readonly #sessions: SessionTable<GatewaySession>;
  /**
   * `principal\ntool` of every challenge the store held when first asked, or the runtime's
   * guardian opened or restored since: only calls of these read the challenge table for a held
   * call (I-MCP-3). A call of a tool that never escalated reads nothing there (the table grows
   * with every challenge ever opened; reading it per call cost more than the governed call).
   */
  readonly #challenged = new Set<string>();
  #challengeTableRead = false;
  /**
   * On a shared database: the governance log head at which every node's challenge rows were last
   * read. A challenge of another node can only be approved by a grant appended to that one log, so
   * the rows are read again (all chains) only when its head has moved.
   */
  #challengeHead: string | undefined;
  /** The guardian's ceremony log last read, and how far (a renewed epoch brings a new log). */
  #ceremony: { log: readonly unknown[] | undefined; seen: number } = { log: undefined, seen: 0 };

  private constructor(
    data: DataDir,
    config: GatewayConfig,
    upstreams: ReadonlyMap<string, Upstream>,
    runtime: GovernedRuntime,
    options: GatewayOptions,
    ownsRuntime: boolean,
  ) {
    this.#ownsRuntime = ownsRuntime;
    this.#data = data;
    this.config = config;
    this.#upstreams = upstreams;
    this.passThrough = new PassThroughRouter(config, upstreams);
    this.runtime = runtime;
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.#sealKey = options.sealKey ?? new Uint8Array(randomBytes(32));
    this.#credential = options.credential;
    this.#sessions = new SessionTable(options.sessionLimits);
    this.#defaultSession = this.session();
  }

  /** A new session for `caller` (default: the configured principal and credential), untainted. */
  session(caller?: GatewayCaller): GatewaySession {
    return new GatewaySession(
      this,
      caller ?? {
        principal: this.config.principal,
        ...(this.#credential ? { credential: this.#credential } : {}),
      },
    );
  }

  /**
   * Connect every upstream (one that cannot be reached leaves its tools unavailable: their calls
   * are receipted TOOL_DESCRIPTOR_CHANGED) and open the governed runtime of `data` with the `mcp`
   * driver. The runtime's lock is held until `close`.
   */
  static async open(data: DataDir, config: GatewayConfig, options: GatewayOptions = {}): Promise<McpGateway> {
    const clock = options.clock ?? { now: () => Date.now() };
    return McpGateway.#open(
      data,
      config,
      options,
      (drivers) => GovernedRuntime.open(data, { clock, drivers }),
      true,
    );
  }

  /**
   * Attach the gateway to a runtime its host opens and owns (`helmts serve`: one runtime per data
   * directory serves the API and `/mcp`). `openRuntime` opens that runtime with the gateway's
   * `mcp` driver among its host drivers; `close` then leaves the runtime open for its host.
   */
  static async attach(
    data: DataDir,
    config: GatewayConfig,
    openRuntime: (drivers: HostDrivers) => Promise<GovernedRuntime>,
    options: GatewayOptions = {},
  ): Promise<McpGateway> {
    return McpGateway.#open(data, config, options, openRuntime, false);
  }

  static async #open(
    data: DataDir,
    config: GatewayConfig,
    options: GatewayOptions,
    openRuntime: (drivers: HostDrivers) => Promise<GovernedRuntime>,
    ownsRuntime: boolean,
  ): Promise<McpGateway> {
    const upstreams = new Map(options.upstreams ?? []);
    if (!options.upstreams)
      for (const [name, u] of Object.entries(config.upstreams)) {
        try {
          upstreams.set(name, await Upstream.connect(name, u, CONNECT_TIMEOUT_MS));
        } catch (error) {
          process.stderr.write(`helm mcp: ${(error as Error).message}\n`);
        }
      }
    // Tools registered already get their drivers while the runtime opens, before the gateway
    // exists: each driver finds the gateway when it is first used.
    const holder: { gateway?: McpGateway } = {};
    const runtime = await openRuntime({
      [MCP_DRIVER_KIND]: (d) => McpGateway.#driver(d, () => holder.gateway as McpGateway),
    }).catch(async (error) => {
      for (const u of upstreams.values()) await u.close();
      throw error;
    });
    const gateway = new McpGateway(data, config, upstreams, runtime, options, ownsRuntime);
    holder.gateway = gateway;
    for (const u of upstreams.values()) u.onToolsChanged = () => void gateway.#onUpstreamChanged();
    return gateway;
  }

  /**
   * The session a request of a stateless face belongs to: the one its sealed handle names (bound
   * to the caller's principal, unexpired), else a new one; and the handle to hand back. A handle
   * that does not verify starts a new session — no worse for the client than sending none.
   */
  sealedSession(caller: GatewayCaller, token: unknown): { session: GatewaySession; handle: string } {
    const now = this.#clock.now();
    const opened =
      token === undefined ? 'malformed' : unsealSession(this.#sealKey, token, now, caller.principal);
    if (typeof opened !== 'string') {
      // The handle binds the principal and the id is random: a kept session is the caller's.
      const kept = this.#sessions.get(opened.session_id);
      const sealed = { id: opened.session_id, expiresAtMs: opened.expires_at_ms };
      if (kept && kept.caller.principal === caller.principal) {
        if (sameCaller(kept.caller, caller)) return { session: kept, handle: token as string };
        // The handle binds the principal only: a kept session is served for THIS request's caller
        // (tenant, credential), never the caller of the request that tainted it (I-MCP-10). Its
        // findings come along (#record writes new ones to the kept session by id).
        const view = new GatewaySession(this, caller, sealed);
        view.taint.record(kept.findings());
        return { session: view, handle: token as string };
      }
      // Not kept: untainted, or evicted (tainted) — indistinguishable once evicted, so refused.
      const refused = this.#sessions.refuses(caller.principal, opened.expires_at_ms)
        ? 'SESSION_EVICTED'
        : undefined;
      return { session: new GatewaySession(this, caller, sealed, refused), handle: token as string };
    }
    const sealed = { id: randomBytes(16).toString('base64url'), expiresAtMs: now + SESSION_TTL_MS };
    const handle = sealSession(this.#sealKey, {
      principal: caller.principal,
      session_id: sealed.id,
      expires_at_ms: sealed.expiresAtMs,
    });
    return { session: new GatewaySession(this, caller, sealed), handle };
  }

  /** Called when the tool list a client sees may have changed (the face sends list_changed). */
  onListChanged(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The gateway name of an upstream tool: `<upstream>__<tool>`, or the bare name without prefix. */
  gatewayName(upstream: string, tool: string): string {
    return this.config.prefix ? `${upstream}__${tool}` : tool;
  }

  classification(upstream: string, tool: string): ToolClassification {
    // Own properties only: a tool named `constructor` must not pick an inherited value.
    const name = this.gatewayName(upstream, tool);
    return Object.hasOwn(this.config.tools, name)
      ? (this.config.tools[name] as ToolClassification)
      : UNCLASSIFIED;
  }

  /** The `mcp` driver of one pinned descriptor: describe = what the upstream advertises now. */
  static #driver(pinned: ToolDescriptor, gateway: () => McpGateway): Driver {
    const ref = parseMcpRef(pinned.driver.ref);
    // A ref that is not one (an edited tools/ file) takes the tool out of service, not the runtime.
    if (!ref)
      throw new RuntimeError(
        'TOOL_DRIVER_UNAVAILABLE',
        `tool ${pinned.name}: driver.ref ${pinned.driver.ref} is not an mcp:// reference`,
        'approve the tool again with `helmts mcp tools approve`',
      );
    return {
      kind: MCP_DRIVER_KIND,
      describe: () => {
        const probe = gateway().#scope.getStore()?.probe;
        if (probe) return probe;
        const current = gateway().#advertised(ref.upstream, ref.tool);
        if (!current) throw new Error('the upstream does not advertise this tool now');
        return gateway().#describe(ref.upstream, current);
      },
      invoke: async (args, context) => {
        const g = gateway();
        // A change being receipted never reaches the upstream, whatever the checks before decided.
        if (g.#scope.getStore()?.probe) throw new Error('a descriptor change is receipted, never executed');
        // describe() ran first (the pin check): the upstream is connected and advertises the tool.
        const upstream = g.#upstreams.get(ref.upstream) as Upstream;
        const client = g.#scope.getStore()?.signal;
        const signal = client ? AbortSignal.any([context.signal, client]) : context.signal;
        const relay = g.#scope.getStore()?.progress;
        const result = await upstream.call(
          ref.tool,
          args,
          signal,
          g.config.call_timeout_ms,
          relay ? progressGate(relay) : undefined,
        );
        return g.#checkedResult(result);
      },
    };
  }

  /** The HELM descriptor an upstream tool as advertised now would be approved as. */
  #describe(upstream: string, tool: McpTool): ToolDescriptor {
    return helmDescriptor(
      upstream,
      tool,
      this.classification(upstream, tool.name),
      this.config.call_timeout_ms,
    );
  }

  #advertised(upstream: string, tool: string): McpTool | undefined {
    return this.#upstreams.get(upstream)?.tools().get(tool);
  }

  /** The driver output: only `{content, structuredContent?, isError?}`, bounded in size. */
  #checkedResult(result: unknown): Record<string, unknown> {
    // Bytes are UTF-8 bytes of the JSON text (a code-unit count undercounts non-ASCII up to 3x).
    const bytes = Buffer.byteLength(JSON.stringify(result) ?? '', 'utf8');
    if (bytes > this.config.max_result_bytes)
      throw new Error(`the upstream result has ${bytes} bytes (limit ${this.config.max_result_bytes})`);
    if (!isObject(result) || !Array.isArray(result.content))
      throw new Error('the upstream result is malformed');
    return {
      content: result.content,
      ...(result.structuredContent === undefined ? {} : { structuredContent: result.structuredContent }),
      ...(result.isError === undefined ? {} : { isError: result.isError }),
    };
  }

  /** Registered gateway tools: HELM name -> pinned descriptor. */
  #pinned(): Map<string, ToolDescriptor> {
    const out = new Map<string, ToolDescriptor>();
    for (const d of this.#data.toolDescriptors()) {
      if ((d.driver as { kind?: unknown }).kind !== MCP_DRIVER_KIND) continue;
      const live = this.runtime.executor.getTool(String(d.name))?.descriptor;
      out.set(String(d.name), (live ?? d) as unknown as ToolDescriptor);
    }
    return out;
  }

  /**
   * tools/list: every approved tool whose upstream advertises exactly the approved descriptor now
   * and that the principal's policy does not deny outright (I-MCP-7).
   * A tool whose descriptor changed is hidden and its change receipted (TOOL_DESCRIPTOR_CHANGED)
   * until `helmts mcp tools approve` re-approves it; unapproved tools are never listed.
   */
  async listTools(session: GatewaySession = this.#defaultSession): Promise<Record<string, unknown>[]> {
    return this.#listing(async () => {
      await this.runtime.ingestGovernance();
      return (await this.#listed(session.caller)).map((l) => ({
        ...(l.tool as Record<string, unknown>),
        name: l.name,
      }));
    });
  }

  async #listed(caller?: GatewayCaller): Promise<Listed[]> {
    const listed: Listed[] = [];
    for (const [helmName, pinned] of this.#pinned()) {
      const ref = parseMcpRef(pinned.driver.ref);
      if (!ref) continue;
      const current = this.#advertised(ref.upstream, ref.tool);
      if (!current) continue;
      const now = this.#describe(ref.upstream, current);
      if (digest(canonicalBytes(now)) !== digest(canonicalBytes(pinned))) {
        await this.#receiptChange(helmName, mcpToolPin(ref.upstream, current), now);
        continue;
      }
      this.#receiptedChanges.delete(helmName);
      // A change the pin check observed stays until the re-pin (I-MCP-4), even if the upstream
      // advertises the approved descriptor again: every call is denied, so it is not listed.
      if (this.runtime.executor.getTool(helmName)?.drifted_digest) continue;
      // A tool the principal's policy denies outright is not offered (I-MCP-7); a call to it is
      // still governed like any other (denied and receipted).
      if (caller === undefined || !this.#couldCall(caller, helmName, pinned)) continue;
      listed.push({
        name: this.gatewayName(ref.upstream, ref.tool),
        helmName,
        upstream: ref.upstream,
        tool: current,
      });
    }
    // Names are unique (one per upstream tool): no tie to break.
    return listed.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /**
   * Whether the guardian's current policy stack could ever allow the gateway's principal this
   * tool: asked of the guardian itself (PolicyStack.couldAllow over the attributes the pinned
   * descriptor fixes), never of a second rule set here. No stack, or any fault: not listed.
   */
  #couldCall(caller: GatewayCaller, helmName: string, pinned: ToolDescriptor): boolean {
    try {
      const stack = this.runtime.guardian.policyStack;
      return (
        stack?.couldAllow({
          principal: caller.principal,
          tenant: caller.tenant ?? null,
          tool: helmName,
          action: pinned.action,
          effect_type: pinned.effect_type,
          risk_tier: pinned.risk_tier,
        }) ?? false
      );
    } catch {
      return false;
    }
  }

  /**
   * One receipted TOOL_DESCRIPTOR_CHANGED per observed change. The receipt comes from the pin
   * check (step 2, before any decision: no budget, no challenge) fed the descriptor observed
   * changed — not a re-read the upstream could answer with the approved one — and the driver
   * refuses to invoke in this scope, so the upstream is never called (I-MCP-4).
   */
  async #receiptChange(helmName: string, observed: string, seen: ToolDescriptor): Promise<void> {
    if (this.#receiptedChanges.get(helmName) === observed) return;
    this.#receiptedChanges.set(helmName, observed);
    await this.#scope.run({ signal: undefined, probe: seen }, () =>
      this.runtime.execute(this.#request(this.#defaultSession, helmName, {}) as never),
    );
  }

  async #onUpstreamChanged(): Promise<void> {
    try {
      await this.#listing(async () => {
        await this.runtime.ingestGovernance();
        await this.#listed();
      });
    } finally {
      for (const l of this.#listeners) l();
    }
  }

  #request(session: GatewaySession, helmName: string, args: unknown): Record<string, unknown> {
    const { principal, credential, tenant } = session.caller;
    const inputs = session.taint.inputs();
    return {
      tool: helmName,
      principal,
      ...(tenant ? { tenant } : {}),
      args,
      context: {
        environment_fingerprint: this.runtime.config.environment_fingerprint,
        ...(credential ? { credential_id: credential } : {}),
        // The session's sticky findings, to gate 4 (docs/spec/mcp-gateway.md §Session taint).
        ...(inputs.length > 0 ? { inputs } : {}),
      },
    };
  }

  #listing<T>(fn: () => Promise<T>): Promise<T> {
    return this.#tracked(this.#chain(fn, this.#listQueue, (next) => (this.#listQueue = next)));
  }

  /** `fn` after `after` settles; `store` gets the settled tail. */
  #chain<T>(
    fn: () => Promise<T>,
    after: Promise<unknown>,
    store: (tail: Promise<unknown>) => void,
  ): Promise<T> {
    const run = after.then(fn, fn);
    store(run.catch(() => undefined));
    return run;
  }

  #tracked<T>(run: Promise<T>): Promise<T> {
    this.#inFlight.add(run);
    const done = () => this.#inFlight.delete(run);
    run.then(done, done);
    return run;
  }

  /** Run `fn` concurrently with every other call, but after the same call (`key`) in flight. */
  #call<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#sameCall.get(key) ?? Promise.resolve();
    const run = this.#chain(fn, before, (tail) => this.#sameCall.set(key, tail));
    const tail = this.#sameCall.get(key);
    // The map holds keys of calls in flight only (bounded by them, I-SCALE-1).
    void tail?.then(() => {
      if (this.#sameCall.get(key) === tail) this.#sameCall.delete(key);
    });
    return this.#tracked(run);
  }

  /** The upstream and tool a client-facing name stands for (undefined: no such upstream). */
  #resolve(name: string): { upstream: string; tool: string } | undefined {
    if (!this.config.prefix) {
      const only = Object.keys(this.config.upstreams)[0] as string;
      return { upstream: only, tool: name };
    }
    const at = name.indexOf('__');
    if (at <= 0) return undefined;
    const upstream = name.slice(0, at);
    return Object.hasOwn(this.config.upstreams, upstream)
      ? { upstream, tool: name.slice(at + 2) }
      : undefined;
  }

  /**
   * tools/call for the gateway's principal. `meta` is the request's `_meta` (only the sealed
   * handle is read from it); `signal` is the client's cancellation.
   */
  async callTool(
    name: string,
    args: unknown,
    meta: unknown,
    signal?: AbortSignal,
    onProgress?: (p: GatewayProgress) => void,
    session: GatewaySession = this.#defaultSession,
  ): Promise<GatewayCallResult> {
    const target = this.#resolve(name);
    const helmName = target ? this.#helmName(target.upstream, target.tool) : undefined;
    // An unknown name is still one governed call: the executor denies it TOOL_UNKNOWN, receipted.
    const tool = helmName ?? `mcp.unknown.${digest(new TextEncoder().encode(name)).slice(7, 23)}`;
    const callArgs = args ?? {};
    const handle = isObject(meta) ? meta[REQUEST_STATE_META] : undefined;
    if (session.refused)
      return refusal(
        session.refused,
        'this session handle is no longer kept by the gateway (its state was evicted, or it began before a session that was); call again without it to start a new session; nothing was run',
      );
    return this.#call(`${session.caller.principal}\n${tool}\n${argsDigest(callArgs)}`, async () => {
      // Progress reaches the client only while its call is in flight: the sink closes when the
      // governed call ends, whatever the upstream sends after.
      let open = onProgress !== undefined;
      const progress = onProgress
        ? (p: GatewayProgress) => {
            if (open) onProgress(p);
          }
        : undefined;
      try {
        const result = await this.#governedCall(session, handle, target, tool, callArgs, signal, progress);
        return this.#scanned(session, name, result);
      } finally {
        open = false;
      }
    });
  }

  /** One tools/call: a held call resumed by its handle, or a new governed call. */
  async #governedCall(
    session: GatewaySession,
    handle: unknown,
    target: { upstream: string; tool: string } | undefined,
    tool: string,
    callArgs: unknown,
    signal: AbortSignal | undefined,
    progress: ((p: GatewayProgress) => void) | undefined,
  ): Promise<GatewayCallResult> {
    if (handle !== undefined) return this.#resume(session, handle, target, tool, callArgs, signal, progress);
    // A held call runs only through its sealed handle (I-MCP-3): the same call without one must
    // not use the grant of its approved challenge (the guardian matches grants by binding).
    const held = await this.#heldFor(session.caller.principal, tool, callArgs);
    if (held)
      return refusal(
        'CHALLENGE_PENDING',
        `this call is held for approval (challenge ${held.id} is ${held.state}); it runs only with the sealed handle of its held result; nothing was run`,
        { approval_challenge_id: held.id },
      );
    let r: GovernedResult;
    try {
      r = await this.#scope.run({ signal, ...(progress ? { progress } : {}) }, () =>
        this.runtime.execute(this.#request(session, tool, callArgs) as never),
      );
    } catch (error) {
      // A tool out of service (its pin or driver failed at open) is refused as the runtime refuses it.
      if (error instanceof RuntimeError) return refusal(error.code, error.message);
      throw error;
    }
    return this.#answer(session, r, target, tool, callArgs);
  }

  /**
   * An open challenge (pending, timelocked or approved) held for exactly this call of the
   * gateway's principal, if any. Only challenges whose stored request matches are verified.
   */
  async #heldFor(
    principal: string,
    tool: string,
    args: unknown,
  ): Promise<{ id: string; state: string } | undefined> {
    if (!(await this.#mayBeHeld(principal, tool))) return undefined;
    const want = argsDigest(args);
    const now = this.#clock.now();
    const shared = this.#data.shared;
    // On a shared database a call held on another node is held here too (the cluster is one
    // service), so every node's rows are read; the views come from one snapshot of its state.
    const rows = shared
      ? await shared.governanceChallenges()
      : this.#data.store.governanceChallengesSync(this.runtime.config.chain_id);
    let view: DataDir | undefined;
    for (const stored of rows) {
      if (stored.closed !== null) continue;
      const request = stored.request as Record<string, unknown> | null;
      if (!isObject(request) || request.tool !== tool || request.principal !== principal) continue;
      if (argsDigest(request.args) !== want) continue;
      view ??= await governanceSnapshot(this.#data);
      const v = challengeViewById(view, stored.id, now);
      if (v.state === 'pending' || v.state === 'timelocked' || v.state === 'approved')
        return { id: stored.id, state: v.state };
    }
    return undefined;
  }

  /**
   * Whether a challenge of `principal` for `tool` may exist: every challenge row is written by this
   * runtime's guardian (the runtime lock), which logs each one it opens or restores, and the rows
   * written before the gateway opened are read once. A superset: a `true` goes to the exact check.
   * On a shared database other nodes write rows too: every node's are read again whenever the
   * governance log's head has moved (one indexed read per call), since approving one appends there.
   */
  async #mayBeHeld(principal: string, tool: string): Promise<boolean> {
    const pair = (p: unknown, t: unknown) => `${String(p)}\n${String(t)}`;
    const approvals = this.runtime.guardian.approvals;
    if (approvals) {
      const log = approvals.log();
      if (log !== this.#ceremony.log) this.#ceremony = { log, seen: 0 };
      // Read before the store: a challenge opened since is in the log even if its row is not
      // committed yet.
      for (; this.#ceremony.seen < log.length; this.#ceremony.seen++) {
        const c = approvals.getChallenge((log[this.#ceremony.seen] as { challenge_id: string }).challenge_id);
        if (!c) continue;
        this.#challenged.add(pair(c.principal, c.tool));
        this.#challenged.add(pair(c.authority, c.tool));
      }
    }
    const shared = this.#data.shared;
    if (shared) {
      // The head first, then the rows: a grant at or before this head names a row read here.
      const h = await shared.governanceHead();
      const head = h ? `${h.seq}:${h.chain}` : '';
      if (head !== this.#challengeHead) {
        for (const stored of await shared.governanceChallenges()) {
          const request = stored.request as Record<string, unknown> | null;
          if (isObject(request)) this.#challenged.add(pair(request.principal, request.tool));
        }
        this.#challengeHead = head;
      }
    } else if (!this.#challengeTableRead) {
      for (const stored of this.#data.store.governanceChallengesSync(this.runtime.config.chain_id)) {
        const request = stored.request as Record<string, unknown> | null;
        if (isObject(request)) this.#challenged.add(pair(request.principal, request.tool));
      }
      this.#challengeTableRead = true;
    }
    return this.#challenged.has(pair(principal, tool));
  }

  /** The registered HELM tool of an upstream tool (its name is derived, so no directory scan per call). */
  #helmName(upstream: string, tool: string): string | undefined {
    const helmName = helmToolName(upstream, tool);
    const ref = parseMcpRef(this.runtime.executor.getTool(helmName)?.descriptor.driver.ref ?? '');
    return ref && ref.upstream === upstream && ref.tool === tool ? helmName : undefined;
  }

  /** The retry of a held call: the handle must verify for exactly this call; its grant decides. */
  async #resume(
    session: GatewaySession,
    handle: unknown,
    target: { upstream: string; tool: string } | undefined,
    tool: string,
    args: unknown,
    signal: AbortSignal | undefined,
    progress?: (p: GatewayProgress) => void,
  ): Promise<GatewayCallResult> {
    const principal = session.caller.principal;
    const state = unseal(this.#sealKey, handle, this.#clock.now(), {
      principal,
      upstream: target?.upstream ?? '',
      tool,
      args_digest: argsDigest(args),
    });
    if (typeof state === 'string')
      return refusal(
        'REQUEST_STATE_INVALID',
        `the request state does not verify for this call (${state}); nothing was run`,
      );
    let view: ReturnType<typeof challengeViewById>;
    try {
      view = challengeViewById(await governanceSnapshot(this.#data), state.challenge_id, this.#clock.now());
    } catch {
      return refusal('CHALLENGE_CLOSED', `approval challenge ${state.challenge_id} is unknown`);
    }
    if (view.state === 'pending' || view.state === 'timelocked')
      return refusal('CHALLENGE_PENDING', `approval challenge ${state.challenge_id} is ${view.state}`, {
        approval_challenge_id: state.challenge_id,
        [REQUEST_STATE_META]: handle,
      });
    if (view.state !== 'approved')
      return refusal(
        'CHALLENGE_CLOSED',
        `approval challenge ${state.challenge_id} is ${view.state}; call again`,
      );
    // The request that escalated, run again: the guardian re-runs policy and consumes the grant.
    const held = view.request as Record<string, unknown>;
    if (held.tool !== tool || held.principal !== principal || argsDigest(held.args) !== state.args_digest)
      return refusal('REQUEST_STATE_INVALID', 'the approved request is not this call; nothing was run');
    // A session tainted since the call was held carries its findings to gate 4 on the retry too.
    const inputs = session.taint.inputs();
    const request =
      inputs.length === 0
        ? held
        : { ...held, context: { ...(isObject(held.context) ? held.context : {}), inputs } };
    const r = await this.#scope.run({ signal, ...(progress ? { progress } : {}) }, () =>
      this.runtime.execute(request as never),
    );
    return this.#answer(session, r, target, tool, args);
  }

  #answer(
    session: GatewaySession,
    r: GovernedResult,
    target: { upstream: string; tool: string } | undefined,
    tool: string,
    args: unknown,
  ): GatewayCallResult {
    const receipt = { receipt_hash: r.receipt_hash };
    if (r.status === 'SUCCEEDED' && isObject(r.output)) {
      const out = r.output as Record<string, unknown>;
      return {
        content: out.content as Record<string, unknown>[],
        ...(out.structuredContent === undefined
          ? {}
          : { structuredContent: out.structuredContent as Record<string, unknown> }),
        ...(out.isError === true ? { isError: true } : {}),
        // Tool output is untrusted input for whatever the client does next.
        _meta: { 'helm.dev/receipt': { status: r.status, ...receipt }, 'helm.dev/untrusted': true },
      };
    }
    const helm: Record<string, unknown> = {
      status: r.status,
      reason_code: r.reason_code,
      ...receipt,
      ...(r.errors ? { errors: r.errors } : {}),
    };
    if (r.status === 'ESCALATED' && r.approval_challenge_id) {
      const handle = seal(this.#sealKey, {
        principal: session.caller.principal,
        upstream: target?.upstream ?? '',
        tool,
        args_digest: argsDigest(args),
        challenge_id: r.approval_challenge_id,
        expires_at_ms: this.#clock.now() + this.config.escalation_ttl_ms,
      });
      helm.approval_challenge_id = r.approval_challenge_id;
      helm[REQUEST_STATE_META] = handle;
      return {
        content: [
          {
            type: 'text',
            text: `HELM is holding this call for approval (challenge ${r.approval_challenge_id}). After \`helmts approve ${r.approval_challenge_id} --key <approver key>\`, call the tool again with the same arguments and _meta["${REQUEST_STATE_META}"] set to the handle in structuredContent.`,
          },
        ],
        structuredContent: { helm },
        isError: true,
      };
    }
    return {
      content: [
        {
          type: 'text',
          text: `HELM denied this call: ${r.reason_code}${r.message ? ` (${r.message})` : ''}`,
        },
      ],
      structuredContent: { helm },
      isError: true,
    };
  }

  /**
   * A result the upstream produced, scanned on its way to the client (untrusted input): its findings
   * are recorded on the session before the client sees it, and named in its `_meta`.
   */
  #scanned(session: GatewaySession, name: string, result: GatewayCallResult): GatewayCallResult {
    const receipt = result._meta?.['helm.dev/receipt'] as { status?: unknown } | undefined;
    if (receipt?.status !== 'SUCCEEDED') return result;
    const findings = scanResult(name, resultText(result));
    if (findings.length === 0) return result;
    this.#record(session, findings);
    return {
      ...result,
      _meta: { ...result._meta, 'helm.dev/threat': findings.map((f) => f.code) },
    };
  }

  /**
   * A passed-through answer (a list, a read resource, a got prompt, a completion, or an error;
   * docs/mcp-gateway.md §Methods) is untrusted input like a tool result: every string it relays —
   * items, description, `_meta`, any extra member — is scanned (valueText, the same walker as tool
   * results), its findings recorded on the session (so later tool calls meet gate 4) and named in
   * its `_meta`.
   */
  scanPassThrough(
    session: GatewaySession,
    kind: 'resource' | 'prompt' | 'completion' | 'list' | 'error',
    name: string,
    result: Record<string, unknown>,
  ): Record<string, unknown> {
    const findings = scanResult(name, valueText(result), kind);
    if (findings.length === 0) return result;
    this.#record(session, findings);
    const meta = typeof result._meta === 'object' && result._meta !== null ? result._meta : {};
    return { ...result, _meta: { ...meta, 'helm.dev/threat': findings.map((f) => f.code) } };
  }

  #record(session: GatewaySession, findings: readonly TaintFinding[]): void {
    session.taint.record(findings);
    if (session.sealed) {
      // Two requests of one sealed session may run at once on two session objects: the findings
      // go to the one kept for the id, so neither request's findings replaces the other's. A
      // session evicted while this call ran is kept again, with every finding it had.
      const kept = this.#sessions.get(session.sealed.id) ?? session;
      kept.taint.record(findings);
      this.#sessions.keep(kept, this.#clock.now());
    }
  }

  async close(): Promise<void> {
    // Every call in flight ends (with its receipt) before the upstreams and the runtime close.
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    for (const u of this.#upstreams.values()) await u.close();
    if (this.#ownsRuntime) await this.runtime.close();
  }
}

/**
 * The upstream's progress for one call, as relayed: well-formed numbers only, strictly increasing
 * (as the protocol requires of progress), at most one per PROGRESS_MIN_INTERVAL_MS (extra updates
 * are dropped, never queued), the message cut to PROGRESS_MAX_MESSAGE characters.
 */
function progressGate(relay: (p: GatewayProgress) => void): (p: unknown) => void {
  let last = Number.NEGATIVE_INFINITY;
  let at = Number.NEGATIVE_INFINITY;
  return (raw) => {
    if (!isObject(raw)) return;
    const { progress, total, message } = raw;
    if (typeof progress !== 'number' || !Number.isFinite(progress) || progress <= last) return;
    const now = performance.now();
    if (now - at < PROGRESS_MIN_INTERVAL_MS) return;
    last = progress;
    at = now;
    relay({
      progress,
      ...(typeof total === 'number' && Number.isFinite(total) ? { total } : {}),
      ...(typeof message === 'string' ? { message: message.slice(0, PROGRESS_MAX_MESSAGE) } : {}),
    });
  };
}

const argsDigest = (args: unknown): string => digest(canonicalBytes(args ?? {}));

function refusal(code: string, message: string, extra: Record<string, unknown> = {}): GatewayCallResult {
  return {
    content: [{ type: 'text', text: `HELM refused this call: ${code}: ${message}` }],
    structuredContent: { helm: { status: 'REFUSED', reason_code: code, ...extra } },
    isError: true,
  };
}

/** Whether two callers are one identity: principal, tenant and bound credential alike. */
function sameCaller(a: GatewayCaller, b: GatewayCaller): boolean {
  return (
    a.principal === b.principal && (a.tenant ?? null) === (b.tenant ?? null) && a.credential === b.credential
  );
}
