/** The kernel's name and release, for the boot banner and oops reports. */
export const UTS_SYSNAME = "kmemlab";
export const UTS_RELEASE = "0.1.0";
export const UTS_VERSION = "#1 SMP";
export const LINUX_COMPILER = "AssemblyScript (asc) -> RV64 (kmemlab toolchain)";
