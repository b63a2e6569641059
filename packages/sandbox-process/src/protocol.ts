// Messages between the parent (processIsolation) and a child process (child.ts). Types only: the
// child loads nothing from this package at run time.
import type { IsolatedCall, IsolatedModule, IsolationOutcome } from '@helm/runtime-sandbox';

/** A module the child has already received is sent by reference. */
export interface ModuleRef {
  readonly kind: 'ref';
  readonly id: string;
}

export type WireCall = Omit<IsolatedCall, 'module'> & { readonly module: IsolatedModule | ModuleRef };

export type ParentMessage =
  /** Compile a module ahead of its calls; answered with `loaded`. */
  | { readonly t: 'load'; readonly module: IsolatedModule }
  | { readonly t: 'run'; readonly id: number; readonly call: WireCall };

export type ChildMessage =
  /** Started, warmed up, and compiled every module loaded before this. */
  | { readonly t: 'ready' }
  | { readonly t: 'failed'; readonly message: string }
  | { readonly t: 'loaded'; readonly id: string; readonly error?: string }
  | { readonly t: 'done'; readonly id: number; readonly outcome: IsolationOutcome };
