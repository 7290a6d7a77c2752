/**
 * The kernel's pure logic run in V8 (tests/kernel/v8.ts): vsnprintf, printk
 * and its ring buffer, the FDT parser on the machine's own device tree, and
 * the command line.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Harness } from './v8.js';
import { buildVirtDtb } from '../../emulator/machine/virt_dtb.js';

const HARNESS = 'tests/kernel/harness/pure.ts';
type Fn = (...a: (number | bigint | boolean)[]) => number | bigint;

describe('vsnprintf', () => {
  let h: Harness;
  let snprintf: Fn;
  // asc compiles the harness first: allow for a machine busy with the boot tests.
  beforeAll(async () => {
    h = await Harness.create(HARNESS);
    snprintf = h.fn('t_snprintf');
  }, 120_000);
  const fmt = (f: string, ...args: (bigint | number)[]): string => {
    const a = [...args.map((x) => BigInt.asUintN(64, BigInt(x))), 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 8);
    const n = Number(snprintf(h.str(f), 4096, ...a));
    const s = h.cstr(h.global('out'));
    expect(s.length).toBe(n);
    return s;
  };

  it.each([
    ['%d', [-5], '-5'],
    ['%d', [0xffff_ffff], '-1'],
    ['%u', [-1], '4294967295'],
    ['%ld', [-1], '-1'],
    ['%lu', [-1], '18446744073709551615'],
    ['%lld', [-9223372036854775808n], '-9223372036854775808'],
    ['%x', [0xdeadbeefcafen], 'beefcafe'],
    ['%lx', [0xdeadbeefcafen], 'deadbeefcafe'],
    ['%X', [0xabc], 'ABC'],
    ['%#x', [255], '0xff'],
    ['%#o', [8], '010'],
    ['%o', [8], '10'],
    ['%08x', [0x1234], '00001234'],
    ['%-6d|', [42], '42    |'],
    ['%6d|', [-42], '   -42|'],
    ['%+d %+d', [5, -5], '+5 -5'],
    ['% d', [5], ' 5'],
    ['%.3d', [7], '007'],
    ['%*d', [5, 42], '   42'],
    ['%-*d|', [5, 42], '42   |'],
    ['%016lx', [0x80200000], '0000000080200000'],
    ['%c%c', [0x6f, 0x6b], 'ok'],
    ['100%%', [], '100%'],
    ['%hd', [0x1ffff], '-1'],
    ['%hhu', [0x1ff], '255'],
    ['%zu', [123456789012n], '123456789012'],
    ['%d', [0], '0'],
    ['%x', [0], '0'],
  ])('%s', (f, args, want) => {
    expect(fmt(f, ...(args as number[]))).toBe(want);
  });

  it('formats AssemblyScript strings with %s, width, precision and (null)', () => {
    const s = h.str('kmemlab');
    expect(fmt('[%s]', s)).toBe('[kmemlab]');
    expect(fmt('[%10s]', s)).toBe('[   kmemlab]');
    expect(fmt('[%-10s]', s)).toBe('[kmemlab   ]');
    expect(fmt('[%.3s]', s)).toBe('[kme]');
    expect(fmt('[%s]', 0)).toBe('[(null)]');
  });

  it('formats byte strings with %pz and pointers with %p / %px / %pa / %pS', () => {
    const p = h.global('out') + 2048;
    h.write(p, new TextEncoder().encode('bytes\0'));
    expect(fmt('<%pz>', p)).toBe('<bytes>');
    expect(fmt('<%.*pz>', 3, p)).toBe('<byt>');
    // A 32-bit kernel pointer is shown sign-extended, as the CPU sees it.
    expect(fmt('%p', 0x8020_1000)).toBe('ffffffff80201000');
    expect(fmt('%px', 0x1000)).toBe('0000000000001000');
    expect(fmt('%pa', 0x1_0000_0000n)).toBe('0x0000000100000000');
    expect(fmt('%pS', 0x8020_1234)).toBe('[<ffffffff80201234>]');
  });

  it('truncates at size - 1, NUL-terminates, and returns the full length', () => {
    const out = h.global('out');
    const n = Number(snprintf(h.str('hello %d'), 6, 12345n, 0n, 0n, 0n, 0n, 0n, 0n, 0n));
    expect(n).toBe(11);
    expect(h.cstr(out)).toBe('hello');
    const scn = h.fn<Fn>('t_scnprintf');
    expect(Number(scn(h.str('hello %d'), 6, 12345n, 0n))).toBe(5);
    expect(Number(scn(h.str('hi'), 0, 0n, 0n))).toBe(0);
  });

  it('leaves unknown conversions as they are', () => {
    expect(fmt('%q %d', 3)).toBe('%q 3');
  });
});

describe('printk', () => {
  let h: Harness;
  const reset = async (dbcn = false): Promise<void> => {
    h = await Harness.create(HARNESS, { dbcn });
  };
  const record = (seq: bigint): { text: string; level: number; flags: number } | undefined => {
    const r = Number(h.fn<Fn>('t_log_read')(seq));
    if (r < 0) return undefined;
    return { text: h.cstr(h.global('out'), r >>> 16), level: (r >> 8) & 7, flags: r & 0x1f };
  };

  it('prints through the legacy SBI console when DBCN is absent, and through DBCN when present', async () => {
    for (const dbcn of [false, true]) {
      await reset(dbcn);
      h.fn<Fn>('t_pr_info')(h.str('cpu %d up\n'), 3n);
      expect(h.consoleText()).toBe('cpu 3 up\n');
    }
  });

  it('takes the level from a KERN_* prefix and filters by console_loglevel', async () => {
    await reset();
    const printk = h.fn<Fn>('t_printk');
    printk(h.str('\x013error %d\n'), 1n, 0n);
    printk(h.str('\x017debug\n'), 0n, 0n);
    printk(h.str('plain\n'), 0n, 0n);
    expect(h.consoleText()).toBe('error 1\nplain\n');
    const first = h.fn<Fn>('t_log_first_seq')() as bigint;
    expect(record(first)).toEqual({ text: 'error 1', level: 3, flags: 2 });
    expect(record(first + 1n)).toEqual({ text: 'debug', level: 7, flags: 2 });
    expect(record(first + 2n)).toEqual({ text: 'plain', level: 4, flags: 2 });
    expect(record(first + 3n)).toBeUndefined();
    h.fn<Fn>('t_set_loglevel')(8);
    h.fn<Fn>('t_pr_debug')(h.str('now %d\n'), 8n);
    expect(h.consoleText()).toBe('error 1\nplain\nnow 8\n');
  });

  it('continues lines with KERN_CONT / pr_cont and closes an open line before the next message', async () => {
    await reset();
    h.fn<Fn>('t_pr_info')(h.str('a'), 0n);
    h.fn<Fn>('t_pr_cont')(h.str('b%d'), 1n);
    h.fn<Fn>('t_printk')(h.str('\x01cc\n'), 0n, 0n);
    h.fn<Fn>('t_pr_info')(h.str('open'), 0n);
    h.fn<Fn>('t_pr_err')(h.str('next\n'), 0n);
    expect(h.consoleText()).toBe('ab1c\nopen\nnext\n');
  });

  it('prefixes timestamps with printk.time', async () => {
    await reset();
    h.fn<Fn>('t_set_printk_time')(true);
    h.fn<Fn>('t_pr_info')(h.str('x\n'), 0n);
    expect(h.consoleText()).toMatch(/^\[\s+0\.\d{6}\] x\n$/);
  });

  it('keeps the newest records when the ring wraps, in the printk_log layout', async () => {
    await reset();
    h.fn<Fn>('t_set_loglevel')(1); // keep the console quiet
    const info = h.fn<Fn>('t_pr_info');
    const line = 'x'.repeat(200) + ' %d\n';
    const s = h.str(line);
    for (let i = 0; i < 2000; i++) info(s, BigInt(i));
    const first = h.fn<Fn>('t_log_first_seq')() as bigint;
    const next = h.fn<Fn>('t_log_next_seq')() as bigint;
    expect(next).toBe(2000n);
    expect(first).toBeGreaterThan(0n);
    // Each record is 24 + 204..207 bytes, 8-aligned: about 570 fit in 128 KiB.
    expect(Number(next - first)).toBeGreaterThan(500);
    expect(record(next - 1n)!.text).toBe('x'.repeat(200) + ' 1999');
    expect(record(first)!.text).toBe('x'.repeat(200) + ` ${first}`);
    expect(record(first - 1n)).toBeUndefined();
    // The host's view: walk the ring from log_first_idx as crash(8) does.
    const mem = new DataView(h.exports.memory.buffer);
    const prb = Number(h.fn<Fn>('t_prb')());
    const buf = mem.getUint32(prb, true);
    const len = mem.getUint32(prb + 4, true);
    expect(buf).toBe(Number(h.fn<Fn>('t_log_buf')()));
    expect(len).toBe(1 << 17);
    let idx = mem.getUint32(prb + 8, true);
    const nextIdx = mem.getUint32(prb + 12, true);
    let seq = mem.getBigUint64(prb + 16, true);
    expect(seq).toBe(first);
    let count = 0;
    while (idx !== nextIdx) {
      let recLen = mem.getUint16(buf + idx + 8, true);
      if (recLen === 0) { idx = 0; recLen = mem.getUint16(buf + 8, true); }
      const textLen = mem.getUint16(buf + idx + 10, true);
      const text = h.cstr(buf + idx + 24, textLen);
      expect(text).toBe('x'.repeat(200) + ` ${seq}`);
      expect(mem.getUint8(buf + idx + 15) >> 5).toBe(6);
      idx += recLen;
      seq++;
      count++;
    }
    expect(BigInt(count)).toBe(next - first);
  });
});

describe('FDT parser on the machine\'s device tree', () => {
  const cases = [
    { harts: 4, dram: 256 << 20, high: 256 << 20, bootargs: 'selftest=all loglevel=5' },
    { harts: 1, dram: 128 << 20, high: 0, bootargs: '' },
    { harts: 64, dram: 1 << 30, high: 1 << 30, bootargs: 'a "b c"' },
  ];
  it.each(cases)('harts=$harts dram=$dram highmem=$high', async ({ harts, dram, high, bootargs }) => {
    const h = await Harness.create(HARNESS);
    const dtb = buildVirtDtb({ harts, dramSize: dram, highmemSize: high, bootargs });
    h.write(h.global('dtb_area'), dtb);
    expect(h.fn<Fn>('t_check_header')()).toBe(0);
    expect(h.fn<Fn>('t_dt_scan')(harts - 1)).toBe(0);
    const banks = Number(h.fn<Fn>('t_nr_mem_banks')());
    expect(banks).toBe(high ? 2 : 1);
    expect(h.fn<Fn>('t_mem_base')(0)).toBe(0x8000_0000n);
    expect(h.fn<Fn>('t_mem_size')(0)).toBe(BigInt(dram));
    if (high) {
      expect(h.fn<Fn>('t_mem_base')(1)).toBe(0x1_0000_0000n);
      expect(h.fn<Fn>('t_mem_size')(1)).toBe(BigInt(high));
    }
    expect(h.fn<Fn>('t_nr_cpu_ids')()).toBe(harts);
    // The boot hart is logical CPU 0, the others follow in tree order.
    expect(h.fn<Fn>('t_hartid')(0)).toBe(harts - 1);
    for (let c = 1; c < harts; c++) expect(h.fn<Fn>('t_hartid')(c)).toBe(c - 1);
    expect(h.fn<Fn>('t_hartid')(harts)).toBe(-1);
    expect(h.cstr(Number(h.fn<Fn>('t_bootargs')()))).toBe(bootargs);
    expect(h.fn<Fn>('t_timebase')()).toBe(10_000_000n);
    expect(h.fn<Fn>('t_nr_reserved')()).toBe(0);
  });

  it('finds devices by compatible, with translated reg and interrupts', async () => {
    const h = await Harness.create(HARNESS);
    h.write(h.global('dtb_area'), buildVirtDtb({ harts: 2, dramSize: 256 << 20, highmemSize: 0, bootargs: '' }));
    h.fn<Fn>('t_dt_scan')(0);
    const uart = Number(h.fn<Fn>('t_compat')(-1, h.str('ns16550a')));
    expect(uart).toBeGreaterThan(0);
    expect(h.cstr(Number(h.fn<Fn>('t_name')(uart)))).toBe('serial@10000000');
    expect(h.fn<Fn>('t_reg')(uart, 0)).toBe(0);
    expect(h.fn<Fn>('t_res_start')()).toBe(0x1000_0000n);
    expect(h.fn<Fn>('t_res_end')()).toBe(0x1000_00ffn);
    expect(h.fn<Fn>('t_reg')(uart, 1)).toBe(-1);
    expect(h.fn<Fn>('t_irq')(uart, 0)).toBe(10);
    const plic = Number(h.fn<Fn>('t_compat')(-1, h.str('riscv,plic0')));
    expect(h.cstr(Number(h.fn<Fn>('t_name')(plic)))).toBe('plic@c000000');
    expect(h.fn<Fn>('t_reg')(plic, 0)).toBe(0);
    expect(h.fn<Fn>('t_res_start')()).toBe(0x0c00_0000n);
    // PLIC contexts: <&cpu0 11> <&cpu0 9> <&cpu1 11> <&cpu1 9>
    expect(h.fn<Fn>('t_irq_ctx')(plic, 0)).toBe((0 << 16) | 11);
    expect(h.fn<Fn>('t_irq_ctx')(plic, 1)).toBe((0 << 16) | 9);
    expect(h.fn<Fn>('t_irq_ctx')(plic, 3)).toBe((1 << 16) | 9);
    expect(h.fn<Fn>('t_irq_ctx')(plic, 4)).toBe(-1);
    expect(h.fn<Fn>('t_compat')(plic, h.str('riscv,plic0'))).toBe(-1);
    expect(h.fn<Fn>('t_compat')(-1, h.str('no,such-device'))).toBe(-1);
    // paths, names, parents
    const soc = Number(h.fn<Fn>('t_path')(h.str('/soc')));
    expect(h.fn<Fn>('t_parent')(uart)).toBe(soc);
    expect(h.fn<Fn>('t_parent')(0)).toBe(-1);
    expect(h.fn<Fn>('t_path')(h.str('/soc/serial'))).toBe(uart);
    expect(h.fn<Fn>('t_path')(h.str('/soc/serial@10000000'))).toBe(uart);
    expect(h.fn<Fn>('t_path')(h.str('/soc/serial@10000001'))).toBe(-1);
    expect(h.fn<Fn>('t_path')(h.str('/'))).toBe(0);
    const names: string[] = [];
    for (let n = Number(h.fn<Fn>('t_first_subnode')(soc)); n >= 0; n = Number(h.fn<Fn>('t_next_subnode')(n))) {
      names.push(h.cstr(Number(h.fn<Fn>('t_name')(n))));
    }
    expect(names).toEqual(['clint@2000000', 'plic@c000000', 'serial@10000000', 'test@100000', 'dma-bus']);
  });

  it('rejects a blob that is not a device tree', async () => {
    const h = await Harness.create(HARNESS);
    expect(h.fn<Fn>('t_check_header')()).toBe(-9);
    expect(h.fn<Fn>('t_dt_scan')(0)).toBe(-9);
  });
});

describe('command line', () => {
  const boot = async (bootargs: string): Promise<Harness> => {
    const h = await Harness.create(HARNESS);
    h.write(h.global('dtb_area'), buildVirtDtb({ harts: 1, dramSize: 64 << 20, highmemSize: 0, bootargs }));
    h.fn<Fn>('t_dt_scan')(0);
    return h;
  };
  const value = (h: Harness, name: string): string | undefined => {
    const v = BigInt(h.fn<Fn>('t_cmdline_find')(h.str(name)));
    if (v < 0n) return undefined;
    return h.cstr(Number(v & 0xffff_ffffn), Number(v >> 32n));
  };

  it('finds bare and valued parameters, quoted values, and the last token', async () => {
    const h = await boot('quiet selftest=fdt,printk  loglevel=0x5 msg="a b" maxcpus=2');
    expect(value(h, 'quiet')).toBe('');
    expect(value(h, 'selftest')).toBe('fdt,printk');
    expect(value(h, 'msg')).toBe('a b');
    expect(value(h, 'maxcpus')).toBe('2');
    expect(value(h, 'loglevel')).toBe('0x5');
    expect(value(h, 'selftes')).toBeUndefined();
    expect(value(h, 'selftest=fdt')).toBeUndefined();
    expect(h.fn<Fn>('t_cmdline_int')(h.str('loglevel'), -1n)).toBe(5n);
    expect(h.fn<Fn>('t_cmdline_int')(h.str('nothere'), -1n)).toBe(-1n);
    expect(h.fn<Fn>('t_cmdline_int')(h.str('msg'), -7n)).toBe(-7n);
  });

  it('reads booleans', async () => {
    const h = await boot('a b=1 c=0 d=on e=off f=yes g=no');
    const b = (n: string): boolean => Boolean(h.fn<Fn>('t_cmdline_bool')(h.str(n), false));
    expect(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'z'].map(b)).toEqual([true, true, false, true, false, true, false, false]);
  });

  it('matches names in comma-separated lists', async () => {
    const h = await boot('selftest=fdt,printk,smp');
    const v = BigInt(h.fn<Fn>('t_cmdline_find')(h.str('selftest')));
    const ptr = Number(v & 0xffff_ffffn);
    const len = Number(v >> 32n);
    const has = (n: string): boolean => Boolean(h.fn<Fn>('t_list_contains')(ptr, len, h.str(n)));
    expect(['fdt', 'printk', 'smp', 'print', 'all', ''].map(has)).toEqual([true, true, true, false, false, false]);
  });

  it('applies loglevel=, quiet and printk.time= early', async () => {
    let h = await boot('loglevel=3');
    h.fn<Fn>('t_parse_early')();
    expect(h.fn<Fn>('t_loglevel')()).toBe(3);
    h = await boot('quiet printk.time=1');
    h.fn<Fn>('t_parse_early')();
    expect(h.fn<Fn>('t_loglevel')()).toBe(4);
    expect(h.fn<Fn>('t_printk_time')()).toBe(1);
    h = await boot('loglevel=99');
    h.fn<Fn>('t_parse_early')();
    expect(h.fn<Fn>('t_loglevel')()).toBe(15);
  });

  it('parses numbers with bases and suffixes', async () => {
    const h = await Harness.create(HARNESS);
    const p = h.global('out');
    const parse = (s: string, suffix = true): bigint => {
      h.write(p, new TextEncoder().encode(s));
      return BigInt(h.fn<Fn>('t_parse_u64')(p, s.length, suffix));
    };
    expect(parse('42')).toBe(42n);
    expect(parse('0x1F')).toBe(31n);
    expect(parse('010')).toBe(8n);
    expect(parse('0')).toBe(0n);
    expect(parse('64K')).toBe(65536n);
    expect(parse('2M')).toBe(2n << 20n);
    expect(parse('1G')).toBe(1n << 30n);
    expect(parse('1G', false)).toBe(-1n);
    expect(parse('12x')).toBe(-1n);
    expect(parse('')).toBe(-1n);
  });
});
