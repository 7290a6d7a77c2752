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
 * else in the image. A line that does not fit is dropped whole, with one
 * warning on the console ("vmcoreinfo: the 8192-byte block is full"): the
 * host reads at most VMCOREINFO_BYTES too (emulator/inspect/vmcoreinfo.ts),
 * so the two sizes change together. Subsystems append their entries at boot
 * (vmcoreinfo_symbol, _size, _offset, _number); appends take
 * vmcoreinfo_lock, so any CPU may add entries later.
 *
 * Finding it: the global vmcoreinfo_data (ELF symbol
 * kernel/vmcoreinfo/vmcoreinfo_data, as Linux's `vmcoreinfo_data`) holds
 * the header's kernel address (a linear-map pointer: its low 32 bits are the
 * physical address); it is set with the header, by the first append.
 *
 * The memory-management entries (Linux puts them in crash_save_vmcoreinfo_init
 * of kernel/crash_core.c too) are appended right after the first entry, for
 * emulator/inspect/buddyinfo.ts. Zones and free areas are two flat arrays
 * here, not Linux's zone.free_area[] inside struct zone:
 *
 *   SYMBOL(node_zones)            NODE_DATA(nid)->node_zones[zid] at
 *                                 + (nid · MAX_NR_ZONES + zid) · SIZE(zone)
 *   SIZE(zone), OFFSET(zone.name) (a pointer to an AssemblyScript string:
 *                                 UTF-16LE, byte length in the u32 before it),
 *   OFFSET(zone.present_pages)    (populated_zone: present ≠ 0)
 *   SYMBOL(free_area)             zone (nid, zid)'s free_area[order] at
 *                                 + ((nid · MAX_NR_ZONES + zid) · LENGTH(zone.free_area)
 *                                    + order) · SIZE(free_area)
 *   SIZE(free_area), OFFSET(free_area.nr_free) (u64 blocks),
 *   LENGTH(zone.free_area)        MAX_ORDER (Linux's own entry)
 *   NUMBER(MAX_NR_ZONES), NUMBER(MAX_NUMNODES),
 *   NUMBER(nr_online_nodes)       a constant here (nodes 0 … n − 1 have memory)
 *
 * For /proc/zoneinfo and /proc/meminfo (emulator/inspect/zoneinfo.ts,
 * meminfo.ts; kernel/mm/vmstat.ts prints them), more of struct zone, all u64
 * (page counts unless named otherwise):
 *
 *   OFFSET(zone.free_pages)       NR_FREE_PAGES: the buddy lists only
 *   OFFSET(zone.zone_start_pfn), OFFSET(zone.spanned_pages), OFFSET(zone.managed_pages)
 *   OFFSET(zone.watermark)        _watermark[WMARK_MIN, WMARK_LOW, WMARK_HIGH],
 *                                 LENGTH(zone.watermark) u64s in a row
 *   OFFSET(zone.lowmem_reserve)   lowmem_reserve[0 … LENGTH(zone.lowmem_reserve) − 1], in a row
 *   NUMBER(ZONE_HIGHMEM)          the zone index meminfo's High* lines sum
 *   MemTotal is Σ managed_pages over every zone of the online nodes (page_alloc.ts
 *   sets totalram_pages so, once, at memblock_free_all), HighTotal the same
 *   over the ZONE_HIGHMEM zones.
 *
 * The zones' per-CPU page lists (struct per_cpu_pages, mm/mmzone.ts) live in
 * per-CPU memory: zone (nid, zid)'s of CPU `cpu` is at
 *
 *   SYMBOL(pcp_pages) + cpu_hot[cpu].percpu_offset + (nid · MAX_NR_ZONES + zid) · SIZE(per_cpu_pages)
 *
 *   SYMBOL(pcp_pages)             the array's per-CPU pointer (unit 0), appended by
 *                                 vmcoreinfo_mm_late once zone_init placed it
 *   SIZE(per_cpu_pages), OFFSET(per_cpu_pages.count|high|batch) (u32 each)
 *   OFFSET(cpu_hot.percpu_offset) (u32, a usize: __per_cpu_offset[cpu]; the blocks
 *                                 are SYMBOL(cpu_hot_area) + cpu · SIZE(cpu_hot))
 *   SYMBOL(cpu_online_mask)       (u64 bitmap, init/main.ts publishes it) says which
 *                                 CPUs zoneinfo lists
 *
 * For /proc/vmallocinfo (emulator/inspect/vmallocinfo.ts; mm/vmalloc.ts):
 * Linux's SYMBOL(vmap_area_list), a list_head (lib/list.ts: u32 next, u32
 * prev, linear-map pointers), whose entries are struct vm_struct (its
 * vmap_area folded in) linked at OFFSET(vmap_area.list) = 0, in address order:
 *
 *   OFFSET(vm_struct.addr|size|phys_addr|caller) u64 (addr and caller are
 *                                 CPU addresses, size counts the guard page)
 *   OFFSET(vm_struct.flags|nr_pages) u32; NUMBER(VM_IOREMAP|VM_ALLOC|VM_MAP) the flag bits
 *
 * The kernel's page tables: SYMBOL(swapper_pg_dir), the root table's kernel
 * (linear-map) address, appended by arch/pgtable.ts paging_init once it has
 * built the table (Linux has the symbol statically; here it comes from
 * bootmem). The log: SYMBOL(log_buf) and friends, see printk.ts
 * log_buf_vmcoreinfo_setup.
 */
import { vsnprintf, str } from "./lib/vsprintf";
import { pr_warn } from "./printk";
import { vaddr } from "./arch/layout";
import { spinlock_t, SPINLOCK_SIZE, spin_lock_irqsave, spin_unlock_irqrestore } from "./locking/spinlock";

export const VMCOREINFO_BYTES: i32 = 8192;
export const VMCOREINFO_HEADER: i32 = 16;
export const VMCOREINFO_MAGIC: u64 = 0x4e49_4552_4f43_4d56;

export const vmcoreinfo_note: usize = memory.data(VMCOREINFO_BYTES, 16);
const vmcoreinfo_lock = changetype<spinlock_t>(memory.data(SPINLOCK_SIZE, 16));
/** The header's kernel virtual address, for the host (Linux's vmcoreinfo_data); 0 until the first append. */
export let vmcoreinfo_data: u64 = 0;
let mm_published: bool = false;
let vmcoreinfo_full_warned: bool = false;

function used(): i32 { return <i32>load<u32>(vmcoreinfo_note, 8); }

/**
 * Append one formatted line (the caller gives the trailing newline). Returns
 * false when the block is full (the line is dropped whole). Context: any.
 */
export function vmcoreinfo_append(fmt: string, a0: u64 = 0, a1: u64 = 0, a2: u64 = 0): bool {
  const flags = spin_lock_irqsave(vmcoreinfo_lock);
  // The first append writes the header (keyed on vmcoreinfo_data: a global
  // that is never read would be optimized away, and with it its ELF symbol).
  if (vmcoreinfo_data == 0) {
    store<u64>(vmcoreinfo_note, VMCOREINFO_MAGIC);
    store<u32>(vmcoreinfo_note, 0, 8);
    store<u32>(vmcoreinfo_note, 1, 12);
    vmcoreinfo_data = vaddr(vmcoreinfo_note);
  }
  const at = used();
  const room = VMCOREINFO_BYTES - VMCOREINFO_HEADER - at;
  const p = vmcoreinfo_note + <usize>(VMCOREINFO_HEADER + at);
  const n = vsnprintf(p, room, fmt, a0, a1, a2);
  const ok = n < room;
  if (ok) store<u32>(vmcoreinfo_note, <u32>(at + n), 8);
  else store<u8>(p, 0);
  spin_unlock_irqrestore(vmcoreinfo_lock, flags);
  // A dropped entry would only show as "VMCOREINFO has no …" on the host: say it here, once.
  if (!ok && !vmcoreinfo_full_warned) {
    vmcoreinfo_full_warned = true;
    pr_warn("vmcoreinfo: the %d-byte block is full: an entry was dropped (raise VMCOREINFO_BYTES here and on the host)\n", VMCOREINFO_BYTES);
  }
  if (!mm_published) {
    mm_published = true;
    vmcoreinfo_mm_setup();
  }
  return ok;
}

/**
 * The zone and free-area layout (see the header comment). Static addresses
 * and sizes only, so it may run before the zones are set up. Zone (0, 0) has
 * node 0 and index 0 whether or not zone_init ran, so free_area_of(it, 0) is
 * the start of the free-area array.
 */
function vmcoreinfo_mm_setup(): void {
  const z0 = node_zone(0, 0);
  vmcoreinfo_symbol("node_zones", changetype<usize>(z0));
  vmcoreinfo_size("zone", ZONE_STRIDE);
  vmcoreinfo_offset("zone.name", offsetof<zone>("name"));
  vmcoreinfo_offset("zone.present_pages", offsetof<zone>("present_pages"));
  vmcoreinfo_symbol("free_area", free_area_of(z0, 0));
  vmcoreinfo_size("free_area", FREE_AREA_SIZE);
  vmcoreinfo_offset("free_area.nr_free", LIST_HEAD_SIZE);
  vmcoreinfo_append("LENGTH(zone.free_area)=%lu\n", MAX_ORDER);
  vmcoreinfo_number("MAX_NR_ZONES", MAX_NR_ZONES);
  vmcoreinfo_number("MAX_NUMNODES", MAX_NUMNODES);
  vmcoreinfo_number("nr_online_nodes", nr_online_nodes);
  vmcoreinfo_offset("zone.free_pages", offsetof<zone>("free_pages"));
  vmcoreinfo_offset("zone.zone_start_pfn", offsetof<zone>("zone_start_pfn"));
  vmcoreinfo_offset("zone.spanned_pages", offsetof<zone>("spanned_pages"));
  vmcoreinfo_offset("zone.managed_pages", offsetof<zone>("managed_pages"));
  vmcoreinfo_offset("zone.watermark", offsetof<zone>("wmark_min"));
  vmcoreinfo_append("LENGTH(zone.watermark)=%lu\n", 3);
  vmcoreinfo_offset("zone.lowmem_reserve", offsetof<zone>("lowmem_reserve0"));
  vmcoreinfo_append("LENGTH(zone.lowmem_reserve)=%lu\n", MAX_NR_ZONES);
  vmcoreinfo_number("ZONE_HIGHMEM", ZONE_HIGHMEM);
  vmcoreinfo_size("per_cpu_pages", PCP_SIZE);
  vmcoreinfo_offset("per_cpu_pages.count", PCP_COUNT);
  vmcoreinfo_offset("per_cpu_pages.high", PCP_HIGH);
  vmcoreinfo_offset("per_cpu_pages.batch", PCP_BATCH);
  vmcoreinfo_offset("cpu_hot.percpu_offset", offsetof<cpu_hot>("percpu_offset"));
  vmcoreinfo_symbol("vmap_area_list", vmap_area_list);
  vmcoreinfo_offset("vmap_area.list", 0);
  vmcoreinfo_offset("vm_struct.addr", offsetof<vm_struct>("addr"));
  vmcoreinfo_offset("vm_struct.size", offsetof<vm_struct>("size"));
  vmcoreinfo_offset("vm_struct.phys_addr", offsetof<vm_struct>("phys_addr"));
  vmcoreinfo_offset("vm_struct.caller", offsetof<vm_struct>("caller"));
  vmcoreinfo_offset("vm_struct.flags", offsetof<vm_struct>("flags"));
  vmcoreinfo_offset("vm_struct.nr_pages", offsetof<vm_struct>("nr_pages"));
  vmcoreinfo_number("VM_IOREMAP", VM_IOREMAP);
  vmcoreinfo_number("VM_ALLOC", VM_ALLOC);
  vmcoreinfo_number("VM_MAP", VM_MAP);
}

/**
 * The entries that need the zones set up (see the header comment): the
 * per-CPU pointer of the zones' per_cpu_pages. Context: boot CPU, after
 * mm_init (mm/vmalloc.ts vmalloc_init calls it); once.
 */
export function vmcoreinfo_mm_late(): void {
  vmcoreinfo_symbol("pcp_pages", pcp_of(node_zone(0, 0), 0) - __per_cpu_offset(0));
}

export function vmcoreinfo_symbol(name: string, p: usize): bool { return vmcoreinfo_append("SYMBOL(%s)=%lx\n", str(name), vaddr(p)); }
export function vmcoreinfo_size(name: string, size: usize): bool { return vmcoreinfo_append("SIZE(%s)=%lu\n", str(name), size); }
export function vmcoreinfo_offset(name: string, off: usize): bool { return vmcoreinfo_append("OFFSET(%s)=%lu\n", str(name), off); }
export function vmcoreinfo_number(name: string, v: i64): bool { return vmcoreinfo_append("NUMBER(%s)=%ld\n", str(name), v); }
export function vmcoreinfo_string(name: string, v: string): bool { return vmcoreinfo_append("%s=%s\n", str(name), str(v)); }

// mm/vmalloc.ts before mm/mmzone.ts: AssemblyScript compiles a file's
// imports depth-first, and this file is reached early (through printk.ts);
// the memory-management files use each other's constants at top level, so
// they must be entered where the rest of the kernel enters them (vmalloc.ts,
// see drivers/kmemlab_dma.ts), not at mmzone.ts, or a constant is "used
// before its declaration".
import { vfree as _enter_mm_at_vmalloc, vm_struct, vmap_area_list, VM_IOREMAP, VM_ALLOC, VM_MAP } from "./mm/vmalloc";
import { zone, node_zone, free_area_of, pcp_of, MAX_ORDER, MAX_NUMNODES, FREE_AREA_SIZE, ZONE_STRIDE, nr_online_nodes,
  PCP_SIZE, PCP_COUNT, PCP_HIGH, PCP_BATCH } from "./mm/mmzone";
import { __per_cpu_offset } from "./mm/percpu";
import { MAX_NR_ZONES, ZONE_HIGHMEM } from "./mm/gfp";
import { cpu_hot } from "./cpu";
import { LIST_HEAD_SIZE } from "./lib/list";
