// Entry used by a component's worker. The worker's main module is a data: URL holding two
// imports: the jco-generated glue (pinned at registration) and this file; it then calls
// serveComponent(instantiate). See TCB_POLICY.md for why the glue is loaded this way.
import { parentPort } from 'node:worker_threads';
import { type ComponentRequest, type InstantiateComponent, runComponent } from './component-run.ts';

export function serveComponent(instantiate: InstantiateComponent): void {
  const port = parentPort;
  if (port === null) return;
  port.on('message', (req: ComponentRequest & { id: number }) => {
    try {
      port.postMessage({ id: req.id, outcome: runComponent(instantiate, req) });
    } catch (e) {
      port.postMessage({ id: req.id, error: e instanceof Error ? e.message : String(e) });
    }
  });
}
