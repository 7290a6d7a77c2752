;; Regression (generated seed 10, f27, reduced by hand): a narrow cmpxchg (rmw8/rmw16.cmpxchg_u,
;; done with a masked LR/SC loop) while 9 i32 locals are live. The translator fails with
;; "out of registers: too many values live at once (internal error)" from 8 live locals up.
(module
  (memory (export "memory") 32833)
  (data (i32.const 0x80400000) "\10\32\54\76\98\ba\dc\fe\01\23\45\67\89\ab\cd\ef")
  (func (export "main") (result i64)
    (local $p i32) (local $a i32) (local $b i32) (local $c i32) (local $d i32)
    (local $e i32) (local $f i32) (local $g i32) (local $h i32) (local $old i32)
    (local.set $p (i32.const 0x80400000))
    (local.set $a (i32.load offset=0 (local.get $p)))
    (local.set $b (i32.load offset=4 (local.get $p)))
    (local.set $c (i32.load offset=8 (local.get $p)))
    (local.set $d (i32.load offset=12 (local.get $p)))
    (local.set $e (i32.add (local.get $a) (local.get $b)))
    (local.set $f (i32.add (local.get $c) (local.get $d)))
    (local.set $g (i32.xor (local.get $a) (local.get $d)))
    (local.set $h (i32.sub (local.get $b) (local.get $c)))
    (local.set $old (i32.atomic.rmw16.cmpxchg_u offset=2 (local.get $p) (i32.const 0x7654) (local.get $h)))
    (local.set $old (i32.add (local.get $old) (i32.atomic.rmw8.cmpxchg_u offset=9 (local.get $p) (i32.const 0x23) (local.get $g))))
    (i64.add
      (i64.load (local.get $p))
      (i64.extend_i32_u
        (i32.add (local.get $old)
          (i32.add (i32.add (i32.add (local.get $a) (local.get $b)) (i32.add (local.get $c) (local.get $d)))
                   (i32.add (i32.add (local.get $e) (local.get $f)) (i32.add (local.get $g) (local.get $h)))))))))
