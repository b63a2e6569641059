// Public API of @helm/interop: the formats HELM keys and checkpoints take when they leave for outside
// tools — Ed25519 key files (docs/spec/signatures.md §5) and a checkpoint's Rekor hashedrekord entry.
// Not part of the TCB: no decide, execute or verify path reads them (the TCB takes raw 32-byte keys).
export { type CheckpointAnchor, type HashedRekordBody, prepareCheckpointAnchor } from './anchor.js';
export * from './keys.js';
