// Ports of the TUF client. The client performs no I/O itself either: metadata and target bytes
// arrive through a caller-supplied fetcher (file, HTTP … adapters), trusted metadata persists
// through a cache port, and time comes from an injected clock.

/**
 * Fetches repository files. Return `undefined` when the file does not exist (e.g. the next root
 * version); throw on transport errors. Implementations should stop reading after `maxLength`
 * bytes — the client also refuses longer answers.
 */
export interface TufFetcher {
  /** A metadata file by name relative to the metadata base, e.g. `timestamp.json`, `2.root.json`. */
  fetchMetadata(name: string, maxLength: number): Promise<Uint8Array | undefined>;
  /** A target file by path relative to the targets base (already consistent-snapshot prefixed). */
  fetchTarget(path: string, maxLength: number): Promise<Uint8Array | undefined>;
}

/** Persists the bytes of the last trusted metadata per role (`root`, `timestamp`, `snapshot`, `targets`, delegated names). */
export interface TufMetadataCache {
  get(role: string): Uint8Array | undefined;
  set(role: string, bytes: Uint8Array): void;
  delete(role: string): void;
}

/** The default in-memory cache (embedding and tests); a persistent one lives outside the TCB. */
export class InMemoryTufMetadataCache implements TufMetadataCache {
  private readonly entries = new Map<string, Uint8Array>();
  get(role: string): Uint8Array | undefined {
    const bytes = this.entries.get(role);
    return bytes ? Uint8Array.from(bytes) : undefined;
  }
  set(role: string, bytes: Uint8Array): void {
    this.entries.set(role, Uint8Array.from(bytes));
  }
  delete(role: string): void {
    this.entries.delete(role);
  }
  /** Role names currently cached (sorted). */
  roles(): string[] {
    return [...this.entries.keys()].sort();
  }
}

/** Injected clock: current time as Unix epoch milliseconds. */
export type TufClock = () => number;
