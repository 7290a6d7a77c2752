/**
 * The host reads /proc/buddyinfo out of guest memory (emulator/inspect/
 * buddyinfo.ts, through the VMCOREINFO block that emulator/inspect/
 * vmcoreinfo.ts finds by the kernel's ELF symbol) and renders it byte for
 * byte as the guest prints it itself (kernel/mm/vmstat.ts print_buddyinfo,
 * `report=buddyinfo`). The guest prints right before power-off, when the
 * allocator is quiescent, so the stopped machine's free areas are the ones
 * it printed. Boots: without self-tests and after selftest=page_alloc, with
 * and without highmem.
 */
import { describe, expect, it } from 'vitest';
import { boot, guestImages } from '../kernel/images.js';
import { guestBlocks } from './reports.js';
import { parseElf } from '../../emulator/machine/elf.js';
import { parseVmcoreinfo, readVmcoreinfo, VmcoreinfoError, type ReadPhys } from '../../emulator/inspect/vmcoreinfo.js';
import { readBuddyinfo, renderBuddyinfo } from '../../emulator/inspect/buddyinfo.js';

const MAX_INSNS = 400_000_000;

describe('parseVmcoreinfo', () => {
  it("parses Linux's five kinds of lines and plain NAME=value ones", () => {
    const i = parseVmcoreinfo('OSRELEASE=0.1.0\nPAGESIZE=4096\nSYMBOL(log_buf)=ffffffff80612000\nOFFSET(zone.name)=0\n'
      + 'SIZE(zone)=160\nNUMBER(KM_MAX_IDX)=-1\nLENGTH(zone.free_area)=11\n');
    expect(i.strings.get('OSRELEASE')).toBe('0.1.0');
    expect(i.strings.get('PAGESIZE')).toBe('4096');
    expect(i.symbols.get('log_buf')).toBe(0xffffffff80612000n);
    expect(i.offsets.get('zone.name')).toBe(0);
    expect(i.sizes.get('zone')).toBe(160);
    expect(i.numbers.get('KM_MAX_IDX')).toBe(-1n);
    expect(i.lengths.get('zone.free_area')).toBe(11);
  });
  it('rejects malformed lines', () => {
    expect(() => parseVmcoreinfo('SIZE(zone)=abc\n')).toThrow(VmcoreinfoError);
    expect(() => parseVmcoreinfo('SYMBOL(x)=zz\n')).toThrow(VmcoreinfoError);
    expect(() => parseVmcoreinfo('garbage\n')).toThrow(VmcoreinfoError);
  });
});

const { kernel, firmware, missing } = await guestImages();

/** The guest's own /proc/buddyinfo (its one print, before power-off). */
function guestBuddyinfo(console: string): string {
  const prints = guestBlocks(console, 'buddyinfo');
  expect(prints.length, 'one "# cat /proc/buddyinfo" report').toBe(1);
  expect(prints[0]!.length).toBeGreaterThan(0);
  return prints[0]!;
}

const cases = [
  { harts: 4, selftest: undefined, highmem: true },
  { harts: 4, selftest: 'page_alloc', highmem: true },
  { harts: 1, selftest: 'page_alloc', highmem: false },
];

it('the kernel and our firmware build', () => {
  expect(missing).toBeUndefined();
});

describe.skipIf(missing !== undefined)('the host reads /proc/buddyinfo out of guest memory', () => {
  const elf = missing === undefined ? parseElf(kernel.image!.elf, 'kernel.elf') : undefined;
  for (const c of cases) {
    const title = `${c.harts} harts, ${c.selftest ? `selftest=${c.selftest}` : 'no self-tests'}, ${c.highmem ? 'highmem' : 'no highmem'}`;
    it(`equals the guest's own report byte for byte (${title})`, () => {
      const append = c.selftest ? `selftest=${c.selftest} report=buddyinfo` : 'report=buddyinfo';
      const r = boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts: c.harts, append, maxInsns: MAX_INSNS, ...(c.highmem ? {} : { highmemSize: 0 }) });
      expect(r.exit, r.console.slice(-2000)).toEqual({ kind: 'pass', code: 0, via: 'finisher' });
      const read: ReadPhys = (pa, len) => r.machine.mem.readBytes(pa, len);
      const info = readVmcoreinfo(read, elf!.symbols);
      expect(info.strings.get('OSRELEASE')).toBe('0.1.0');
      const guest = guestBuddyinfo(r.console);
      const host = renderBuddyinfo(read, info);
      expect(host).toBe(guest);
      // Something to compare: the zones the machine has, with free blocks in them.
      const zones = readBuddyinfo(read, info);
      expect(zones.map((z) => z.zone)).toEqual(c.highmem ? ['DMA', 'Normal', 'HighMem'] : ['DMA', 'Normal']);
      expect(zones.every((z) => z.nrFree.some((n) => n > 0n))).toBe(true);
    });
  }
});
