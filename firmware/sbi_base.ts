/**
 * SBI Base extension (EID 0x10, SBI v2.0 chapter 4): the version of the
 * specification and of this implementation, probing for extensions, and the
 * machine's vendor, architecture and implementation ids. No function fails.
 */

import { csrr_marchid, csrr_mimpid, csrr_mvendorid } from "./riscv";
import {
  sbi_err, SBI_ERR_NOT_SUPPORTED, SBI_EXT_0_1_CONSOLE_GETCHAR, SBI_EXT_0_1_CONSOLE_PUTCHAR, SBI_EXT_BASE,
  SBI_EXT_DBCN, SBI_EXT_HSM, SBI_EXT_IPI, SBI_EXT_RFENCE, SBI_EXT_SRST, SBI_EXT_TIME, SBI_IMPL_ID_KMEMLAB,
  SBI_IMPL_VERSION, sbi_ret, SBI_SPEC_VERSION, SBI_SUCCESS,
} from "./sbi";
import { frame_get, REG_A0 } from "./trap";

export const SBI_EXT_BASE_GET_SPEC_VERSION: u64 = 0;
export const SBI_EXT_BASE_GET_IMP_ID: u64 = 1;
export const SBI_EXT_BASE_GET_IMP_VERSION: u64 = 2;
export const SBI_EXT_BASE_PROBE_EXT: u64 = 3;
export const SBI_EXT_BASE_GET_MVENDORID: u64 = 4;
export const SBI_EXT_BASE_GET_MARCHID: u64 = 5;
export const SBI_EXT_BASE_GET_MIMPID: u64 = 6;

/** Is `eid` an extension this firmware implements? */
export function sbi_extension_available(eid: u64): bool {
  return eid == SBI_EXT_BASE || eid == SBI_EXT_TIME || eid == SBI_EXT_IPI || eid == SBI_EXT_RFENCE ||
    eid == SBI_EXT_HSM || eid == SBI_EXT_SRST || eid == SBI_EXT_DBCN ||
    eid == SBI_EXT_0_1_CONSOLE_PUTCHAR || eid == SBI_EXT_0_1_CONSOLE_GETCHAR;
}

export function sbi_base_call(fid: u64, frame: usize): void {
  if (fid == SBI_EXT_BASE_GET_SPEC_VERSION) sbi_ret(frame, SBI_SUCCESS, SBI_SPEC_VERSION);
  else if (fid == SBI_EXT_BASE_GET_IMP_ID) sbi_ret(frame, SBI_SUCCESS, SBI_IMPL_ID_KMEMLAB);
  else if (fid == SBI_EXT_BASE_GET_IMP_VERSION) sbi_ret(frame, SBI_SUCCESS, SBI_IMPL_VERSION);
  else if (fid == SBI_EXT_BASE_PROBE_EXT) sbi_ret(frame, SBI_SUCCESS, sbi_extension_available(frame_get(frame, REG_A0)) ? 1 : 0);
  else if (fid == SBI_EXT_BASE_GET_MVENDORID) sbi_ret(frame, SBI_SUCCESS, csrr_mvendorid());
  else if (fid == SBI_EXT_BASE_GET_MARCHID) sbi_ret(frame, SBI_SUCCESS, csrr_marchid());
  else if (fid == SBI_EXT_BASE_GET_MIMPID) sbi_ret(frame, SBI_SUCCESS, csrr_mimpid());
  else sbi_err(frame, SBI_ERR_NOT_SUPPORTED);
}
