// Wire-format rules every package shares, defined once (normative: docs/spec/envelope.md §1, §2,
// §6 and docs/spec/signatures.md §4). Data only: the predicates that apply them (isDigest,
// isKeyId, isEnvelopeType, isSafeInt) live in @helm/crypto. tools/tcb-check flags any other
// `sha256:` / `ed25519:` pattern literal in the TCB.

/** The textual digest prefix. */
export const DIGEST_PREFIX = 'sha256:';
/** `sha256:` + 64 lowercase hex digits: the project's one textual digest encoding. */
export const DIGEST_PATTERN = '^sha256:[0-9a-f]{64}$';

/** The key id prefix. */
export const KEY_ID_PREFIX = 'ed25519:';
/** Key ids: `ed25519:` + lowercase hex SHA-256 of the raw 32-byte public key. */
export const KEY_ID_PATTERN = '^ed25519:[0-9a-f]{64}$';

/** Envelope type strings: `helm.` + dotted lowercase segments + `.v<N>`. */
export const ENVELOPE_TYPE_PATTERN = '^helm\\.[a-z0-9_]+(\\.[a-z0-9_]+)*\\.v[0-9]+$';
/** Longest envelope type string, in bytes (types are ASCII). */
export const MAX_ENVELOPE_TYPE_LENGTH = 128;
/** Upper bound on signatures per envelope (a DoS bound, far above any real quorum). */
export const MAX_ENVELOPE_SIGNATURES = 32;
/** Unpadded base64url (RFC 4648 §5) alphabet; canonical spelling is checked by the decoder. */
export const BASE64URL_PATTERN = '^[A-Za-z0-9_-]*$';

/**
 * Resolves the public key for `keyid` valid for `role` at trust sequence / height `seq` (receipts:
 * the receipt's `trust_seq`; ProofGraph nodes and checkpoints: their Lamport value), or undefined
 * when unknown, revoked or lacking the role. A plain `(keyid) => key` function also fits.
 */
export type RoleKeyLookup = (keyid: string, role: string, seq: number) => Uint8Array | undefined;

/** A JSON value (RFC 8259) as the strict parser produces it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
