// Errors of the governed runtime and its data directory. Every failure a caller can act on is a
// RuntimeError with a code from this closed union and, where the caller can do something about it,
// a hint; shells (the CLI, the server, the MCP gateway) map codes to exit codes or HTTP statuses and
// never match on messages.
export type RuntimeErrorCode =
  /** An option value outside its documented range (e.g. `--root-keys 0`). */
  | 'USAGE'
  | 'DATA_DIR_MISSING'
  | 'DATA_DIR_EXISTS'
  | 'DATA_DIR_LOCKED'
  | 'FILE_NOT_FOUND'
  /** A file or directory the command needs could not be read or written (permissions, disk full, …). */
  | 'IO_ERROR'
  | 'INVALID_INPUT'
  | 'KEY_UNKNOWN'
  /** A key file whose seed is missing or malformed, or whose keyid/public_key are not its seed's (I-ROOT-2). */
  | 'KEY_FILE_MISMATCH'
  /** The trust registry does not let this key do this: unknown, revoked, rotated, or without the role (I-ROOT-2). */
  | 'KEY_NOT_VALID'
  /** A root-signed key operation aimed at a key holding `root`: root keys change only in a root ceremony (I-ROOT-2). */
  | 'KEY_IS_ROOT'
  /** A name from input (tool, key, module, chain id) that may not become a file name (I-DATADIR-1). */
  | 'NAME_INVALID'
  | 'DATA_DIR_UNSAFE'
  /** A descriptor, policy or data-dir file that is not strict RFC 8259 JSON (I-INPUT-1). */
  | 'JSON_INVALID'
  /** A component that is not one, that jco cannot transpile, or that the sandbox refuses. */
  | 'COMPONENT_INVALID'
  /** A component importing wasi:filesystem, wasi:sockets, wasi:http or anything the host does not provide (I-SANDBOX-7). */
  | 'COMPONENT_IMPORT_DENIED'
  /** A registered component whose jco output no longer equals its pin or stored artifacts (I-SANDBOX-7). */
  | 'COMPONENT_PIN_MISMATCH'
  /** A root-signed operation found fewer root keys of the registry than its root threshold. */
  | 'ROOT_KEYS_INSUFFICIENT'
  /** The P0 or the signed P1 bundle of the data directory does not load (bad signature, unknown or rotated-out key, invalid rules). */
  | 'POLICY_INVALID'
  /** The receipt policies file does not verify under a live policy key, or is not a valid document. */
  | 'RECEIPT_POLICY_INVALID'
  /** A tool whose effect class has no receipt policy (every call to it would be refused). */
  | 'RECEIPT_POLICY_MISSING'
  /** `tool register` of a name already registered with another descriptor (change it with `tool repin`). */
  | 'TOOL_ALREADY_REGISTERED'
  /** `tool repin` of a name that is not registered (register it first). */
  | 'TOOL_NOT_REGISTERED'
  /** WebAssembly text that wabt cannot compile (the message names the line and column). */
  | 'WAT_INVALID'
  /** WebAssembly text given, but the optional `wabt` package is not installed. */
  | 'WAT_COMPILER_MISSING'
  /** A plugin module that cannot be loaded or whose default export is not a function. */
  | 'PLUGIN_INVALID'
  /** A repinned tool whose `tools/<name>.json` is not the descriptor its last applied `tool.repin` pinned. */
  | 'TOOL_PIN_MISMATCH'
  /** A plugin tool whose module file is missing or no longer has the digest pinned at registration. */
  | 'PLUGIN_PIN_MISMATCH'
  /** A tool whose driver kind only a host process supplies (e.g. `mcp`, the MCP gateway) opened elsewhere. */
  | 'TOOL_DRIVER_UNAVAILABLE'
  /**
   * A data-directory configuration the guardian refuses (config.json identity bindings or egress
   * rules, or a governance edit that would make them invalid); the message names the defect.
   */
  | 'CONFIG_INVALID'
  /**
   * A governance event refused before it reaches the log: malformed, not signed by exactly one key,
   * a signature that does not verify, made for another data directory, or refused by its action's
   * own check (docs/spec/governance-event.md).
   */
  | 'GOVERNANCE_EVENT_INVALID'
  /**
   * The stored governance log does not verify — an event, link, application record or the runtime's
   * signed cursor was forged, edited, reordered or rolled back. Nothing is decided until it is repaired.
   */
  | 'GOVERNANCE_LOG_INVALID'
  /**
   * Shared database: a new governance event is being applied by another node (it holds the
   * governance lock) and its record did not appear in time; the call is refused undecided rather
   * than decided under rules this node has not applied. Transient: retry.
   */
  | 'GOVERNANCE_PENDING'
  /** No approval challenge with that id in this data directory. */
  | 'CHALLENGE_UNKNOWN'
  /** The challenge is closed: its grant was consumed, an approver denied it, or it expired. */
  | 'CHALLENGE_CLOSED'
  /** The challenge still needs approvals or its timelock has not passed. */
  | 'CHALLENGE_PENDING'
  /** This approver (identity or key) has approved this challenge already. */
  | 'APPROVAL_DUPLICATE'
  /**
   * A command that governs calls was given a shared database (--database-url / HELM_DATABASE_URL)
   * but runs on the data directory's embedded store only: refused rather than record elsewhere.
   */
  | 'DATABASE_RUNTIME_UNSUPPORTED'
  /**
   * The shared database holds no trust registry, or one under another trust anchor than this
   * node's config.json (`helmts db publish-trust` puts the data directory's there once).
   */
  | 'DATABASE_TRUST_MISMATCH'
  /**
   * Another live process runs this chain on the shared database (its advisory lock is held, or this
   * runtime lost it): a chain has one writer, and its admissions are recovered only by that writer.
   */
  | 'CHAIN_LOCKED'
  /**
   * The shared database's head row of this chain does not name its head receipt (its hash is not
   * that receipt's hash, or the receipt is missing): a database writer edited it. Receipts signed
   * over it would break the chain, so the runtime does not open (docs/deployment.md).
   */
  | 'CHAIN_HEAD_MISMATCH'
  /**
   * The shared database's trust registry moved past the one this runtime decides under (a key was
   * rotated and published): the runtime neither decides nor signs under the stale registry and
   * closes admission; reopen it to run under the published one.
   */
  | 'TRUST_REGISTRY_STALE'
  /**
   * This node's clock differs from the shared database's by more than the tolerance
   * (docs/deployment.md): budget windows, approvals and expiries would be read from a wrong time,
   * so nothing is admitted until the clocks agree.
   */
  | 'CLOCK_SKEW'
  /**
   * A database on another host without verified TLS: every answer a node's safety rests on could
   * be read and rewritten on the path, so the connection is refused (docs/deployment.md).
   */
  | 'DATABASE_TLS_REQUIRED'
  /**
   * A receipt's transaction failed while calls were in flight: the receipts minted after it cannot
   * be committed, so the runtime refuses every further call (fail closed). Reopen it: the calls it
   * had admitted are receipted EXECUTION_INTERRUPTED at open.
   */
  | 'RUNTIME_HALTED'
  /**
   * The runtime is closing or closed (close() was called): it starts no new call, ingest or tool
   * load; the work begun before close() runs to its end first. Open a new runtime.
   */
  | 'RUNTIME_CLOSED'
  /** A state the runtime cannot be in unless it has a bug. */
  | 'INTERNAL';

export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode;
  readonly hint: string | undefined;
  constructor(code: RuntimeErrorCode, message: string, hint?: string) {
    super(message);
    this.name = 'RuntimeError';
    this.code = code;
    this.hint = hint;
  }
}
