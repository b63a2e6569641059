// The chain's receipt log as the transparency API serves it: the RFC 9162 tree of helm.log_leaf.v1
// leaves, one per receipt in Lamport order (the tree `helmts export --condense` checkpoints), kept
// in memory and extended with the receipts committed since the last request; and the Ed25519 key
// that signs its C2SP checkpoints — a key of its own, used for nothing else, so a note signature
// can never be mistaken for a HELM envelope signature (docs/spec/tlog.md §Keys).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RiskTier } from '@helm/contracts';
import { envelopeBody } from '@helm/evidencepack';
import { MerkleLog } from '@helm/proofgraph';
import type { DataDir } from '@helm/runtime';
import { formatCheckpoint, type NoteSigner, noteSigner, SIG_ED25519, signNote } from '../tlog.js';

const rawOf = (digest: string): Uint8Array =>
  new Uint8Array(Buffer.from(digest.slice('sha256:'.length), 'hex'));

/** The log's note key: `<data dir>/serve/log-note.seed` (hex, 0600), created on first use. */
export function logNoteSigner(data: DataDir, origin: string): NoteSigner {
  const dir = join(data.dir, 'serve');
  const file = join(dir, 'log-note.seed');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  }
  const hex = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${file} is not a 32-byte hex seed`);
  return noteSigner(origin, new Uint8Array(Buffer.from(hex, 'hex')), SIG_ED25519);
}

export class ReceiptLog {
  readonly #data: DataDir;
  readonly #chain: string;
  readonly #signer: NoteSigner;
  #log: MerkleLog;
  /** Lamport of each leaf, by index. */
  readonly #lamports: number[] = [];

  constructor(data: DataDir, signer: NoteSigner) {
    this.#data = data;
    this.#chain = data.config().chain_id;
    this.#signer = signer;
    this.#log = new MerkleLog({ logId: this.#chain });
  }

  get origin(): string {
    return this.#signer.name;
  }

  get vkey(): string {
    return this.#signer.vkey;
  }

  /**
   * Append the receipts committed since the last sync; returns the tree size. Read through the
   * async store port (the embedded store or the shared database); concurrent syncs are serialized
   * so two requests never append the same receipts twice.
   */
  sync(): Promise<number> {
    this.#syncing = this.#syncing.then(
      () => this.#syncOnce(),
      () => this.#syncOnce(),
    );
    return this.#syncing;
  }
  #syncing: Promise<number> = Promise.resolve(0);

  async #syncOnce(): Promise<number> {
    const from = (this.#lamports.at(-1) ?? 0) + 1;
    const store = this.#data.shared ?? this.#data.store;
    for (const r of await store.receipts({ chainId: this.#chain, fromLamport: from })) {
      const tier = envelopeBody<{ risk_tier: RiskTier }>(r.envelope).risk_tier;
      this.#log.append({ entry_hash: r.hash, lamport: r.lamport, risk_tier: tier });
      this.#lamports.push(r.lamport);
    }
    return this.#log.size;
  }

  /** The signed C2SP checkpoint note of the log now (size 0 for an empty chain). */
  async checkpoint(): Promise<{ note: string; size: number }> {
    const size = await this.sync();
    const text = formatCheckpoint({ origin: this.origin, size, root: this.#log.root(), extensions: [] });
    return { note: signNote(text, this.#signer), size };
  }

  /** Leaf index of a receipt by Lamport value, or -1. */
  async indexOf(lamport: number): Promise<number> {
    await this.sync();
    return this.#lamports.indexOf(lamport);
  }

  inclusion(index: number, size: number): string[] {
    return this.#log.inclusionProof(index, size).map((d) => Buffer.from(rawOf(d)).toString('base64'));
  }

  consistency(oldSize: number, size: number): string[] {
    return this.#log.consistencyProof(oldSize, size).map((d) => Buffer.from(rawOf(d)).toString('base64'));
  }

  get size(): number {
    return this.#log.size;
  }
}
