// What the verifier keeps of each full receipt until the steps that bind decisions, requests and
// the ProofGraph to it, column by column: one object per receipt with three `sha256:<hex>` strings
// (88 bytes each on the heap) cost about 370 bytes; here a receipt costs about 120 bytes (numbers in
// Float64Arrays, digests as 32 raw bytes, repeated strings as indexes into one table). `at(i)`
// gives back exactly the values pushed: a digest column rebuilds `sha256:<hex>` from its bytes only
// for values that were exactly that form (lowercase hex, as DIGEST_PATTERN requires); any other
// value (null, a tampered string, a non-string) is kept as it was.

/** The fields of a full receipt the later steps read (docs/spec/evidencepack.md §5). */
export interface ReceiptInfo {
  readonly index: number;
  readonly lamport: number;
  readonly trust_seq: number;
  readonly decision_id: string;
  readonly args_hash: unknown;
  readonly tool: unknown;
  readonly principal: unknown;
  /** The one field a receipt node needs (docs/spec/node.md §Receipt nodes) that its summary lacks. */
  readonly issued_at_ms: unknown;
  readonly verdict: unknown;
  readonly reason_code: unknown;
  readonly status: unknown;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const HEX_CODES = new TextEncoder().encode('0123456789abcdef');
const TEXT = new Uint8Array(71);
TEXT.set(new TextEncoder().encode('sha256:'));

/**
 * `sha256:<hex>` of 32 bytes at `at`, built as one flat string in one step: appending two hex
 * digits at a time leaves a 33-deep rope and ~3 KB of garbage per receipt, which made V8 grow its
 * heap (peak RSS) although less was kept.
 */
export function digestText(bytes: Uint8Array, at: number): string {
  for (let i = 0; i < 32; i++) {
    const v = bytes[at + i] as number;
    TEXT[7 + 2 * i] = HEX_CODES[v >> 4] as number;
    TEXT[8 + 2 * i] = HEX_CODES[v & 15] as number;
  }
  return String.fromCharCode.apply(null, TEXT as unknown as number[]);
}
const hexValue = (c: number) => (c <= 0x39 ? c - 0x30 : c - 0x61 + 10);

/** A growable column of values that are mostly `sha256:<hex>` strings. */
export class DigestColumn {
  #bytes: Uint8Array;
  constructor(capacity: number) {
    this.#bytes = new Uint8Array(32 * capacity);
  }
  /** Values that are not a lowercase digest string, by row. */
  readonly #other = new Map<number, unknown>();

  set(row: number, value: unknown): void {
    if (typeof value !== 'string' || !DIGEST.test(value)) {
      this.#other.set(row, value);
      return;
    }
    if (32 * (row + 1) > this.#bytes.length) {
      const b = new Uint8Array(Math.max(this.#bytes.length * 2, 32 * (row + 1), 32 * 1024));
      b.set(this.#bytes);
      this.#bytes = b;
    }
    for (let i = 0; i < 32; i++)
      this.#bytes[32 * row + i] =
        hexValue(value.charCodeAt(7 + 2 * i)) * 16 + hexValue(value.charCodeAt(8 + 2 * i));
  }

  get(row: number): unknown {
    if (this.#other.has(row)) return this.#other.get(row);
    return digestText(this.#bytes, 32 * row);
  }

  /** The digest bytes of every row, 32 per row (rows kept aside: see `isDigest`). */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** Whether the row's value is a lowercase `sha256:<hex>` string (its bytes are in `bytes`). */
  isDigest(row: number): boolean {
    return !this.#other.has(row);
  }
}

/**
 * A growable column of numbers (any other value kept aside): 4 bytes per row while every number
 * is an integer in [0, 2^32) (Lamport values, trust heights), 8 from the first one that is not.
 */
export class NumberColumn {
  #narrow: Uint32Array | undefined;
  #wide: Float64Array | undefined;
  constructor(capacity: number) {
    this.#narrow = new Uint32Array(capacity);
  }
  readonly #other = new Map<number, unknown>();

  get #length(): number {
    return (this.#narrow ?? this.#wide)?.length ?? 0;
  }

  set(row: number, value: unknown): void {
    if (row >= this.#length) {
      const n = Math.max(this.#length * 2, row + 1, 1024);
      if (this.#narrow !== undefined) {
        const v = new Uint32Array(n);
        v.set(this.#narrow);
        this.#narrow = v;
      } else {
        const v = new Float64Array(n);
        v.set(this.#wide as Float64Array);
        this.#wide = v;
      }
    }
    // -0 kept aside too: a Float64Array keeps it, but Object.is-exact round trips are the contract.
    if (typeof value !== 'number' || Object.is(value, -0)) {
      this.#other.set(row, value);
      return;
    }
    if (this.#narrow !== undefined) {
      if (Number.isInteger(value) && value >= 0 && value < 2 ** 32) {
        this.#narrow[row] = value;
        return;
      }
      this.#wide = Float64Array.from(this.#narrow);
      this.#narrow = undefined;
    }
    (this.#wide as Float64Array)[row] = value;
  }

  get(row: number): unknown {
    if (this.#other.has(row)) return this.#other.get(row);
    return ((this.#narrow ?? this.#wide) as Uint32Array | Float64Array)[row];
  }
}

/** A growable list of numbers in a NumberColumn (4 bytes each while they fit in 32 bits). */
export class NumberList {
  readonly #column: NumberColumn;
  #n = 0;
  constructor(capacity = 0) {
    this.#column = new NumberColumn(capacity);
  }
  get length(): number {
    return this.#n;
  }
  push(value: number): void {
    this.#column.set(this.#n++, value);
  }
  /** The value at `i`, or undefined outside the list. */
  at(i: number): number | undefined {
    return i >= 0 && i < this.#n ? (this.#column.get(i) as number) : undefined;
  }
}

const NEGATIVE_ZERO = Symbol('-0');

/** A growable column of repeated values (tool, principal, verdict, …): indexes into one table. */
class InternColumn {
  #codes: Int32Array;
  constructor(capacity: number) {
    this.#codes = new Int32Array(capacity);
  }
  readonly #table: unknown[] = [];
  readonly #codeOf = new Map<unknown, number>();

  set(row: number, value: unknown): void {
    if (row >= this.#codes.length) {
      const c = new Int32Array(Math.max(this.#codes.length * 2, row + 1, 1024));
      c.set(this.#codes);
      this.#codes = c;
    }
    // Map keys compare by SameValueZero: -0 gets a key of its own so that it comes back as -0.
    const key = Object.is(value, -0) ? NEGATIVE_ZERO : value;
    let code = this.#codeOf.get(key);
    if (code === undefined) {
      code = this.#table.length;
      this.#table.push(value);
      this.#codeOf.set(key, code);
    }
    this.#codes[row] = code;
  }

  get(row: number): unknown {
    return this.#table[this.#codes[row] as number];
  }
}

/** The full receipts' infos, in the order they were read (ascending Lamport). */
export class ReceiptInfos {
  #n = 0;
  readonly #lamport: NumberColumn;
  readonly #trustSeq: NumberColumn;
  readonly #issuedAt: NumberColumn;
  readonly #decisionId: DigestColumn;
  readonly #argsHash: DigestColumn;
  readonly #tool: InternColumn;
  readonly #principal: InternColumn;
  readonly #verdict: InternColumn;
  readonly #reasonCode: InternColumn;
  readonly #status: InternColumn;

  /** `capacity`: the expected number of receipts (the columns grow past it if need be). */
  constructor(capacity = 0) {
    const c = Math.max(0, capacity);
    this.#lamport = new NumberColumn(c);
    this.#trustSeq = new NumberColumn(c);
    this.#issuedAt = new NumberColumn(c);
    this.#decisionId = new DigestColumn(c);
    this.#argsHash = new DigestColumn(c);
    this.#tool = new InternColumn(c);
    this.#principal = new InternColumn(c);
    this.#verdict = new InternColumn(c);
    this.#reasonCode = new InternColumn(c);
    this.#status = new InternColumn(c);
  }

  get length(): number {
    return this.#n;
  }

  /** Appends the receipt's fields; its `index` is its row. */
  push(info: Omit<ReceiptInfo, 'index'>): ReceiptInfo {
    const row = this.#n++;
    this.#lamport.set(row, info.lamport);
    this.#trustSeq.set(row, info.trust_seq);
    this.#issuedAt.set(row, info.issued_at_ms);
    this.#decisionId.set(row, info.decision_id);
    this.#argsHash.set(row, info.args_hash);
    this.#tool.set(row, info.tool);
    this.#principal.set(row, info.principal);
    this.#verdict.set(row, info.verdict);
    this.#reasonCode.set(row, info.reason_code);
    this.#status.set(row, info.status);
    return { index: row, ...info };
  }

  lamportAt(row: number): number {
    return this.#lamport.get(row) as number;
  }

  /** The decision_id column: digest bytes by row, and which rows hold a digest string. */
  get decisionIds(): { readonly bytes: Uint8Array; isDigest(row: number): boolean } {
    return this.#decisionId;
  }

  /** The row's fields, equal to those pushed (a new object each time). */
  at(row: number): ReceiptInfo | undefined {
    if (row < 0 || row >= this.#n) return undefined;
    return {
      index: row,
      lamport: this.#lamport.get(row) as number,
      trust_seq: this.#trustSeq.get(row) as number,
      decision_id: this.#decisionId.get(row) as string,
      args_hash: this.#argsHash.get(row),
      tool: this.#tool.get(row),
      principal: this.#principal.get(row),
      issued_at_ms: this.#issuedAt.get(row),
      verdict: this.#verdict.get(row),
      reason_code: this.#reasonCode.get(row),
      status: this.#status.get(row),
    };
  }
}

/** The receipt verifier's phase-1 summary (`@helm/receipts`), field for field. */
interface Summary {
  readonly hash: string;
  readonly receipt_id: string;
  readonly chain_id: string;
  readonly lamport: number;
  readonly prev_hash: string;
  readonly keyid: string;
  readonly risk_tier: string;
  readonly trust_seq: number;
  readonly trust_head: string;
}

/**
 * The receipts' phase-1 summaries (the link pass's and the ProofGraph pass's input), column by
 * column: about 97 bytes per receipt instead of an object with two `sha256:<hex>` strings
 * (≈ 230 bytes). `at(i)` gives back a summary equal, field for field, to the one pushed.
 */
export class ReceiptSummaries<S extends Summary = Summary> {
  #n = 0;
  readonly #hash: DigestColumn;
  readonly #receiptId: DigestColumn;
  /**
   * prev_hash only where it is not the previous row's hash (a chain's receipts link to the one
   * before: 32 bytes per receipt saved); `#chained` marks the rows whose prev_hash is that hash.
   */
  readonly #prevHash = new DigestColumn(0);
  #chained: Uint8Array;
  #lastHash: unknown;
  readonly #lamport: NumberColumn;
  readonly #trustSeq: NumberColumn;
  readonly #chainId: InternColumn;
  readonly #keyid: InternColumn;
  readonly #riskTier: InternColumn;
  readonly #trustHead: InternColumn;

  constructor(capacity = 0) {
    const c = Math.max(0, capacity);
    this.#hash = new DigestColumn(c);
    this.#receiptId = new DigestColumn(c);
    this.#chained = new Uint8Array(c);
    this.#lamport = new NumberColumn(c);
    this.#trustSeq = new NumberColumn(c);
    this.#chainId = new InternColumn(c);
    this.#keyid = new InternColumn(c);
    this.#riskTier = new InternColumn(c);
    this.#trustHead = new InternColumn(c);
  }

  get length(): number {
    return this.#n;
  }

  push(s: S): void {
    const row = this.#n++;
    this.#hash.set(row, s.hash);
    this.#receiptId.set(row, s.receipt_id);
    if (row >= this.#chained.length) {
      const chained = new Uint8Array(Math.max(this.#chained.length * 2, row + 1, 1024));
      chained.set(this.#chained);
      this.#chained = chained;
    }
    if (row > 0 && Object.is(s.prev_hash, this.#lastHash)) this.#chained[row] = 1;
    else this.#prevHash.set(row, s.prev_hash);
    this.#lastHash = s.hash;
    this.#lamport.set(row, s.lamport);
    this.#trustSeq.set(row, s.trust_seq);
    this.#chainId.set(row, s.chain_id);
    this.#keyid.set(row, s.keyid);
    this.#riskTier.set(row, s.risk_tier);
    this.#trustHead.set(row, s.trust_head);
  }

  /** The hash column (32 digest bytes per row; `isDigest` says which rows hold one). */
  get hashes(): { readonly bytes: Uint8Array; isDigest(row: number): boolean } {
    return this.#hash;
  }

  lamportAt(row: number): number {
    return this.#lamport.get(row) as number;
  }

  at(row: number): S | undefined {
    if (!Number.isInteger(row) || row < 0 || row >= this.#n) return undefined;
    return {
      hash: this.#hash.get(row),
      receipt_id: this.#receiptId.get(row),
      chain_id: this.#chainId.get(row),
      lamport: this.#lamport.get(row),
      prev_hash: this.#chained[row] === 1 ? this.#hash.get(row - 1) : this.#prevHash.get(row),
      keyid: this.#keyid.get(row),
      risk_tier: this.#riskTier.get(row),
      trust_seq: this.#trustSeq.get(row),
      trust_head: this.#trustHead.get(row),
    } as S;
  }

  /**
   * A read-only array view for functions that take an array of summaries and only read its
   * elements and length (`linkReceipts`): element `i` is `at(i)`, built when it is read.
   */
  view(): readonly S[] {
    const at = (i: number) => this.at(i);
    const length = () => this.#n;
    return new Proxy([] as S[], {
      get(target, key, receiver) {
        if (key === 'length') return length();
        if (typeof key === 'string' && /^(?:0|[1-9][0-9]*)$/.test(key)) return at(Number(key));
        return Reflect.get(target, key, receiver);
      },
    });
  }
}
