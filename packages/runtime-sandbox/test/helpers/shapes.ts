// Hand-assembled WebAssembly binaries: a tiny writer plus the adversarial module shapes used by the
// registration-bound tests (test/adversarial/I-SANDBOX-5.test.ts) and the registration bench
// (bench/index.ts). Self-contained (no src imports) so the bench can load it next to dist/.

/** A growable byte buffer with LEB128 helpers. */
export class Bin {
  private buf = new Uint8Array(256);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(...bs: number[]): this {
    this.room(bs.length);
    for (const b of bs) this.buf[this.length++] = b & 0xff;
    return this;
  }

  u32(value: number): this {
    let v = value >>> 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.byte(b);
    } while (v !== 0);
    return this;
  }

  s64(value: bigint): this {
    let v = value;
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) return this.byte(b);
      this.byte(b | 0x80);
    }
  }

  bytes(data: Uint8Array | readonly number[]): this {
    this.room(data.length);
    if (data instanceof Uint8Array) this.buf.set(data, this.length);
    else for (let i = 0; i < data.length; i++) this.buf[this.length + i] = (data[i] as number) & 0xff;
    this.length += data.length;
    return this;
  }

  /** Repeats `data` n times. */
  repeat(data: readonly number[], n: number): this {
    const chunk = Uint8Array.from(data);
    this.room(chunk.length * n);
    for (let i = 0; i < n; i++) {
      this.buf.set(chunk, this.length);
      this.length += chunk.length;
    }
    return this;
  }

  name(text: string): this {
    const raw = new TextEncoder().encode(text);
    return this.u32(raw.length).bytes(raw);
  }

  done(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const FUNCREF = 0x70;
export const EXTERNREF = 0x6f;

/** A function type `(params) -> (results)` as a type-section entry. */
export function funcType(params: readonly number[], results: readonly number[]): number[] {
  return [0x60, params.length, ...params, results.length, ...results];
}

/** A code-section entry: local groups `[count, type]` and the expression bytes (without the final `end`). */
export function body(
  locals: ReadonlyArray<readonly [number, number]>,
  code: Uint8Array | readonly number[],
): Uint8Array {
  const b = new Bin().u32(locals.length);
  for (const [n, t] of locals) b.u32(n).byte(t);
  b.bytes(code).byte(0x0b);
  const out = new Bin().u32(b.length).bytes(b.done());
  return out.done();
}

/** A vector of pre-encoded entries. */
export function vec(entries: ReadonlyArray<Uint8Array | readonly number[]>): Uint8Array {
  const b = new Bin().u32(entries.length);
  for (const e of entries) b.bytes(e);
  return b.done();
}

/** A whole module from `[section id, body]` pairs, in the order given. */
export function moduleOf(
  sections: ReadonlyArray<readonly [number, Uint8Array | readonly number[]]>,
): Uint8Array {
  const b = new Bin().byte(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);
  for (const [id, content] of sections) b.byte(id).u32(content.length).bytes(content);
  return b.done();
}

/** An export entry. kind: 0 func, 1 table, 2 memory, 3 global. */
export function exportEntry(name: string, kind: number, index: number): Uint8Array {
  return new Bin().name(name).byte(kind).u32(index).done();
}

/** A WASI-shaped command: exported memory (1 page) and `_start` = function `startIndex`. */
function commandSections(
  types: ReadonlyArray<readonly number[]>,
  funcTypes: readonly number[],
  bodies: readonly Uint8Array[],
  startIndex: number,
): Uint8Array {
  const code = new Bin().u32(bodies.length);
  for (const b of bodies) code.bytes(b);
  return moduleOf([
    [1, vec(types)],
    [
      3,
      new Bin()
        .u32(funcTypes.length)
        .bytes(funcTypes.flatMap((t) => [...new Bin().u32(t).done()]))
        .done(),
    ],
    [5, [1, 0x00, 1]],
    [7, vec([exportEntry('memory', 2, 0), exportEntry('_start', 0, startIndex)])],
    [10, code.done()],
  ]);
}

const CALL0 = [0x10, 0x00];

/**
 * One loop-free internal function with `depth` nested blocks and `calls` calls to a leaf at the
 * innermost level (the shape that made common-ancestor bookkeeping O(depth × calls)).
 */
export function nestedCalls(depth: number, calls: number): Uint8Array {
  const code = new Bin().repeat([0x02, 0x40], depth).repeat(CALL0, calls).repeat([0x0b], depth);
  return commandSections(
    [funcType([], [])],
    [0, 0, 0],
    [body([], []), body([], code.done()), body([], [0x10, 0x01])],
    2,
  );
}

/** `n` internal functions, each calling the next (many functions, each pre-paying its callee). */
export function manyFunctions(n: number): Uint8Array {
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const next = new Bin()
      .byte(0x10)
      .u32(i + 1 < n ? i + 1 : 0)
      .done();
    bodies.push(body([], i + 1 < n ? next : []));
  }
  bodies.push(body([], [0x10, 0x00]));
  return commandSections([funcType([], [])], new Array(n + 1).fill(0), bodies, n);
}

/**
 * One huge loop function: `n` repetitions of a mixed group (float op, bulk op, call, branch out of
 * the loop), so every rewriting path of the instrumenter runs on a single body.
 */
export function hugeBody(n: number): Uint8Array {
  const group = [
    0x20,
    0x00,
    0x20,
    0x00,
    0xa0,
    0x1a, // local.get 0, local.get 0, f64.add, drop
    0x41,
    0x00,
    0x41,
    0x00,
    0x41,
    0x00,
    0xfc,
    0x0b,
    0x00, // memory.fill 0 0 0
    0x10,
    0x00, // call 0
    0x41,
    0x00,
    0x0d,
    0x01, // br_if 1 (leaves the function)
  ];
  const code = new Bin().byte(0x03, 0x40).repeat(group, n).byte(0x0b);
  return commandSections(
    [funcType([], []), funcType([F64], [])],
    [0, 1, 0],
    [body([], []), body([], code.done()), body([], [0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x01])],
    2,
  );
}

/** A loop function with `tables` br_table instructions of `targets` targets each. */
export function brTables(tables: number, targets: number): Uint8Array {
  const table = new Bin().byte(0x41, 0x00, 0x0e).u32(targets);
  for (let i = 0; i < targets; i++) table.u32(i % 2);
  table.u32(1);
  const t = [...table.done()];
  const code = new Bin().byte(0x02, 0x40, 0x03, 0x40).repeat(t, tables).byte(0x0b, 0x0b);
  return commandSections([funcType([], [])], [0], [body([], code.done())], 0);
}

/** `depth` nested loops, each with a call (every loop opens a metering region). */
export function deepLoops(depth: number): Uint8Array {
  const code = new Bin().repeat([0x03, 0x40, 0x10, 0x00], depth).repeat([0x0b], depth);
  return commandSections([funcType([], [])], [0, 0], [body([], []), body([], code.done())], 1);
}

/**
 * `n` memory.grow instructions (`i32.const 0; memory.grow 0; drop`) in one loop-free function:
 * each gets its length charge and the grow-failed record, the most output per source byte
 * (~8.6×), so a large enough module is refused by the registration size budget.
 */
export function manyGrows(n: number): Uint8Array {
  const code = new Bin().repeat([0x41, 0x00, 0x40, 0x00, 0x1a], n);
  return commandSections([funcType([], [])], [0], [body([], code.done())], 0);
}

/**
 * A loop function calling a leaf `n` times (`call 0; i32.const 0; drop`). Under the earlier
 * scheme (a gas local in loop functions) every call site was rewritten twice (the local published
 * before, reloaded after); now nothing is inserted at a call.
 */
export function loopCalls(n: number): Uint8Array {
  const code = new Bin().byte(0x03, 0x40).repeat([0x10, 0x00, 0x41, 0x00, 0x1a], n).byte(0x0b);
  return commandSections([funcType([], [])], [0, 0], [body([], []), body([], code.done())], 1);
}

/**
 * A loop function with `n` branches out of the function (`i32.const 0; br_if 1`) and a `return`
 * after the loop: under the earlier scheme each got the gas local published before it.
 */
export function loopBranches(n: number): Uint8Array {
  const code = new Bin().byte(0x03, 0x40).repeat([0x41, 0x00, 0x0d, 0x01], n).byte(0x0b, 0x0f);
  return commandSections([funcType([], [])], [0], [body([], code.done())], 0);
}

/**
 * A loop function with `n` table reads (`i32.const 0; table.get 0; drop`). Under the earlier
 * scheme each was bracketed by a table-op flag (set before, cleared after); now nothing is inserted.
 */
export function loopTableGets(n: number): Uint8Array {
  const code = new Bin().byte(0x03, 0x40).repeat([0x41, 0x00, 0x25, 0x00, 0x1a], n).byte(0x0b);
  return moduleOf([
    [1, vec([funcType([], [])])],
    [3, [1, 0]],
    [4, [1, FUNCREF, 0x00, 1]],
    [5, [1, 0x00, 1]],
    [7, vec([exportEntry('memory', 2, 0), exportEntry('_start', 0, 0)])],
    [10, vec([body([], code.done())])],
  ]);
}

/**
 * `n` reads and writes of defined global 127 in a loop (200 defined globals): copied through as
 * they are for a preview1 module; in a component core module every one is renumbered to 128,
 * which grows its index to two bytes (the densest work of gas-import.ts).
 */
export function loopGlobals(n: number): Uint8Array {
  const code = new Bin()
    .byte(0x03, 0x40)
    .repeat([0x23, 0x7f, 0x24, 0x7f], Math.max(1, n >> 1))
    .byte(0x0b);
  const globals = new Bin().u32(200).repeat([0x7f, 0x01, 0x41, 0x00, 0x0b], 200);
  return moduleOf([
    [1, vec([funcType([], [])])],
    [3, [1, 0]],
    [5, [1, 0x00, 1]],
    [6, globals.done()],
    [7, vec([exportEntry('memory', 2, 0), exportEntry('_start', 0, 0)])],
    [10, vec([body([], code.done())])],
  ]);
}

export interface Shape {
  readonly name: string;
  /** Builds a module of roughly `bytes` bytes. */
  readonly build: (bytes: number) => Uint8Array;
}

/** The engine refuses function bodies over 7 654 321 bytes: bigger shapes are spread over copies. */
const PART = 2 << 20;

/** Reads an unsigned LEB128 at `at[0]` (advancing it). */
function leb(bytes: Uint8Array, at: number[]): number {
  let result = 0;
  for (let shift = 0; ; shift += 7) {
    const b = bytes[at[0]++] as number;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
  }
}

/**
 * A module of about `bytes` bytes in the shape `build` makes: built once at ≤ 2 MiB, with its
 * largest function body repeated (as new, uncalled functions of the same type) to reach the size.
 * The shapes have no imports and type indices below 128, so function i is function-section byte i.
 */
function spread(build: (bytes: number) => Uint8Array, bytes: number): Uint8Array {
  const copies = Math.max(1, Math.ceil(bytes / PART));
  const one = build(Math.floor(bytes / copies));
  if (copies === 1) return one;
  const sections: Array<[number, Uint8Array]> = [];
  const at = [8];
  while ((at[0] as number) < one.length) {
    const id = one[at[0]++] as number;
    const size = leb(one, at);
    sections.push([id, one.subarray(at[0] as number, (at[0] as number) + size)]);
    at[0] = (at[0] as number) + size;
  }
  const code = sections.find(([id]) => id === 10)?.[1] as Uint8Array;
  const c = [0];
  const count = leb(code, c);
  let largest = 0;
  let largestEntry = code.subarray(0, 0);
  for (let i = 0; i < count; i++) {
    const start = c[0] as number;
    const size = leb(code, c);
    c[0] = (c[0] as number) + size;
    if (size > largestEntry.length) {
      largest = i;
      largestEntry = code.subarray(start, c[0]);
    }
  }
  return moduleOf(
    sections.map(([id, content]) => {
      if (id !== 3 && id !== 10) return [id, content] as const;
      const p = [0];
      const n = leb(content, p);
      const b = new Bin().u32(n + copies - 1).bytes(content.subarray(p[0]));
      const extra =
        id === 10
          ? largestEntry
          : content.subarray((p[0] as number) + largest, (p[0] as number) + largest + 1);
      for (let i = 1; i < copies; i++) b.bytes(extra);
      return [id, b.done()] as const;
    }),
  );
}

/**
 * The adversarial family: each shape scaled to a target module size. (Pinned by the instrumented
 * corpus, test/instrument-corpus.test.ts: shapes found later are in DENSE_SHAPES.)
 */
export const SHAPES: readonly Shape[] = [
  {
    name: 'deep nesting + calls',
    build: (bytes) =>
      spread((b) => nestedCalls(Math.max(1, Math.floor(b / 7)), Math.max(1, Math.floor(b / 7) * 2)), bytes),
  },
  { name: 'many functions', build: (b) => manyFunctions(Math.min(240_000, Math.max(2, Math.floor(b / 5)))) },
  {
    name: 'huge single body',
    build: (bytes) => spread((b) => hugeBody(Math.max(1, Math.floor(b / 21))), bytes),
  },
  {
    name: 'many br_table targets',
    build: (bytes) => spread((b) => brTables(Math.max(1, Math.floor(b / 1006)), 1000), bytes),
  },
  {
    name: 'deep loop nesting',
    build: (bytes) => spread((b) => deepLoops(Math.max(1, Math.floor(b / 5))), bytes),
  },
];

/**
 * Shapes found after the corpus was pinned, by looking for the most rewriting per source byte on
 * modules the engine validates fastest (an edit every instruction or two in a function with a
 * loop); each beat every shape of SHAPES on the instrument/validate ratio when found (2026-12).
 */
export const DENSE_SHAPES: readonly Shape[] = [
  {
    name: 'calls in a loop',
    build: (bytes) => spread((b) => loopCalls(Math.max(1, Math.floor(b / 5))), bytes),
  },
  {
    name: 'table reads in a loop',
    build: (bytes) => spread((b) => loopTableGets(Math.max(1, Math.floor(b / 5))), bytes),
  },
  {
    name: 'defined globals in a loop',
    build: (bytes) => spread((b) => loopGlobals(Math.max(1, Math.floor(b / 2))), bytes),
  },
];

/** Every adversarial shape: the registration bench's family and the linear-work test's. */
export const FAMILY: readonly Shape[] = [...SHAPES, ...DENSE_SHAPES];
