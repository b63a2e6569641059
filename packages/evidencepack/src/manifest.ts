// EvidencePack manifest (`helm.evidencepack.manifest.v1`, moved here from @helm/contracts: no TCB
// package reads or writes a pack): the signed table of contents of a
// deterministic EvidencePack tar (normative: docs/spec/evidencepack.md). It travels as the
// SignedEnvelope `manifest.json`. The entry list (every other entry's path, size and digest, sorted
// bytewise by path) is not inlined: it is the entry `manifest/entries.json`, bound by its size,
// SHA-256 and RFC 9162 Merkle root in the signed body, so the signed manifest has a fixed size
// whatever the number of entries.

export const EVIDENCEPACK_MANIFEST_TYPE = 'helm.evidencepack.manifest.v1';

/** The EvidencePack format version this manifest type describes. */
export const EVIDENCEPACK_FORMAT_VERSION = 1;

/** Entry path pattern: lowercase relative POSIX path of safe segments. */
export const EVIDENCEPACK_PATH_PATTERN = '^(?:[a-z0-9][a-z0-9._@+-]*/)*[a-z0-9][a-z0-9._@+-]*$';

export interface EvidencePackEntry {
  readonly path: string;
  /** Size in bytes. */
  readonly size: number;
  /** `digest(bytes)`: `sha256:<hex>` of the entry's exact bytes. */
  readonly sha256: string;
}

/** Where the entry list lives: a JCS array of `EvidencePackEntry`, sorted bytewise by path. */
export const EVIDENCEPACK_ENTRIES_PATH = 'manifest/entries.json';

/**
 * The signed binding of the entry list `manifest/entries.json` (docs/spec/evidencepack.md §4):
 * its entry count, byte size, SHA-256, and the RFC 9162 Merkle tree hash over the leaves
 * `JCS({path, size, sha256})` of the entries in list order (an entry is provable by an inclusion
 * proof against `root` without the whole list).
 */
export interface EvidencePackEntriesRef {
  readonly count: number;
  readonly size: number;
  readonly sha256: string;
  readonly root: string;
}

export interface EvidencePackScope {
  readonly chain_id: string;
  /** Session the export selected, or null for a whole-chain / Lamport-range export. */
  readonly session_id: string | null;
  /**
   * Inclusive Lamport range of the receipts in the pack. (Trust state is not mapped from Lamport
   * values: every receipt names its own `trust_seq` and `trust_head` under its signature.)
   */
  readonly from_lamport: number;
  readonly to_lamport: number;
}

export interface EvidencePackManifest {
  readonly type: typeof EVIDENCEPACK_MANIFEST_TYPE;
  readonly format_version: typeof EVIDENCEPACK_FORMAT_VERSION;
  /** Producer name and version, e.g. `helm-ts/0.1.0`. */
  readonly producer: string;
  readonly scope: EvidencePackScope;
  /** Last receipt of the pack: a verifier holding an expected head detects truncation. */
  readonly head: { readonly lamport: number; readonly hash: string } | null;
  /** Digest of the trust registry's genesis event (the anchor a verifier pins). */
  readonly trust_anchor: string;
  /** Counts, for humans and quick sanity checks (verified against the entries). */
  readonly counts: {
    readonly receipts: number;
    readonly decisions: number;
    readonly nodes: number;
    readonly checkpoints: number;
  };
  /** The entry list, bound by digest (the list is `manifest/entries.json`). */
  readonly entries: EvidencePackEntriesRef;
}
