/**
 * V8's implementation limits (src/wasm/wasm-limits.h, V8 11.3 in Node 20),
 * checked while reading so that the reader accepts exactly what
 * `WebAssembly.validate` accepts. Table and memory sizes V8 checks only when
 * instantiating are not here; memory pages are the spec's own limit (§3.2.3).
 */
export const LIMITS = {
  types: 1_000_000,
  funcs: 1_000_000,
  imports: 100_000,
  exports: 100_000,
  globals: 1_000_000,
  dataSegments: 100_000,
  elemSegments: 10_000_000,
  tables: 100_000,
  params: 1000,
  results: 1000,
  locals: 50_000,
  functionSize: 7_654_321,
  brTable: 65_520,
  tableInit: 10_000_000,
  memoryPages: 65_536,
} as const;
