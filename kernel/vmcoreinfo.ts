/**
 * VMCOREINFO: what the host needs to read the kernel's state out of guest
 * memory without the guest's help (Linux kernel/crash_core.c; DESIGN.md §6).
 * A text block of lines, Linux's own vocabulary:
 *
 *   OSRELEASE=0.1.0
 *   PAGESIZE=4096
 *   SYMBOL(log_buf)=ffffffff80612000         a 64-bit virtual address
 *   SIZE(printk_log)=24                       bytes
 *   OFFSET(printk_log.text_len)=10            bytes from the struct's start
 *   NUMBER(NR_CPUS)=64                        a decimal number
 *
 * behind a 16-byte header that lets the host find it in a memory image:
 *
 *   +0  u64 magic 0x4e49_4552_4f43_4d56 ("VMCOREIN", little-endian)
 *   +8  u32 bytes of text that follow   +12 u32 format version (1)
 *   +16 text (NUL-terminated)
 *
 * The header is written with numeric stores, so the magic appears nowhere
 * else in the image. Subsystems append their entries at boot
 * (vmcoreinfo_symbol, _size, _offset, _number); appends take
 * vmcoreinfo_lock, so any CPU may add entries later.
 */
import { vsnprintf, str } from "./lib/vsprintf";
import { vaddr } from "./arch/layout";
import { spinlock_t, SPINLOCK_SIZE, spin_lock_irqsave, spin_unlock_irqrestore } from "./locking/spinlock";

export const VMCOREINFO_BYTES: i32 = 4096;
export const VMCOREINFO_HEADER: i32 = 16;
export const VMCOREINFO_MAGIC: u64 = 0x4e49_4552_4f43_4d56;

export const vmcoreinfo_note: usize = memory.data(VMCOREINFO_BYTES, 16);
const vmcoreinfo_lock = changetype<spinlock_t>(memory.data(SPINLOCK_SIZE, 16));

function used(): i32 { return <i32>load<u32>(vmcoreinfo_note, 8); }

/**
 * Append one formatted line (the caller gives the trailing newline). Returns
 * false when the block is full (the line is dropped whole). Context: any.
 */
export function vmcoreinfo_append(fmt: string, a0: u64 = 0, a1: u64 = 0, a2: u64 = 0): bool {
  const flags = spin_lock_irqsave(vmcoreinfo_lock);
  if (load<u64>(vmcoreinfo_note) != VMCOREINFO_MAGIC) {
    store<u64>(vmcoreinfo_note, VMCOREINFO_MAGIC);
    store<u32>(vmcoreinfo_note, 0, 8);
    store<u32>(vmcoreinfo_note, 1, 12);
  }
  const at = used();
  const room = VMCOREINFO_BYTES - VMCOREINFO_HEADER - at;
  const p = vmcoreinfo_note + <usize>(VMCOREINFO_HEADER + at);
  const n = vsnprintf(p, room, fmt, a0, a1, a2);
  const ok = n < room;
  if (ok) store<u32>(vmcoreinfo_note, <u32>(at + n), 8);
  else store<u8>(p, 0);
  spin_unlock_irqrestore(vmcoreinfo_lock, flags);
  return ok;
}

export function vmcoreinfo_symbol(name: string, p: usize): bool { return vmcoreinfo_append("SYMBOL(%s)=%lx\n", str(name), vaddr(p)); }
export function vmcoreinfo_size(name: string, size: usize): bool { return vmcoreinfo_append("SIZE(%s)=%lu\n", str(name), size); }
export function vmcoreinfo_offset(name: string, off: usize): bool { return vmcoreinfo_append("OFFSET(%s)=%lu\n", str(name), off); }
export function vmcoreinfo_number(name: string, v: i64): bool { return vmcoreinfo_append("NUMBER(%s)=%ld\n", str(name), v); }
export function vmcoreinfo_string(name: string, v: string): bool { return vmcoreinfo_append("%s=%s\n", str(name), str(v)); }
