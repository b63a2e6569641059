// Which full receipts name a decision id, without a Map entry per receipt: a Map from a 33-character
// key to row numbers, plus a Set of the decisions' keys, cost ≈ 150 heap bytes per receipt — the
// verifier's largest heap term after the ProofGraph pass (docs/PERFORMANCE.md, "Memory"). Here the
// rows whose decision_id is a `sha256:<hex>` string are sorted by its 32 bytes (4 bytes per row),
// and a lookup is a binary search; any other id (never an honest pack) is kept in a Map by string.
import type { ReceiptInfos } from './receipt-infos.js';

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const hexValue = (c: number) => (c <= 0x39 ? c - 0x30 : c - 0x61 + 10);

export class DecisionIndex {
  readonly #bytes: Uint8Array;
  /** Digest rows, ascending by (decision_id bytes, row). */
  readonly #sorted: Uint32Array;
  /** Rows of every other decision_id, by the id, ascending. */
  readonly #other = new Map<string, number[]>();
  readonly #key = new Uint8Array(32);

  /** Index the decision_id column of `infos` as it is now (rows pushed later are not in it). */
  constructor(infos: ReceiptInfos) {
    const column = infos.decisionIds;
    const bytes = column.bytes;
    this.#bytes = bytes;
    const n = infos.length;
    let digests = 0;
    for (let row = 0; row < n; row++) if (column.isDigest(row)) digests++;
    const sorted = new Uint32Array(digests);
    // The first four bytes of each row, so that most comparisons read one number.
    const head = new Uint32Array(n);
    let k = 0;
    for (let row = 0; row < n; row++) {
      if (!column.isDigest(row)) {
        const id = (infos.at(row) as { decision_id: string }).decision_id;
        const rows = this.#other.get(id);
        if (rows === undefined) this.#other.set(id, [row]);
        else rows.push(row);
        continue;
      }
      sorted[k++] = row;
      const at = 32 * row;
      head[row] =
        (((bytes[at] as number) << 24) |
          ((bytes[at + 1] as number) << 16) |
          ((bytes[at + 2] as number) << 8) |
          (bytes[at + 3] as number)) >>>
        0;
    }
    sorted.sort((a, b) => {
      const ha = head[a] as number;
      const hb = head[b] as number;
      if (ha !== hb) return ha < hb ? -1 : 1;
      for (let i = 4; i < 32; i++) {
        const x = bytes[32 * a + i] as number;
        const y = bytes[32 * b + i] as number;
        if (x !== y) return x - y;
      }
      return a - b;
    });
    this.#sorted = sorted;
  }

  /** The rows whose decision_id is exactly `id`, ascending (empty when none). */
  rowsOf(id: string): number[] {
    if (!DIGEST.test(id)) return [...(this.#other.get(id) ?? [])];
    const key = this.#key;
    for (let i = 0; i < 32; i++)
      key[i] = hexValue(id.charCodeAt(7 + 2 * i)) * 16 + hexValue(id.charCodeAt(8 + 2 * i));
    const sorted = this.#sorted;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#compare(sorted[mid] as number) < 0) lo = mid + 1;
      else hi = mid;
    }
    const rows: number[] = [];
    for (let at = lo; at < sorted.length && this.#compare(sorted[at] as number) === 0; at++)
      rows.push(sorted[at] as number);
    return rows;
  }

  /** Row's decision_id bytes against the key: negative when the row sorts first. */
  #compare(row: number): number {
    const bytes = this.#bytes;
    const key = this.#key;
    for (let i = 0; i < 32; i++) {
      const x = bytes[32 * row + i] as number;
      const y = key[i] as number;
      if (x !== y) return x - y;
    }
    return 0;
  }
}
