/**
 * Runtime routines in assembly, emitted once per translation when used.
 *
 *   __rt_memmove(a0 dst, a1 src, a2 n)   memory.copy / memory.init: overlap-correct
 *   __rt_memset(a0 dst, a1 byte, a2 n)   memory.fill
 *       standard calling convention; 32 and 8 bytes at a time when dst and
 *       src share their alignment mod 8, bytes otherwise
 *
 *   __rt_clz32/64, __rt_ctz32/64, __rt_popcnt32/64
 *       own convention, so that leaf functions stay leaves: argument and
 *       result in t5, return address in t6 (`jal t6, __rt_clz64`), clobber
 *       t3 and t4 only
 */

const MEMMOVE = `
__rt_memmove:
	beqz a2, 9f
	sub t0, a0, a1
	bgeu t0, a2, 20f            # dst - src >= n (unsigned): copying forwards is safe
	# backwards, from the end
	add a0, a0, a2
	add a1, a1, a2
	xor t0, a0, a1
	andi t0, t0, 7
	bnez t0, 15f
1:	andi t0, a0, 7
	beqz t0, 2f
	beqz a2, 9f
	addi a0, a0, -1
	addi a1, a1, -1
	lbu t1, 0(a1)
	sb t1, 0(a0)
	addi a2, a2, -1
	j 1b
2:	andi t3, a2, -8
	sub t3, a0, t3              # where the dword part ends
	andi a2, a2, 7
	beq a0, t3, 15f
3:	addi a0, a0, -8
	addi a1, a1, -8
	ld t1, 0(a1)
	sd t1, 0(a0)
	bne a0, t3, 3b
15:	beqz a2, 9f
	addi a0, a0, -1
	addi a1, a1, -1
	lbu t1, 0(a1)
	sb t1, 0(a0)
	addi a2, a2, -1
	j 15b
	# forwards
20:	xor t0, a0, a1
	andi t0, t0, 7
	bnez t0, 25f
21:	andi t0, a0, 7
	beqz t0, 22f
	beqz a2, 9f
	lbu t1, 0(a1)
	sb t1, 0(a0)
	addi a0, a0, 1
	addi a1, a1, 1
	addi a2, a2, -1
	j 21b
22:	andi t3, a2, -32
	add t3, a0, t3              # end of the 32-byte blocks
	andi a2, a2, 31
	beq a0, t3, 24f
23:	ld t1, 0(a1)
	ld t2, 8(a1)
	ld t4, 16(a1)
	ld t5, 24(a1)
	sd t1, 0(a0)
	sd t2, 8(a0)
	sd t4, 16(a0)
	sd t5, 24(a0)
	addi a0, a0, 32
	addi a1, a1, 32
	bne a0, t3, 23b
24:	andi t3, a2, -8
	add t3, a0, t3
	andi a2, a2, 7
	beq a0, t3, 25f
26:	ld t1, 0(a1)
	sd t1, 0(a0)
	addi a0, a0, 8
	addi a1, a1, 8
	bne a0, t3, 26b
25:	beqz a2, 9f
	add t3, a0, a2
27:	lbu t1, 0(a1)
	sb t1, 0(a0)
	addi a0, a0, 1
	addi a1, a1, 1
	bne a0, t3, 27b
9:	ret
`;

const MEMSET = `
__rt_memset:
	andi a1, a1, 255
	beqz a2, 9f
	slli t0, a1, 8              # the byte in all eight lanes
	or t1, a1, t0
	slli t0, t1, 16
	or t1, t1, t0
	slli t0, t1, 32
	or t1, t1, t0
1:	andi t0, a0, 7
	beqz t0, 2f
	sb a1, 0(a0)
	addi a0, a0, 1
	addi a2, a2, -1
	bnez a2, 1b
	ret
2:	andi t3, a2, -32
	add t3, a0, t3
	andi a2, a2, 31
	beq a0, t3, 4f
3:	sd t1, 0(a0)
	sd t1, 8(a0)
	sd t1, 16(a0)
	sd t1, 24(a0)
	addi a0, a0, 32
	bne a0, t3, 3b
4:	andi t3, a2, -8
	add t3, a0, t3
	andi a2, a2, 7
	beq a0, t3, 6f
5:	sd t1, 0(a0)
	addi a0, a0, 8
	bne a0, t3, 5b
6:	beqz a2, 9f
	add t3, a0, a2
7:	sb a1, 0(a0)
	addi a0, a0, 1
	bne a0, t3, 7b
9:	ret
`;

/** Binary search: six halvings for 64 bits. */
const CLZ = `
__rt_clz32:
	slli t5, t5, 32
	li t3, 32
	beqz t5, .Lrt_clz_done
	li t3, 0
	j .Lrt_clz_16
__rt_clz64:
	li t3, 64
	beqz t5, .Lrt_clz_done
	li t3, 0
	srli t4, t5, 32
	bnez t4, .Lrt_clz_16
	slli t5, t5, 32
	addi t3, t3, 32
.Lrt_clz_16:
	srli t4, t5, 48
	bnez t4, 1f
	slli t5, t5, 16
	addi t3, t3, 16
1:	srli t4, t5, 56
	bnez t4, 1f
	slli t5, t5, 8
	addi t3, t3, 8
1:	srli t4, t5, 60
	bnez t4, 1f
	slli t5, t5, 4
	addi t3, t3, 4
1:	srli t4, t5, 62
	bnez t4, 1f
	slli t5, t5, 2
	addi t3, t3, 2
1:	bltz t5, .Lrt_clz_done
	addi t3, t3, 1
.Lrt_clz_done:
	mv t5, t3
	jr t6
`;

const CTZ = `
__rt_ctz32:
	li t4, 1
	slli t4, t4, 32
	or t5, t5, t4               # bit 32 set: the answer is at most 32
	j 0f
__rt_ctz64:
	li t3, 64
	beqz t5, .Lrt_ctz_done
0:	li t3, 0
	slli t4, t5, 32
	bnez t4, 1f
	srli t5, t5, 32
	addi t3, t3, 32
1:	slli t4, t5, 48
	bnez t4, 1f
	srli t5, t5, 16
	addi t3, t3, 16
1:	slli t4, t5, 56
	bnez t4, 1f
	srli t5, t5, 8
	addi t3, t3, 8
1:	slli t4, t5, 60
	bnez t4, 1f
	srli t5, t5, 4
	addi t3, t3, 4
1:	slli t4, t5, 62
	bnez t4, 1f
	srli t5, t5, 2
	addi t3, t3, 2
1:	andi t4, t5, 1
	bnez t4, .Lrt_ctz_done
	addi t3, t3, 1
.Lrt_ctz_done:
	mv t5, t3
	jr t6
`;

/** SWAR population count (Hacker's Delight 5-2). */
const POPCNT = `
__rt_popcnt32:
	slli t5, t5, 32
	srli t5, t5, 32
__rt_popcnt64:
	li t3, 0x5555555555555555
	srli t4, t5, 1
	and t4, t4, t3
	sub t5, t5, t4
	li t3, 0x3333333333333333
	srli t4, t5, 2
	and t4, t4, t3
	and t5, t5, t3
	add t5, t5, t4
	srli t4, t5, 4
	add t5, t5, t4
	li t3, 0x0f0f0f0f0f0f0f0f
	and t5, t5, t3
	li t3, 0x0101010101010101
	mul t5, t5, t3
	srli t5, t5, 56
	jr t6
`;

const ROUTINES: ReadonlyArray<[string[], string]> = [
  [['__rt_memmove'], MEMMOVE],
  [['__rt_memset'], MEMSET],
  [['__rt_clz32', '__rt_clz64'], CLZ],
  [['__rt_ctz32', '__rt_ctz64'], CTZ],
  [['__rt_popcnt32', '__rt_popcnt64'], POPCNT],
];

/** The assembly of every routine named in `used`. */
export function runtimeText(used: ReadonlySet<string>): string {
  return ROUTINES.filter(([names]) => names.some((n) => used.has(n))).map(([, text]) => text).join('');
}

/** Whether a symbol is one of the runtime routines. */
export function isRuntimeSymbol(name: string): boolean {
  return ROUTINES.some(([names]) => names.includes(name));
}
