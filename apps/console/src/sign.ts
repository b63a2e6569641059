// Approver keys and signed approvals, in the page. The key file is the one `helmts keys` writes
// (`{"seed","keyid","public_key",…}`, base64url); it is read with the File API, checked (its
// keyid/public_key must be its seed's, as the CLI's key loader requires), and kept only in this
// module's memory — never stored, never sent. The events are the CLI's `helmts approve
// --sign-only` events: a `helm.approval.v1` statement inside a `helm.governance.event.v1`
// envelope, both signed with @helm/crypto's browser entry (noble Ed25519).
import {
  APPROVAL_CHALLENGE_TYPE,
  APPROVAL_TYPE,
  type ApprovalChallenge,
  type SignedEnvelope,
} from '@helm/contracts';
import {
  canonicalBytes,
  createSigner,
  digest,
  fromBase64Url,
  parseStrictJson,
  type Signer,
  signEnvelope,
  toBase64Url,
  toHex,
} from '@helm/crypto';
import { GOVERNANCE_EVENT_TYPE } from '@helm/evidencepack';

export class KeyFileError extends Error {}

/** The signer of a key file's text, or KeyFileError. */
export function signerFromKeyFile(text: string): Signer {
  let f: unknown;
  try {
    f = parseStrictJson(text);
  } catch {
    throw new KeyFileError('the key file is not strict JSON');
  }
  const o = (typeof f === 'object' && f !== null ? f : {}) as Record<string, unknown>;
  const seed = typeof o.seed === 'string' ? fromBase64Url(o.seed) : undefined;
  if (seed?.length !== 32) throw new KeyFileError('the key file holds no 32-byte base64url seed');
  const signer = createSigner(seed);
  seed.fill(0);
  if (o.keyid !== signer.keyId || o.public_key !== toBase64Url(signer.publicKey))
    throw new KeyFileError(`its keyid/public_key are not those of its seed (the seed is ${signer.keyId})`);
  return signer;
}

/** What the page checks itself before it signs: the challenge id and the arguments it binds. */
export interface BindingCheck {
  readonly ok: boolean;
  readonly problems: readonly string[];
  /**
   * The arguments exactly as hashed against `args_hash` (parsed from `args_text` when the request
   * recorded text): the page shows these and nothing else, so what is signed is what is shown.
   */
  readonly args: unknown;
}

export function checkBinding(challenge: ApprovalChallenge, request: unknown): BindingCheck {
  const problems: string[] = [];
  if (challenge.type !== APPROVAL_CHALLENGE_TYPE) problems.push(`not a ${APPROVAL_CHALLENGE_TYPE}`);
  const { challenge_id: id, ...rest } = challenge;
  if (id !== digest(canonicalBytes(rest as never)))
    problems.push('the challenge id does not match its fields');
  const req = (typeof request === 'object' && request !== null ? request : {}) as Record<string, unknown>;
  // A request records its arguments once, as `args` or as `args_text` (the API refuses both): one
  // carrying both could show one value and bind the other, so it is refused outright.
  if (req.args !== undefined && req.args_text !== undefined)
    problems.push('the recorded request carries both args and args_text');
  let args: unknown;
  try {
    args = typeof req.args_text === 'string' ? parseStrictJson(req.args_text) : req.args;
  } catch {
    args = undefined;
  }
  if (args === undefined || digest(canonicalBytes(args as never)) !== challenge.args_hash)
    problems.push('the recorded arguments do not hash to the challenge args_hash');
  if (req.tool !== challenge.tool) problems.push('the recorded request names another tool');
  return { ok: problems.length === 0, problems, args };
}

export interface LogIdentity {
  readonly trustAnchor: string;
  readonly chainId: string;
}

function nonce(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(16)));
}

function governanceEvent(action: string, body: unknown, signer: Signer, log: LogIdentity): SignedEnvelope {
  const event = {
    type: GOVERNANCE_EVENT_TYPE,
    action,
    trust_anchor: log.trustAnchor,
    chain_id: log.chainId,
    signed_at_ms: Date.now(),
    nonce: nonce(),
    body,
  };
  return signEnvelope(event as never, [signer]) as SignedEnvelope;
}

/** `approval.grant` carrying the approver's `helm.approval.v1` statement for exactly this challenge. */
export function signApproval(challenge: ApprovalChallenge, signer: Signer, log: LogIdentity): SignedEnvelope {
  const statement = signEnvelope(
    {
      type: APPROVAL_TYPE,
      challenge_id: challenge.challenge_id,
      intent_hash: challenge.intent_hash,
      policy_bundle_hash: challenge.policy_bundle_hash,
      p0_ceiling_hash: challenge.p0_ceiling_hash,
      approver: signer.keyId,
      emergency: false,
    } as never,
    [signer],
  );
  return governanceEvent('approval.grant', { challenge_id: challenge.challenge_id, statement }, signer, log);
}

export function signDenial(
  challengeId: string,
  signer: Signer,
  log: LogIdentity,
  reason?: string,
): SignedEnvelope {
  return governanceEvent(
    'approval.deny',
    { challenge_id: challengeId, ...(reason ? { reason } : {}) },
    signer,
    log,
  );
}
