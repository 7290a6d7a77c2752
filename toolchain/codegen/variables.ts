/**
 * Locals and globals. local.get pushes a lazy reference (values.ts): no
 * code until the value is used or the local is overwritten. Mutable globals
 * are .dwords in the translation's .data, reached pc-relatively; immutable
 * ones with a constant initialiser are inlined.
 */
import type { Instr } from '../wasm/module.js';
import type { Fn } from './function.js';
import { valueReg } from './memory.js';
import { norm } from './values.js';

function localSet(fx: Fn, idx: number, tee: boolean): void {
  const e = fx.pop();
  if (!(e.k === 'local' && e.idx === idx)) {
    fx.materializeLocal(idx);
    const h = fx.homes[idx]!;
    if (h.k === 'reg') fx.moveTo(e, h.r);
    else {
      const r = fx.reg(e, 't5');
      fx.em.insn(`sd ${r}, ${fx.em.slot(h.off)}`);
    }
    if (tee && h.k === 'slot' && e.k === 'reg') { fx.push(e); return; }
    fx.release(e);
  }
  if (tee) fx.push({ k: 'local', ty: fx.localTypes[idx]!, idx });
}

/** Mutable globals are .dwords reached pc-relatively (auipc + ld/sd); constant ones are inlined. */
function globalGet(fx: Fn, idx: number): void {
  const g = fx.ctx.global(idx, fx.funcName);
  if (g.constant !== undefined) {
    fx.push({ k: 'const', ty: g.ty, v: norm(g.ty, g.constant) });
    return;
  }
  const rd = fx.resultReg();
  const here = fx.em.newLabel('pc');
  fx.em.label(here);
  fx.em.insn(`auipc ${rd}, %pcrel_hi(${g.label})`);
  fx.em.insn(`ld ${rd}, %pcrel_lo(${here})(${rd})`);
  fx.pushReg(g.ty, rd);
}

function globalSet(fx: Fn, idx: number): void {
  const g = fx.ctx.global(idx, fx.funcName);
  if (g.label === undefined) fx.fail(`global.set of immutable global ${idx}`);
  const v = fx.pop();
  const val = valueReg(fx, v);
  const here = fx.em.newLabel('pc');
  fx.em.label(here);
  fx.em.insn(`auipc t5, %pcrel_hi(${g.label})`);
  fx.em.insn(`sd ${val.r}, %pcrel_lo(${here})(t5)`);
  if (val.temp) fx.freeReg(val.r);
  fx.release(v);
}

export function variableOp(fx: Fn, ins: Instr): boolean {
  switch (ins.op) {
    case 'local.get': fx.push({ k: 'local', ty: fx.localTypes[ins.index!]!, idx: ins.index! }); return true;
    case 'local.set': localSet(fx, ins.index!, false); return true;
    case 'local.tee': localSet(fx, ins.index!, true); return true;
    case 'global.get': globalGet(fx, ins.index!); return true;
    case 'global.set': globalSet(fx, ins.index!); return true;
    default: return false;
  }
}
