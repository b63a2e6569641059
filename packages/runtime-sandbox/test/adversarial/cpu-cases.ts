// Guests that keep a core busy in work the engine does not interrupt promptly: loops around one
// large bulk instruction (V8 checks for termination in baseline-tier loops only when the tier-up
// budget, counted in code size, runs out) and modules whose instantiation is long engine-internal
// work. Used by I-SANDBOX-2 (each run in its own process by cpu-scenario.ts). Sizes stay within
// the default caps (64 MiB memory, 100 000 elements per table, 16 MiB modules).
import { wat } from '../helpers/wat.ts';

const MEMORY = '(memory (export "memory") 1024)';
const loop = (body: string) => `(func (export "_start") (loop $l ${body} (br $l)))`;
const module = (...fields: string[]) => wat(`(module ${MEMORY} ${fields.join(' ')})`);
const MIB = 0x100000;
const ELEMS = 20_000;
const funcs = (n: number) => Array.from({ length: n }, () => '$f').join(' ');
const TABLES = 8;

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const name = (s: string) => [...leb(s.length), ...new TextEncoder().encode(s)];

/**
 * `tables` tables of 100 000 entries, each written in full by one active element segment of
 * references to $f: instantiation allocates and fills tables × 100 000 entries (hand-assembled:
 * the text form takes long to parse). 10 tables is the default cap on table entries per module.
 */
function tablesAndSegments(tables: number): Uint8Array {
  const length = 100_000;
  const body: number[] = [...leb(tables)];
  const chunks: Uint8Array[] = [];
  for (let t = 0; t < tables; t++) {
    // flags 2: active, explicit table index, offset (i32.const 0), elemkind funcref, vec(funcidx)
    chunks.push(Uint8Array.from([0x02, ...leb(t), 0x41, 0x00, 0x0b, 0x00, ...leb(length)]));
    chunks.push(new Uint8Array(length)); // function index 0 ($f), `length` times
  }
  const elems = chunks.reduce((n, c) => n + c.length, body.length);
  const head = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [0x01, 0x60, 0x00, 0x00]),
    ...section(3, [0x02, 0x00, 0x00]),
    ...section(4, [
      ...leb(tables),
      ...Array.from({ length: tables }, () => [0x70, 0x00, ...leb(length)]).flat(),
    ]),
    ...section(5, [0x01, 0x00, 0x01]),
    ...section(7, [0x02, ...name('memory'), 0x02, 0x00, ...name('_start'), 0x00, 0x01]),
    0x09,
    ...leb(elems),
    ...body,
  ];
  const code = section(10, [0x02, 0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b]);
  const out = new Uint8Array(head.length + elems - body.length + code.length);
  out.set(head);
  let at = head.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  out.set(code, at);
  return out;
}

export interface CpuCase {
  readonly module: () => Promise<Uint8Array>;
  /** Deadline of the call (default 400 ms). */
  readonly deadlineMs?: number;
}

export const CPU_CASES: Readonly<Record<string, CpuCase>> = {
  'memory.fill': {
    module: () => module(loop(`(memory.fill (i32.const 0) (i32.const 1) (i32.const ${4 * MIB}))`)),
  },
  'memory.copy': {
    module: () => module(loop(`(memory.copy (i32.const 0) (i32.const ${4 * MIB}) (i32.const ${4 * MIB}))`)),
  },
  'memory.init': {
    module: () =>
      module(
        `(data $d "${'\\ab'.repeat(MIB)}")`,
        loop(`(memory.init $d (i32.const 0) (i32.const 0) (i32.const ${MIB}))`),
      ),
  },
  'table.fill': {
    module: () =>
      module(
        '(table $t 100000 funcref)',
        loop('(table.fill $t (i32.const 0) (ref.null func) (i32.const 100000))'),
      ),
  },
  'table.copy': {
    module: () =>
      module(
        '(table $t 100000 funcref)',
        loop('(table.copy $t $t (i32.const 0) (i32.const 50000) (i32.const 50000))'),
      ),
  },
  'table.init': {
    module: () =>
      module(
        '(table $t 100000 funcref) (func $f)',
        `(elem $e func ${funcs(ELEMS)})`,
        loop(`(table.init $t $e (i32.const 0) (i32.const 0) (i32.const ${ELEMS}))`),
      ),
  },
  // Grows each of 8 tables to the cap (a growth writes 100 000 entries); then the growths fail and
  // the fills after them are the work. No instruction of it is long on its own.
  'table.grow': {
    module: () =>
      module(
        ...Array.from({ length: TABLES }, (_, i) => `(table $t${i} 0 100000 externref)`),
        loop(
          Array.from(
            { length: TABLES },
            (_, i) =>
              `(drop (table.grow $t${i} (ref.null extern) (i32.const 100000))) ` +
              `(table.fill $t${i} (i32.const 0) (ref.null extern) (table.size $t${i}))`,
          ).join(' '),
        ),
      ),
  },
  // Instantiation: a million table entries allocated and written by the engine before any guest
  // instruction runs (~0.2 s on a 2-core machine); the deadline passes in the middle of it.
  'instantiate: tables and segments': { module: async () => tablesAndSegments(10), deadlineMs: 50 },
  // The start function runs (called by the host right after instantiation) before `_start`.
  'instantiate: start function': {
    module: () =>
      module(
        `(func $s (loop $l (memory.fill (i32.const 0) (i32.const 1) (i32.const ${4 * MIB})) (br $l)))`,
        '(start $s)',
        '(func (export "_start"))',
      ),
  },
};
