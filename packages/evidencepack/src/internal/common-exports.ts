// What the Node entry (index.ts) and the browser entry (browser.ts) both export: everything but
// the file APIs and `verifyEvidencePack` itself, which each entry defines for its platform.
export { EvidencePackError, type EvidencePackErrorCode } from '../errors.js';
export {
  type BuiltPack,
  bindEntries,
  buildEvidencePack,
  ENTRIES_PATH,
  entriesRoot,
  envelopeBody,
  INDEX_PATH,
  INDEX_TYPE,
  MANIFEST_PATH,
  manifestEntries,
  type PackArtifact,
  type PackInput,
  type PackNode,
  packEntries,
  receiptHashOf,
  sealArchive,
  TRUST_SNAPSHOT_PATH,
} from '../export.js';
export {
  GOVERNANCE_ACTION_ROLES,
  GOVERNANCE_ACTIONS,
  GOVERNANCE_ADMIN_ACTIONS,
  GOVERNANCE_ADMIN_TOOL_PREFIX,
  GOVERNANCE_APPLIED_TYPE,
  GOVERNANCE_CURSOR_TYPE,
  GOVERNANCE_EVENT_TYPE,
  GOVERNANCE_GENESIS_PREV,
  GOVERNANCE_LINK_TYPE,
  type GovernanceAction,
  type GovernanceCursorBody,
  type GovernanceEventBody,
} from '../governance.js';
export { governanceCursorSchema, governanceEventSchema } from '../governance-schemas.js';
export {
  EVIDENCEPACK_ENTRIES_PATH,
  EVIDENCEPACK_FORMAT_VERSION,
  EVIDENCEPACK_MANIFEST_TYPE,
  EVIDENCEPACK_PATH_PATTERN,
  type EvidencePackEntriesRef,
  type EvidencePackEntry,
  type EvidencePackManifest,
  type EvidencePackScope,
} from '../manifest.js';
export { type Divergence, type ReplayOptions, type ReplayResult, replayEvidencePack } from '../replay.js';
export {
  evidencePackEntriesSchema,
  evidencePackIndexSchema,
  evidencePackManifestSchema,
} from '../schemas.js';
export { isSafePath, MAX_ENTRY_BYTES, readTar, sortPaths, type TarEntry, writeTar } from '../tar.js';
export {
  CHECK_CODES,
  type Check,
  type CheckCode,
  type CheckStatus,
  type FreshnessPin,
  type FreshnessSource,
  formatReport,
  freshnessLine,
  parseTrustHeadPin,
  type TrustFreshness,
  type TrustHeadPin,
  type VerifyOptions,
  type VerifyReport,
  verifyEvidencePackSync,
} from '../verify.js';
