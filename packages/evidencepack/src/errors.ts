export type EvidencePackErrorCode =
  | 'PACK_TAR_MALFORMED'
  | 'PACK_PATH_INVALID'
  | 'PACK_DUPLICATE_ENTRY'
  | 'PACK_NONCANONICAL'
  | 'PACK_TOO_LARGE'
  | 'PACK_EMPTY_SCOPE'
  | 'PACK_INPUT_INVALID';

/** A typed EvidencePack error; match on `code`, never on the message. */
export class EvidencePackError extends Error {
  readonly code: EvidencePackErrorCode;
  constructor(code: EvidencePackErrorCode, message: string) {
    super(message);
    this.name = 'EvidencePackError';
    this.code = code;
  }
}
