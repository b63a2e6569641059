// Stand-in for the node built-ins that @helm/evidencepack's file/worker paths import (see
// vite.config.ts). Nothing in the console calls them; if anything did, it throws: fail closed.
const unavailable = (name: string) => () => {
  throw new Error(`${name} is not available in the browser console`);
};
export const createHash = unavailable('node:crypto createHash');
export const openSync = unavailable('node:fs openSync');
export const closeSync = unavailable('node:fs closeSync');
export const readSync = unavailable('node:fs readSync');
export const fstatSync = unavailable('node:fs fstatSync');
export const writeSync = unavailable('node:fs writeSync');
export const renameSync = unavailable('node:fs renameSync');
export const rmSync = unavailable('node:fs rmSync');
export const readFileSync = unavailable('node:fs readFileSync');
export const availableParallelism = unavailable('node:os availableParallelism');
export const parentPort = null;
export class Worker {
  constructor() {
    unavailable('node:worker_threads Worker')();
  }
}
export default {};
