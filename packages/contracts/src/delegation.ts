// Delegation sessions (normative: docs/spec/delegation.md). A session lets a delegate (an agent)
// act for a delegator (a human) within explicit grants. `session_id` =
// digest(canonicalBytes(body without session_id)); the body is signed by the guardian as a
// `helm.delegation.v1` envelope.

import type { PolicyMatch } from './policy.js';

export const DELEGATION_TYPE = 'helm.delegation.v1';

/** One explicit capability. `tool` is mandatory and must be `eq` or `in` (a finite set). */
export interface DelegationGrant {
  readonly tool: PolicyMatch;
  readonly action?: PolicyMatch;
  readonly resource?: PolicyMatch;
  readonly effect_type?: PolicyMatch;
}

export interface DelegationSession {
  readonly type: typeof DELEGATION_TYPE;
  readonly session_id: string;
  readonly delegator: string;
  readonly delegate: string;
  readonly tenant: string | null;
  readonly grants: readonly DelegationGrant[];
  readonly created_at_ms: number;
  readonly expires_at_ms: number;
  /** PKCE: base64url(SHA-256(ASCII(code_verifier))), no padding. */
  readonly code_challenge: string;
  readonly code_challenge_method: 'S256';
  readonly mfa_verified: boolean;
  /** Policy stack the grants were checked against at creation. */
  readonly policy_stack_hash: string;
}

/** What a delegate presents with each call (inside the decision request context). */
export interface DelegationPresentation {
  readonly session_id: string;
  readonly code_verifier: string;
  /** One-time nonce; consumed only when the call is allowed. */
  readonly nonce: string;
}
