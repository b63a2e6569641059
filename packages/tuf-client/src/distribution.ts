// The product use of TUF: trust roots and P1 policy bundles are distributed as TUF targets.
// `TrustDistribution` refreshes the metadata once (or on demand) and hands the caller only bytes
// whose length and hashes the trusted targets metadata vouches for; a trust registry snapshot is
// then replayed and verified by the TCB's registry verifier (`@helm/trust/verify`).

import { importTrustSnapshot, TrustError, type TrustRegistry } from '@helm/trust/verify';
import { TufClient, type TufClientOptions, type TufRefreshResult } from './client.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

export class TrustDistribution {
  private readonly client: TufClient;
  private refreshed: Promise<TufRefreshResult> | undefined;

  constructor(options: TufClientOptions) {
    this.client = new TufClient(options);
  }

  /** Run a TUF update now (every call starts a new one). */
  refresh(): Promise<TufRefreshResult> {
    const run = this.client.refresh();
    this.refreshed = run;
    run.catch(() => {
      if (this.refreshed === run) this.refreshed = undefined;
    });
    return run;
  }

  /** Bytes of target `name`, verified through TUF (refreshing first if this instance never did). */
  async fetchVerifiedTarget(name: string): Promise<Uint8Array> {
    await (this.refreshed ?? this.refresh());
    return this.client.fetchTarget(name);
  }

  /** A `helm.trust.snapshot.v1` target, TUF-verified and then replayed and verified against `genesis`. */
  async fetchTrustRegistry(name: string, genesis: string): Promise<TrustRegistry> {
    const bytes = await this.fetchVerifiedTarget(name);
    let snapshot: unknown;
    try {
      snapshot = JSON.parse(decoder.decode(bytes));
    } catch {
      throw new TrustError('TRUST_SNAPSHOT_MALFORMED', `${name} is not UTF-8 JSON`);
    }
    return importTrustSnapshot(snapshot, { genesis });
  }
}
