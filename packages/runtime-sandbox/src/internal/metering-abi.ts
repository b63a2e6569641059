// The import name of a component run's shared gas counter (sandbox.md §5): written into every
// core module of a component by gas-import.ts, supplied by component-run.ts. Kept apart (no
// imports) because the component worker loads it too.

/** Import module and name of the shared counter; a source module importing from `__helm…` is refused. */
export const SHARED_GAS_MODULE = '__helm';
export const SHARED_GAS_NAME = 'gas';
