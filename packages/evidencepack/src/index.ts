export * from './internal/common-exports.js';
export { type PackStreamInput, type WrittenPack, writeEvidencePackFile } from './stream-export.js';
export { verifyEvidencePack, verifyEvidencePackFile } from './verify.js';
