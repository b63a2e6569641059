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
export { type Divergence, type ReplayOptions, type ReplayResult, replayEvidencePack } from '../replay.js';
export { evidencePackIndexSchema } from '../schemas.js';
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
