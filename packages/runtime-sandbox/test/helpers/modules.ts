// WAT building blocks shared by the tests.
import { instrumentModule } from '../../src/internal/instrument.ts';
import { preview1ImportPolicy } from '../../src/internal/sandbox.ts';
import { wat } from './wat.ts';

export const FD_WRITE = `(import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))`;
export const FD_READ = `(import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))`;
export const PROC_EXIT = `(import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))`;

/** `$print(ptr, len)` writes memory[ptr..ptr+len) to stdout using the iovec at 0 and nwritten at 8. */
export const PRINT = `(func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))`;

/** Instruments and compiles in-process (for runGuest tests that need no worker). */
export async function compiled(source: string, maxMemoryPages = 16): Promise<WebAssembly.Module> {
  const inst = instrumentModule(await wat(source), {
    maxMemoryPages,
    maxTableElements: 1000,
    importPolicy: preview1ImportPolicy,
  });
  return new WebAssembly.Module(inst.bytes);
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
