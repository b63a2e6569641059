// Compact SHA-256 (FIPS 180-4) for the guest's deterministic random stream. It runs inside the
// worker, which loads no other package; tests check it against @helm/crypto's SHA-256.

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));

const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** The message padded to whole blocks (FIPS 180-4 §5.1.1). */
function pad(data: Uint8Array): Uint8Array {
  const padded = new Uint8Array(Math.ceil((data.length + 9) / 64) * 64);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  const bitLen = data.length * 8;
  view.setUint32(padded.length - 8, Math.floor(bitLen / 2 ** 32));
  view.setUint32(padded.length - 4, bitLen >>> 0);
  return padded;
}

/** Hashes whole padded blocks into `h` (reset to the IV first), using `w` as the schedule. */
function compress(h: Uint32Array, w: Uint32Array, view: DataView, length: number): void {
  h.set(IV);
  for (let off = 0; off < length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15] as number;
      const b = w[i - 2] as number;
      const s0 = rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3);
      const s1 = rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10);
      w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) >>> 0;
    }
    let a = h[0] as number;
    let b = h[1] as number;
    let c = h[2] as number;
    let d = h[3] as number;
    let e = h[4] as number;
    let f = h[5] as number;
    let g = h[6] as number;
    let hh = h[7] as number;
    for (let i = 0; i < 64; i++) {
      const t1 =
        (hh +
          (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) +
          ((e & f) ^ (~e & g)) +
          (K[i] as number) +
          (w[i] as number)) >>>
        0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] = (h[0] as number) + a;
    h[1] = (h[1] as number) + b;
    h[2] = (h[2] as number) + c;
    h[3] = (h[3] as number) + d;
    h[4] = (h[4] as number) + e;
    h[5] = (h[5] as number) + f;
    h[6] = (h[6] as number) + g;
    h[7] = (h[7] as number) + hh;
  }
}

function digestInto(h: Uint32Array, out: DataView): void {
  for (let i = 0; i < 8; i++) out.setUint32(i * 4, h[i] as number);
}

export function sha256(data: Uint8Array): Uint8Array {
  const padded = pad(data);
  const h = new Uint32Array(8);
  compress(h, new Uint32Array(64), new DataView(padded.buffer), padded.length);
  const out = new Uint8Array(32);
  digestInto(h, new DataView(out.buffer));
  return out;
}

/**
 * Deterministic byte stream: block i (i = 0, 1, …) is SHA-256(seed ‖ u64be(i)); bytes are consumed
 * in order across calls, so the stream depends only on the seed and the number of bytes drawn.
 * Allocation-free after construction (the padded message is rewritten in place per block).
 */
export class Sha256CounterStream {
  private readonly message: Uint8Array;
  private readonly messageView: DataView;
  private readonly counterAt: number;
  private readonly h = new Uint32Array(8);
  private readonly w = new Uint32Array(64);
  private readonly block = new Uint8Array(32);
  private readonly blockView = new DataView(this.block.buffer);
  private counter = 0;
  private offset = 32;

  constructor(seed: Uint8Array) {
    const input = new Uint8Array(seed.length + 8);
    input.set(seed);
    this.message = pad(input);
    this.messageView = new DataView(this.message.buffer);
    this.counterAt = seed.length;
  }

  fill(target: Uint8Array): void {
    for (let at = 0; at < target.length; ) {
      if (this.offset === 32) {
        this.messageView.setBigUint64(this.counterAt, BigInt(this.counter++));
        compress(this.h, this.w, this.messageView, this.message.length);
        digestInto(this.h, this.blockView);
        this.offset = 0;
      }
      const take = Math.min(32 - this.offset, target.length - at);
      target.set(this.block.subarray(this.offset, this.offset + take), at);
      this.offset += take;
      at += take;
    }
  }
}
