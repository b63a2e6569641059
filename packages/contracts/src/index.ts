// Public API of @helm/contracts: the union of its subpath entry points. Every module re-exported
// here is itself an entry point (package.json `exports`), so its exports are public either way;
// `pnpm api:update` records the resulting surface in etc/api-report.md.
export * from './approval.js';
export * from './checkpoint.js';
export * from './condensed.js';
export * from './decision.js';
export * from './delegation.js';
export * from './effect.js';
export type * from './envelope.js';
export * from './node.js';
export * from './policy.js';
export * from './reason-codes.js';
export * from './receipt.js';
export * from './schemas/index.js';
export * from './tool.js';
export * from './trust-event.js';
export * from './verdict.js';
export * from './wire.js';
