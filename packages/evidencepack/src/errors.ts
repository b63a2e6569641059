export type EvidencePackErrorCode =
  | 'PACK_TAR_MALFORMED'
  | 'PACK_PATH_INVALID'
  | 'PACK_DUPLICATE_ENTRY'
  | 'PACK_NONCANONICAL'
  | 'PACK_TOO_LARGE'
  | 'PACK_EMPTY_SCOPE'
  | 'PACK_INPUT_INVALID'
  /** A Lamport value or tree size ≥ 10^12: entry names have exactly 12 digits (evidencepack.md §3). */
  | 'PACK_LAMPORT_TOO_LARGE'
  /** Checkpoints (a condensed history) in an export that does not start at Lamport 1 (§3). */
  | 'PACK_RANGE_WITH_CHECKPOINTS';

/** A typed EvidencePack error; match on `code`, never on the message. */
export class EvidencePackError extends Error {
  readonly code: EvidencePackErrorCode;
  constructor(code: EvidencePackErrorCode, message: string) {
    super(message);
    this.name = 'EvidencePackError';
    this.code = code;
  }
}
