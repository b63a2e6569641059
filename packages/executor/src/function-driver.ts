// The in-process function driver: a tool body that is a plain (sync or async) function.

import type { JsonValue } from '@helm/contracts/wire';
import type { Driver, DriverContext } from './driver.js';

export type ToolFunction = (args: JsonValue, context: DriverContext) => unknown;

/** A driver of kind `function` that calls `fn` with the validated arguments. */
export function functionDriver(fn: ToolFunction): Driver {
  return { kind: 'function', invoke: (args, context) => fn(args, context) };
}
