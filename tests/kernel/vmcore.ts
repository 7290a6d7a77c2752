/**
 * The host's side of VMCOREINFO (kernel/vmcoreinfo.ts): find the block in
 * guest memory, parse it, and read the kernel log ring with it, as crash(8)
 * and vmcore-dmesg read Linux 3.5-5.9's printk_log records.
 */

export type ReadPhys = (paddr: number, len: number) => Uint8Array;

export interface Vmcoreinfo {
  /** Physical address of the header. */
  addr: number;
  text: string;
  symbols: Map<string, bigint>;
  sizes: Map<string, number>;
  offsets: Map<string, number>;
  numbers: Map<string, bigint>;
  strings: Map<string, string>;
}

const MAGIC = 0x4e49_4552_4f43_4d56n;

/** Scan [start, end) (physical, 16-byte steps) for the VMCOREINFO header. */
export function findVmcoreinfo(read: ReadPhys, start: number, end: number): Vmcoreinfo | undefined {
  const chunk = 1 << 16;
  for (let base = start; base < end; base += chunk) {
    const bytes = read(base, Math.min(chunk, end - base));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let off = 0; off + 16 <= bytes.length; off += 16) {
      if (view.getBigUint64(off, true) !== MAGIC) continue;
      const len = view.getUint32(off + 8, true);
      const text = Buffer.from(read(base + off + 16, len)).toString('latin1');
      return { addr: base + off, ...parseVmcoreinfo(text) };
    }
  }
  return undefined;
}

export function parseVmcoreinfo(text: string): Omit<Vmcoreinfo, 'addr'> {
  const info = { text, symbols: new Map<string, bigint>(), sizes: new Map<string, number>(), offsets: new Map<string, number>(), numbers: new Map<string, bigint>(), strings: new Map<string, string>() };
  for (const line of text.split('\n')) {
    const m = /^(SYMBOL|SIZE|OFFSET|NUMBER)\(([^)]+)\)=(.*)$/.exec(line);
    if (m) {
      const [, kind, name, value] = m as unknown as [string, string, string, string];
      if (kind === 'SYMBOL') info.symbols.set(name, BigInt(`0x${value}`));
      else if (kind === 'SIZE') info.sizes.set(name, Number(value));
      else if (kind === 'OFFSET') info.offsets.set(name, Number(value));
      else info.numbers.set(name, BigInt(value));
    } else {
      const eq = line.indexOf('=');
      if (eq > 0) info.strings.set(line.slice(0, eq), line.slice(eq + 1));
    }
  }
  return info;
}

/** Physical address of a kernel virtual address in the linear map (VA = sext32(PA)). */
export function linearPa(va: bigint): number {
  if (va >> 32n !== 0xffff_ffffn) throw new Error(`0x${va.toString(16)} is not a linear-map address`);
  return Number(va & 0xffff_ffffn);
}

export interface LogRecord {
  seq: bigint;
  tsNsec: bigint;
  level: number;
  flags: number;
  cpu: number;
  text: string;
}

/** Every record of the kernel log, oldest first. */
export function readDmesg(read: ReadPhys, info: Vmcoreinfo): LogRecord[] {
  const need = (m: Map<string, number | bigint>, k: string): number => {
    const v = m.get(k);
    if (v === undefined) throw new Error(`VMCOREINFO lacks ${k}`);
    return Number(v);
  };
  const buf = linearPa(info.symbols.get('log_buf')!);
  const state = linearPa(info.symbols.get('printk_state')!);
  const bufLen = need(info.numbers, 'log_buf_len');
  const st = new DataView(read(state, 32).buffer.slice(0));
  const u32 = (off: number): number => st.getUint32(off, true);
  let idx = u32(need(info.offsets, 'printk_state.log_first_idx'));
  const nextIdx = u32(need(info.offsets, 'printk_state.log_next_idx'));
  let seq = st.getBigUint64(need(info.offsets, 'printk_state.log_first_seq'), true);
  const nextSeq = st.getBigUint64(need(info.offsets, 'printk_state.log_next_seq'), true);
  const ring = new DataView(read(buf, bufLen).buffer.slice(0));
  const hdr = need(info.sizes, 'printk_log');
  const out: LogRecord[] = [];
  while (seq < nextSeq) {
    let len = ring.getUint16(idx + need(info.offsets, 'printk_log.len'), true);
    if (len === 0) { idx = 0; len = ring.getUint16(need(info.offsets, 'printk_log.len'), true); }
    const textLen = ring.getUint16(idx + need(info.offsets, 'printk_log.text_len'), true);
    const fl = ring.getUint8(idx + need(info.offsets, 'printk_log.flags_level'));
    out.push({
      seq,
      tsNsec: ring.getBigUint64(idx + need(info.offsets, 'printk_log.ts_nsec'), true),
      level: fl >> 5,
      flags: fl & 0x1f,
      cpu: ring.getUint32(idx + need(info.offsets, 'printk_log.caller_id'), true) & 0x7fff_ffff,
      text: Buffer.from(new Uint8Array(ring.buffer, idx + hdr, textLen)).toString('latin1'),
    });
    idx += len;
    seq++;
    if (idx === nextIdx && seq !== nextSeq) throw new Error('log ring ends before log_next_seq');
  }
  return out;
}
