/**
 * The seed documents' examples as guest programs (kernel/examples/examples.ts,
 * `--append example=NAME`): each prints the narration and the reports the
 * README promises, and the kernel exits 0 only when every example's own
 * checks held. Bounded by instructions.
 */
import { describe, expect, it } from 'vitest';
import { boot, buildKernel, buildTarget } from './images.js';

const kernel = await buildKernel();
const firmware = await buildTarget('firmware');
const missing = !kernel.image ? `the kernel did not build: ${kernel.error}` : !firmware.image ? `our firmware did not build: ${firmware.error}` : undefined;

function run(append: string, harts = 2) {
  return boot({ kernel: kernel.image!.elf, bios: firmware.image!.elf, harts, append, maxInsns: 200_000_000 });
}

describe.skipIf(missing !== undefined)(`example=NAME${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('kmalloc: size classes, ZERO_SIZE_PTR, GFP_DMA below the DMA limit, large kmalloc, krealloc', () => {
    const r = run('example=kmalloc');
    expect(r.stop).toBe('exit');
    expect(r.exit, r.console.slice(-2000)).toMatchObject({ kind: 'pass', code: 0 });
    expect(r.console).toMatch(/kmalloc\(  96\) = [0-9a-f]{16}  ksize 96\r?\n/);
    expect(r.console).toMatch(/kmalloc\( 100\) = [0-9a-f]{16}  ksize 128\r?\n/);
    expect(r.console).toMatch(/kmalloc\(0\) = 0000000000000010 \(ZERO_SIZE_PTR = 0000000000000010\)/);
    const dma = /GFP_DMA\) = [0-9a-f]{16}, physical (0x[0-9a-f]+), DMA limit (0x[0-9a-f]+)/.exec(r.console);
    expect(dma).not.toBeNull();
    expect(BigInt(dma![1]!)).toBeLessThan(BigInt(dma![2]!));
    expect(r.console).toMatch(/kmalloc\(65536\) = [0-9a-f]{16}  ksize 65536/);
    expect(r.console).toContain('first word 0x1122334455667788');
    expect(r.console).toContain('example: 1 run, 0 slab reports printed, all behaved as described');
  });

  it('kmem_cache: the constructor, the wrong-cache warning, poison read after free, a write after free caught', () => {
    const r = run('example=kmem_cache');
    expect(r.exit, r.console.slice(-2000)).toMatchObject({ kind: 'pass', code: 0 });
    expect(r.console).toContain('kmem_cache_free: Wrong slab cache. scullc_other but object is from scullc');
    expect(r.console).toMatch(/after free: (6b ){8}\.\.\. (6b ){7}a5/);
    expect(r.console).toContain('BUG scullc_poison (Not tainted): Poison overwritten');
    expect(r.console).toMatch(/INFO: 0x[0-9a-f]{16}-0x[0-9a-f]{16} @offset=10\. First byte 0x0 instead of 0x6b/);
    expect(r.console).not.toContain('Objects remaining');
    expect(r.console).toContain('example: 1 run, 1 slab reports printed, all behaved as described');
  });

  it('mempool: the reserve serves under failslab, runs dry for GFP_ATOMIC, and refills first', () => {
    const r = run('example=mempool');
    expect(r.exit, r.console.slice(-2000)).toMatchObject({ kind: 'pass', code: 0 });
    const reserve = [...r.console.matchAll(/mempool_alloc\(GFP_ATOMIC\) = ([0-9a-f]{16}), reserve now (\d)/g)].map((m) => [m[1] !== '0'.repeat(16), Number(m[2])]);
    expect(reserve).toEqual([[true, 3], [true, 2], [true, 1], [true, 0], [false, 0]]);
    expect(r.console).toContain('after freeing them: reserve 4');
  });

  it('example=all runs the three; an unknown name is an error with the list, and a non-zero exit', () => {
    const all = run('example=all', 1);
    expect(all.exit).toMatchObject({ kind: 'pass', code: 0 });
    expect(all.console).toContain('example: 3 run,');
    const bad = run('example=nosuch', 1);
    expect(bad.exit?.kind).toBe('fail');
    expect(bad.console).toContain("example: no example named 'nosuch'; there are kmalloc, kmem_cache, mempool and all");
  });
});
