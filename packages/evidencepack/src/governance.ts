// Governance events (normative: docs/spec/governance-event.md). An administrative write — an
// approval or denial of a held call, a delegation created or revoked, an identity, egress, budget or
// tool change, a policy bundle published — is one signed `helm.governance.event.v1` statement by a key whose trust-registry
// role covers the action. It is appended to the data directory's governance log without opening
// the governed runtime; a running runtime ingests it before its next decision. The statement names
// no log position (an approver may sign it on another machine): the log links each event to the
// previous one (`helm.governance.link.v1`), and the runtime signs how far it has applied the log
// (`helm.governance.cursor.v1`), so an edited, reordered or rolled-back log is refused.
//
// The format lives in @helm/evidencepack, outside the TCB: no TCB package reads or writes a
// governance event (the runtime applies them; a pack's verifier checks admin receipts against
// them), and this is the lowest package every reader (runtime, server, console) depends on.
import type { TrustRole } from '@helm/contracts';

export const GOVERNANCE_EVENT_TYPE = 'helm.governance.event.v1';
/** Tag of a log link: `chain_n = digest(JCS({type, seq, prev: chain_{n-1}, event, trust_seq}))`. */
export const GOVERNANCE_LINK_TYPE = 'helm.governance.link.v1';
/** Tag of an application record, chained like the log (`applied_n`). */
export const GOVERNANCE_APPLIED_TYPE = 'helm.governance.applied.v1';
/** The runtime's signed statement of how far it has applied the log. */
export const GOVERNANCE_CURSOR_TYPE = 'helm.governance.cursor.v1';
/** `prev` of the first link and of the first application record: `sha256:` followed by 64 zeros. */
export const GOVERNANCE_GENESIS_PREV = `sha256:${'0'.repeat(64)}`;
/** Receipts of administrative actions name the tool `helm.admin.<action>`. */
export const GOVERNANCE_ADMIN_TOOL_PREFIX = 'helm.admin.';

export const GOVERNANCE_ACTIONS = [
  'approval.grant',
  'approval.deny',
  'delegation.create',
  'delegation.revoke',
  'identity.add',
  'identity.remove',
  'egress.allow',
  'egress.remove',
  'budget.reset',
  'tool.repin',
  'policy.publish',
] as const;
export type GovernanceAction = (typeof GOVERNANCE_ACTIONS)[number];

/** The trust-registry role a governance event's signer must hold for its action. */
export const GOVERNANCE_ACTION_ROLES: Readonly<Record<GovernanceAction, TrustRole>> = {
  'approval.grant': 'approver',
  'approval.deny': 'approver',
  'delegation.create': 'policy',
  'delegation.revoke': 'policy',
  'identity.add': 'policy',
  'identity.remove': 'policy',
  'egress.allow': 'policy',
  'egress.remove': 'policy',
  'budget.reset': 'policy',
  'tool.repin': 'policy',
  'policy.publish': 'policy',
};

/** Actions that change the rules: applying one appends a `helm.admin.<action>` receipt to the chain. */
export const GOVERNANCE_ADMIN_ACTIONS: readonly GovernanceAction[] = [
  'identity.add',
  'identity.remove',
  'egress.allow',
  'egress.remove',
  'budget.reset',
  'tool.repin',
  'policy.publish',
];

export interface GovernanceEventBody {
  readonly type: typeof GOVERNANCE_EVENT_TYPE;
  readonly action: GovernanceAction;
  /** The trust registry (its genesis digest) the event is for. */
  readonly trust_anchor: string;
  /** The receipt chain (data directory) the event is for. */
  readonly chain_id: string;
  /** The signer's clock when it signed (informational; the runtime's application time is receipted). */
  readonly signed_at_ms: number;
  /** 128 random bits, lowercase hex: two otherwise identical events are two events. */
  readonly nonce: string;
  /** The action's own fields (docs/spec/governance-event.md §Bodies). */
  readonly body: { readonly [key: string]: unknown };
}

export interface GovernanceCursorBody {
  readonly type: typeof GOVERNANCE_CURSOR_TYPE;
  readonly trust_anchor: string;
  readonly chain_id: string;
  /** Events 1..seq are applied (each once). */
  readonly seq: number;
  /** The log link at `seq` (GOVERNANCE_GENESIS_PREV when seq = 0). */
  readonly log_chain: string;
  /** The application record chain at `seq`. */
  readonly applied_chain: string;
  /** The registry state the signer's key is checked at. */
  readonly trust_seq: number;
}
