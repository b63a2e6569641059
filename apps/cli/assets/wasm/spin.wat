;; WASI preview1 command that never terminates (gas exhaustion).
(module
  (memory (export "memory") 1)
  (func (export "_start") (loop $l (br $l))))
