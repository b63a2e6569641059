// Host-supplied drivers: driver kinds the runtime itself does not know, whose bodies live in the
// process embedding it (the MCP gateway's `mcp` kind calls a tool on a connected upstream server).
// A registered tool of such a kind is pinned and receipted exactly like every other tool; a runtime
// opened without its host (`helmts run`, re-execution) puts it out of service instead of failing
// the open (TOOL_DRIVER_UNAVAILABLE): such a call can only run where its upstream is connected.
import type { ToolDescriptor } from '@helm/contracts';
import type { Driver } from '@helm/executor';
import { RuntimeError } from './errors.js';

/** Driver kinds only a host supplies. A kind outside this list stays an invalid descriptor. */
export const HOST_DRIVER_KINDS: readonly string[] = ['mcp'];

/** Per kind, the driver a host builds for one pinned descriptor (called at load and every repin). */
export type HostDrivers = Readonly<Record<string, (descriptor: ToolDescriptor) => Driver>>;

/** The host's driver for `descriptor`, undefined for a kind no host supplies (the caller refuses it). */
export function hostDriver(drivers: HostDrivers | undefined, descriptor: ToolDescriptor): Driver | undefined {
  const kind = descriptor.driver.kind;
  if (!HOST_DRIVER_KINDS.includes(kind)) return undefined;
  const build = drivers && Object.hasOwn(drivers, kind) ? drivers[kind] : undefined;
  if (typeof build !== 'function')
    throw new RuntimeError(
      'TOOL_DRIVER_UNAVAILABLE',
      `tool ${descriptor.name}: its driver kind ${kind} is supplied only by its host process; the tool is out of service here`,
      kind === 'mcp' ? 'call it through `helmts mcp serve`, which connects its upstream server' : undefined,
    );
  return build(descriptor);
}
