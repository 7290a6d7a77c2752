;; Hand-written WebAssembly for what AssemblyScript cannot express or does not emit:
;; call_indirect signature mismatch / null slot / index past the table, i64 narrow atomics,
;; atomic.fence, typed select, br_table carrying a value, branches out of deep nesting,
;; loops with results, dead code after br, i64.extend_i32_u of negative values.
;; The harness compiles it with binaryen (parseText, no optimisation). Data at 0x8040_0000.
(module
  (type $i_i (func (param i32) (result i32)))
  (type $l_l (func (param i64) (result i64)))
  (type $v_i (func (result i32)))
  (memory (export "memory") 32833)
  (data (i32.const 0x80400000) "\01\02\03\04\05\06\07\08\f9\fa\fb\fc\fd\fe\ff\80")
  (global $g (mut i64) (i64.const 0x0123456789abcdef))
  (table 8 8 funcref)
  (elem (i32.const 0) $inc $dbl $neg64 $seven)

  (func $inc (type $i_i) (i32.add (local.get 0) (i32.const 1)))
  (func $dbl (type $i_i) (i32.shl (local.get 0) (i32.const 1)))
  (func $neg64 (type $l_l) (i64.sub (i64.const 0) (local.get 0)))
  (func $seven (type $v_i) (i32.const 7))

  ;; right signatures through the table
  (func (export "indirect_ok") (result i64)
    (i64.add
      (i64.extend_i32_u (call_indirect (type $i_i) (i32.const 40) (i32.const 0)))
      (i64.add
        (i64.extend_i32_u (call_indirect (type $i_i) (i32.const 40) (i32.const 1)))
        (i64.add (call_indirect (type $l_l) (i64.const 5) (i32.const 2))
                 (i64.extend_i32_s (call_indirect (type $v_i) (i32.const 3)))))))
  ;; $neg64 called as (i32) -> i32: signature mismatch, a wasm trap
  (func (export "indirect_mismatch") (result i32)
    (call_indirect (type $i_i) (i32.const 1) (i32.const 2)))
  ;; a null slot of the table
  (func (export "indirect_null") (result i32)
    (call_indirect (type $v_i) (i32.const 5)))
  ;; an index past the table
  (func (export "indirect_out_of_range") (result i32)
    (call_indirect (type $v_i) (i32.const 8)))
  (func (export "indirect_huge_index") (result i32)
    (call_indirect (type $v_i) (i32.const -1)))

  ;; i64 narrow atomics and fences
  (func (export "atomics64_narrow") (result i64)
    (local $p i32) (local $acc i64)
    (local.set $p (i32.const 0x80400100))
    (i64.store (local.get $p) (i64.const 0xf0e1d2c3b4a59687))
    (local.set $acc (i64.atomic.rmw8.add_u (local.get $p) (i64.const 0x1ff)))
    (local.set $acc (i64.xor (local.get $acc) (i64.atomic.rmw16.sub_u offset=2 (local.get $p) (i64.const 0x12345))))
    (local.set $acc (i64.add (local.get $acc) (i64.atomic.rmw32.and_u offset=4 (local.get $p) (i64.const 0xff00ff00ff))))
    (local.set $acc (i64.mul (local.get $acc) (i64.atomic.rmw32.or_u (local.get $p) (i64.const 0x80000001))))
    (local.set $acc (i64.sub (local.get $acc) (i64.atomic.rmw16.xor_u offset=6 (local.get $p) (i64.const -1))))
    (local.set $acc (i64.add (local.get $acc) (i64.atomic.rmw8.xchg_u offset=3 (local.get $p) (i64.const 0x5a5a))))
    (local.set $acc (i64.add (local.get $acc) (i64.atomic.rmw32.cmpxchg_u offset=4 (local.get $p)
      (i64.atomic.load32_u offset=4 (local.get $p)) (i64.const 0xfffffffff))))
    (local.set $acc (i64.add (local.get $acc) (i64.atomic.rmw16.cmpxchg_u (local.get $p) (i64.const 0) (i64.const 1))))
    (atomic.fence)
    (i64.atomic.store32 offset=8 (local.get $p) (i64.const -2))
    (i64.atomic.store16 offset=12 (local.get $p) (i64.const -3))
    (i64.atomic.store8 offset=14 (local.get $p) (i64.const 0x1234))
    (i32.atomic.store8 offset=15 (local.get $p) (i32.atomic.load8_u offset=9 (local.get $p)))
    (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (i32.atomic.load16_u offset=10 (local.get $p)))))
    (atomic.fence)
    (i64.add (local.get $acc)
      (i64.add (i64.load (local.get $p)) (i64.atomic.load offset=8 (local.get $p)))))
  ;; an unaligned atomic access traps in wasm, whatever the operation and width
  (func (export "atomic_unaligned") (result i32)
    (i32.atomic.rmw.add (i32.const 0x80400102) (i32.const 1)))
  (func (export "atomic_unaligned_load") (result i32)
    (i32.atomic.load (i32.const 0x80400101)))
  (func (export "atomic_unaligned_store") (result i32)
    (i64.atomic.store (i32.const 0x80400104) (i64.const -1))
    (i32.const 0))
  (func (export "atomic_unaligned_cmpxchg") (result i32)
    (i32.atomic.rmw.cmpxchg (i32.const 0x80400106) (i32.const 0) (i32.const 1)))
  (func (export "atomic_unaligned_rmw16") (result i32)
    (i32.atomic.rmw16.add_u (i32.const 0x80400103) (i32.const 1)))
  (func (export "atomic_unaligned_offset") (result i64)
    (i64.atomic.rmw.xchg offset=4 (i32.const 0x80400100) (i64.const 5)))

  ;; typed select, br_table with a value, branches out of several levels, loop with a result
  (func $bt (param $x i32) (result i64)
    (block $a (result i64)
      (block $b (result i64)
        (block $c (result i64)
          (br_table $c $b $a $b $c (i64.extend_i32_s (local.get $x)) (local.get $x)))
        (i64.mul (i64.const 3)))
      (i64.add (i64.const 1000))))
  (func (export "structured") (result i64)
    (local $i i32) (local $s i64)
    (local.set $s (i64.add (call $bt (i32.const 0)) (call $bt (i32.const 1))))
    (local.set $s (i64.add (local.get $s) (i64.add (call $bt (i32.const 2)) (call $bt (i32.const 3)))))
    (local.set $s (i64.add (local.get $s) (i64.add (call $bt (i32.const 4)) (call $bt (i32.const -7)))))
    (local.set $s (i64.add (local.get $s)
      (select (result i64) (i64.const 11) (i64.const 22) (i32.wrap_i64 (local.get $s)))))
    (local.set $s (i64.add (local.get $s) (select (i64.const 1) (i64.const 2) (i32.const 0))))
    ;; a loop that yields a value, counting with br_if back to its start
    (local.set $s (i64.add (local.get $s)
      (loop $l (result i64)
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 10)))
        (i64.extend_i32_u (local.get $i)))))
    ;; dead code after an unconditional branch, then a branch out of 5 levels with a value
    (local.set $s (i64.add (local.get $s)
      (block $out (result i64)
        (block (block (block (block
          (br_if $out (i64.const 77) (i32.eqz (local.get $i)))
          (br $out (i64.const 99))
          (drop (i32.div_s (i32.const 1) (i32.const 0)))
          (unreachable))))) (i64.const 5))))
    ;; i64.extend_i32_u and extend32_s of negative values, nop, drop, tee
    (nop)
    (drop (i64.const 12345))
    (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (local.tee $i (i32.const -5)))))
    (local.set $s (i64.xor (local.get $s) (i64.extend32_s (i64.const 0x80000000))))
    (local.set $s (i64.xor (local.get $s) (i64.extend8_s (i64.const 0x1ff))))
    (local.set $s (i64.xor (local.get $s) (i64.extend16_s (i64.const 0x18000))))
    (global.set $g (i64.rotl (global.get $g) (local.get $s)))
    (i64.add (local.get $s) (global.get $g)))

  ;; 40 nested blocks, left by br_table to several depths (flat syntax)
  (func (export "deep_blocks") (result i64)
    (local $r i64) (local $k i32)
    loop $again
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
      block
        local.get $k
        br_table 39 30 20 10 5 0 1
      end
      local.get $r
      i64.const 1
      i64.add
      local.set $r
      end
      local.get $r
      i64.const 2
      i64.add
      local.set $r
      end
      end
      end
      end
      local.get $r
      i64.const 4
      i64.add
      local.set $r
      end
      end
      end
      end
      end
      local.get $r
      i64.const 8
      i64.add
      local.set $r
      end
      end
      end
      end
      end
      end
      end
      end
      end
      end
      local.get $r
      i64.const 3
      i64.mul
      local.set $r
      end
      end
      end
      end
      end
      end
      end
      end
      end
      end
      local.get $r
      i64.const 100
      i64.add
      local.set $r
      end
      end
      end
      end
      end
      end
      end
      end
      end
      local.get $r
      i64.const 1000
      i64.add
      local.set $r
      local.get $k
      i32.const 1
      i32.add
      local.tee $k
      i32.const 8
      i32.lt_u
      br_if $again
    end
    local.get $r
  )

  ;; memory.copy / fill with overlaps at the data
  (func (export "bulk_overlap") (result i64)
    (memory.copy (i32.const 0x80400003) (i32.const 0x80400000) (i32.const 13))
    (memory.copy (i32.const 0x80400020) (i32.const 0x80400001) (i32.const 15))
    (memory.copy (i32.const 0x80400021) (i32.const 0x80400023) (i32.const 12))
    (memory.fill (i32.const 0x80400040) (i32.const 0xab) (i32.const 33))
    (memory.fill (i32.const 0x80400070) (i32.const -1) (i32.const 0))
    (i64.xor (i64.load (i32.const 0x80400000))
      (i64.xor (i64.load (i32.const 0x80400020)) (i64.load offset=0x48 (i32.const 0x80400000)))))
)
