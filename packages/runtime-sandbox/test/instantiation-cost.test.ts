// instantiationCost (sandbox.md §"Instantiation cost") over every shape of the sections it reads:
// tables with and without a maximum, every kind of global initializer (extended-const included),
// active/passive/declarative element segments with indices or expressions, explicit table
// indices, active/passive data segments — and malformed bytes refused with ModuleFormatError.
import { describe, expect, it } from 'vitest';
import { instantiationCost } from '../src/internal/instantiation-cost.ts';
import { ModuleFormatError } from '../src/internal/wasm-binary.ts';
import { wat } from './helpers/wat.ts';

/** Three trailing globals stand for the instrumenter's (never charged). */
const METERING =
  '(global (mut i64) (i64.const 0)) (global (mut i32) (i32.const 0)) (global (mut i32) (i32.const 0))';

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const raw = (...bytes: number[]) => Uint8Array.from([...HEADER, ...bytes]);

describe('instantiationCost', () => {
  it('charges tables at 8 per initial element, with or without a maximum', async () => {
    expect(
      instantiationCost(await wat(`(module (table 3 funcref) (table 2 10 externref) ${METERING})`)),
    ).toBe(40);
  });

  it('charges every global initializer instruction 16, at least one instruction per global', async () => {
    const globals = `(import "m" "g" (global i32))
      (func $f) (elem declare func $f)
      (global i64 (i64.const 5)) (global f32 (f32.const 1)) (global f64 (f64.const 2))
      (global funcref (ref.null func)) (global funcref (ref.func $f)) (global i32 (global.get 0))`;
    // 6 single-instruction globals at 16; the declarative segment 1 + 16
    expect(instantiationCost(await wat(`(module ${globals} ${METERING})`))).toBe(6 * 16 + 17);
    // extended-const (i32.const 1; i32.const 2; i32.add) and (i64 … i64.sub … i64.mul): 3 + 5
    const ext = raw(
      0x06,
      0x23,
      0x05,
      0x7f,
      0x00,
      0x41,
      0x01,
      0x41,
      0x02,
      0x6a,
      0x0b,
      0x7e,
      0x00,
      0x42,
      0x01,
      0x42,
      0x02,
      0x7d,
      0x42,
      0x03,
      0x7e,
      0x0b,
      0x7e,
      0x01,
      0x42,
      0x00,
      0x0b,
      0x7f,
      0x01,
      0x41,
      0x00,
      0x0b,
      0x7f,
      0x01,
      0x41,
      0x00,
      0x0b,
    );
    expect(instantiationCost(ext)).toBe(16 * (3 + 5));
  });

  it('charges every element segment 1 + 16 per entry and every data segment 1 + bytes / 16', async () => {
    const segments = `(table $a 4 funcref) (table $b 4 funcref) (memory 1)
      (func $f)
      (elem (i32.const 0) $f $f)
      (elem (table $b) (i32.const 0) func $f)
      (elem func $f $f $f)
      (elem funcref (ref.func $f) (ref.null func))
      (elem (table $b) (i32.const 1) funcref (ref.func $f))
      (data (i32.const 0) "0123456789abcdef0123456789abcdef")
      (data "abc")`;
    const tables = 8 * 8;
    const elems = 33 + 17 + 49 + 33 + 17;
    const data = 3 + 1;
    expect(instantiationCost(await wat(`(module ${segments} ${METERING})`))).toBe(tables + elems + data);
  });

  it('refuses malformed bytes', () => {
    const bad = [
      raw(0x09, 0x02, 0x01, 0x08), // element segment flags 8
      raw(0x0b, 0x02, 0x01, 0x03), // data segment flags 3
      raw(0x06, 0x05, 0x01, 0x7f, 0x00, 0xfc, 0x0b), // unsupported constant instruction
      raw(0x04, 0x10, 0x01), // section past the end
    ];
    for (const bytes of bad) expect(() => instantiationCost(bytes)).toThrow(ModuleFormatError);
  });
});
