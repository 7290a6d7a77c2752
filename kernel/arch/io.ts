/**
 * Device register access (Linux asm/mmio.h): readl / writel and friends on
 * kernel pointers from early_ioremap. Plain loads and stores, which the
 * toolchain emits as single lw / sw (never merged or split); writel is
 * preceded by a fence so that earlier memory writes reach memory before a
 * device sees the register write (Linux's __io_bw). Context: any.
 */
import { fence } from "./riscv";

// @ts-ignore: decorator
@inline export function readb(p: usize): u8 { return load<u8>(p); }
// @ts-ignore: decorator
@inline export function readl(p: usize): u32 { return load<u32>(p); }
// @ts-ignore: decorator
@inline export function writeb(v: u8, p: usize): void { fence(); store<u8>(p, v); }
// @ts-ignore: decorator
@inline export function writel(v: u32, p: usize): void { fence(); store<u32>(p, v); }
/** Without the fence: for a run of register writes after one ordering point. */
// @ts-ignore: decorator
@inline export function writel_relaxed(v: u32, p: usize): void { store<u32>(p, v); }
