// Guest programs (WAT) used by several test files.
import { FD_READ, FD_WRITE, PRINT, PROC_EXIT } from './modules.ts';

export const EXIT_WITH = (code: number) =>
  `(module ${PROC_EXIT} (memory (export "memory") 1) (func (export "_start") (call $proc_exit (i32.const ${code}))))`;

export const INFINITE_LOOP = `(module (memory (export "memory") 1) (func (export "_start") (loop $l (br $l))))`;

/** Counts to N: gas = 2 (entry: i32.const/local.set…) + per-iteration loop cost. */
export const COUNT_TO = (n: number) => `(module (memory (export "memory") 1)
  (func (export "_start") (local $i i32)
    (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const ${n}))))))`;

/** Grows memory one page at a time until it fails, then traps (an allocator abort). */
export const MEMORY_BOMB = `(module (memory (export "memory") 1)
  (func (export "_start")
    (loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    (unreachable)))`;

/** Grows past the cap once, handles the failure and exits 0. */
export const GROW_AND_RECOVER = `(module (memory (export "memory") 1)
  (func (export "_start") (drop (memory.grow (i32.const 100000)))))`;

export const DEEP_RECURSION = `(module (memory (export "memory") 1)
  (func $r (param i32) (result i32) (i32.add (i32.const 1) (call $r (i32.add (local.get 0) (i32.const 1)))))
  (func (export "_start") (drop (call $r (i32.const 0)))))`;

/** Writes 4 KiB blocks to stdout forever. */
export const OUTPUT_FLOOD = `(module ${FD_WRITE} (memory (export "memory") 1)
  ${PRINT}
  (func (export "_start") (loop $l (call $print (i32.const 1024) (i32.const 4096)) (br $l))))`;

/** Writes one byte per fd_write call forever (host-side allocation pressure). */
export const BYTE_FLOOD = `(module ${FD_WRITE} (memory (export "memory") 1)
  ${PRINT}
  (func (export "_start") (loop $l (call $print (i32.const 1024) (i32.const 1)) (br $l))))`;

/** Copies stdin to stdout (JSON identity transform). */
export const ECHO = `(module ${FD_READ} ${FD_WRITE} (memory (export "memory") 1)
  ${PRINT}
  (func (export "_start") (local $n i32)
    (loop $l
      (i32.store (i32.const 16) (i32.const 1024))
      (i32.store (i32.const 20) (i32.const 8192))
      (drop (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 24)))
      (local.set $n (i32.load (i32.const 24)))
      (if (local.get $n) (then (call $print (i32.const 1024) (local.get $n)) (br $l))))))`;

/** CRC-32 (IEEE) of stdin, printed as 8 lowercase hex digits. */
export const CRC32 = `(module ${FD_READ} ${FD_WRITE} (memory (export "memory") 2)
  ${PRINT}
  (func (export "_start") (local $len i32) (local $n i32) (local $crc i32) (local $i i32) (local $k i32) (local $nib i32)
    (loop $read
      (i32.store (i32.const 16) (i32.add (i32.const 1024) (local.get $len)))
      (i32.store (i32.const 20) (i32.const 4096))
      (drop (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 24)))
      (local.set $n (i32.load (i32.const 24)))
      (local.set $len (i32.add (local.get $len) (local.get $n)))
      (br_if $read (local.get $n)))
    (local.set $crc (i32.const -1))
    (block $done (loop $bytes
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (local.set $crc (i32.xor (local.get $crc) (i32.load8_u (i32.add (i32.const 1024) (local.get $i)))))
      (local.set $k (i32.const 0))
      (loop $bits
        (local.set $crc (i32.xor (i32.shr_u (local.get $crc) (i32.const 1))
          (i32.and (i32.const 0xEDB88320) (i32.sub (i32.const 0) (i32.and (local.get $crc) (i32.const 1))))))
        (br_if $bits (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (i32.const 8))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $bytes)))
    (local.set $crc (i32.xor (local.get $crc) (i32.const -1)))
    (local.set $k (i32.const 0))
    (loop $hex
      (local.set $nib (i32.and (i32.shr_u (local.get $crc) (i32.sub (i32.const 28) (i32.shl (local.get $k) (i32.const 2)))) (i32.const 15)))
      (i32.store8 (i32.add (i32.const 512) (local.get $k))
        (select (i32.add (i32.const 48) (local.get $nib)) (i32.add (i32.const 87) (local.get $nib)) (i32.lt_u (local.get $nib) (i32.const 10))))
      (br_if $hex (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (i32.const 8))))
    (call $print (i32.const 512) (i32.const 8))))`;

/** Prints 16 bytes from random_get followed by the 8-byte realtime and monotonic clock readings. */
export const ENTROPY_AND_CLOCKS = `(module ${FD_WRITE}
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  ${PRINT}
  (func (export "_start")
    (drop (call $random_get (i32.const 100) (i32.const 16)))
    (drop (call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 116)))
    (drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 124)))
    (call $print (i32.const 100) (i32.const 32))))`;

/** Tries the outside world and prints one errno byte per attempt, then the env/arg counts. */
export const ESCAPE_ATTEMPTS = `(module ${FD_WRITE}
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_accept" (func $sock_accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $sock_send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_raise" (func $proc_raise (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 300) "/etc/passwd")
  ${PRINT}
  (func (export "_start")
    (i32.store8 (i32.const 100) (call $path_open (i32.const 3) (i32.const 0) (i32.const 300) (i32.const 11) (i32.const 0) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 400)))
    (i32.store8 (i32.const 101) (call $fd_prestat_get (i32.const 3) (i32.const 400)))
    (i32.store8 (i32.const 102) (call $sock_accept (i32.const 3) (i32.const 0) (i32.const 400)))
    (i32.store8 (i32.const 103) (call $sock_send (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 400)))
    (i32.store8 (i32.const 104) (call $proc_raise (i32.const 9)))
    (i32.store8 (i32.const 105) (call $fd_read (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 400)))
    (i32.store (i32.const 408) (i32.const 77))
    (drop (call $environ_sizes_get (i32.const 408) (i32.const 412)))
    (i32.store8 (i32.const 106) (i32.load (i32.const 408)))
    (i32.store (i32.const 408) (i32.const 77))
    (drop (call $args_sizes_get (i32.const 408) (i32.const 412)))
    (i32.store8 (i32.const 107) (i32.load (i32.const 408)))
    (call $print (i32.const 100) (i32.const 8))))`;

export const TRAP = (body: string) => `(module (memory (export "memory") 1)
  (type $v (func))
  (table 1 funcref)
  (func (export "_start") ${body}))`;
