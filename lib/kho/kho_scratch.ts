/**
 * KHO scratch areas (kernel/kexec_handover.c, v6.16): physically contiguous
 * regions that never hold preserved memory, where kexec loads the next
 * kernel and where that kernel makes its early allocations. A first boot
 * with `kho=on` reserves them (kho_reserve_scratch); a KHO boot reuses the
 * areas it was handed and ignores `kho_scratch=`.
 *
 * Count: num_online_nodes() + 2 = 3 (luosim has one node): [0] lowmem,
 * below ARCH_LOW_ADDRESS_LIMIT; [1] global; [2] node 0. Each starts on a
 * CMA_MIN_ALIGNMENT_BYTES boundary and is placed top-down as memblock
 * does. Linux makes them CMA (movable allocations only); luosim reserves
 * them in the buddy allocator, so no allocation lands there.
 *
 * Sizes: `kho_scratch=N%` scales the kernel's own early (memblock)
 * allocations, 200% by default; `kho_scratch=L,G,P` (memparse sizes, all
 * non-zero) sets them. luosim has no memblock, so the scale applies to a
 * modelled footprint: a 4 MiB kernel image below the low limit, plus the
 * memmap (64 bytes per frame, sizeof(struct page)) counted as allocated
 * above it, as on a machine whose RAM extends past the 32-bit hole.
 */
import type { Kernel } from "../kernel/kernel.ts";
import { Errno, EINVAL } from "../kernel/errno.ts";
import { kstrtouint } from "../kernel/kstrtox.ts";
import { KERN_NOTICE } from "../kernel/printk.ts";
import { PAGE_SIZE, PHYS_PFN } from "../mm/physmem.ts";
import type { BuddyAllocator } from "../mm/buddy.ts";

/** struct kho_scratch { phys_addr_t addr; phys_addr_t size; }: one area. */
export interface KhoScratch {
	addr: number;
	size: number;
}

/** sizeof(struct kho_scratch). */
export const KHO_SCRATCH_SIZE = 16;
/** CMA_MIN_ALIGNMENT_BYTES on x86_64: one pageblock (order 9), 2 MiB. */
export const CMA_MIN_ALIGNMENT_BYTES = 2 * 1024 * 1024;
/** ARCH_LOW_ADDRESS_LIMIT on x86_64 (an inclusive limit used as memblock's exclusive end). */
export const ARCH_LOW_ADDRESS_LIMIT = 0xffffffff;
/** The modelled kernel image: memblock_reserve_kern'd below the low limit. */
export const KHO_MODEL_KERNEL_IMAGE_BYTES = 4 * 1024 * 1024;
/** sizeof(struct page): the memmap's share of the modelled early allocations. */
export const KHO_MODEL_STRUCT_PAGE_BYTES = 64;

/** What `kho_scratch=` sets (the kernel's __initdata scratch_scale and scratch_size_*). */
export interface KhoScratchParams {
	/** Percent of the early allocations; 0 once explicit sizes were given. */
	scale: number;
	lowmem: number;
	global: number;
	pernode: number;
}

/** The defaults: 200%. */
export function kho_scratch_default_params(): KhoScratchParams {
	return { scale: 200, lowmem: 0, global: 0, pernode: 0 };
}

function roundUp(n: number, a: number): number {
	return Math.ceil(n / a) * a;
}

/**
 * memparse(): a number in C's base-0 notation (0x hex, 0 octal, decimal)
 * with an optional K/M/G/T/P/E suffix. Returns the value and how many
 * characters were used (0 when no digit was found).
 */
export function memparse(s: string): { value: number; used: number } {
	let i = 0;
	let base = 10;
	if (s[0] === "0") {
		if ((s[1] === "x" || s[1] === "X") && /[0-9a-fA-F]/.test(s[2] ?? "")) {
			base = 16;
			i = 2;
		} else base = 8;
	}
	const start = i;
	let v = 0n;
	for (; i < s.length; i++) {
		const d = parseInt(s[i]!, 16);
		if (Number.isNaN(d) || d >= base) break;
		v = v * BigInt(base) + BigInt(d);
	}
	if (i === start) return { value: 0, used: 0 };
	const shift = { K: 10n, M: 20n, G: 30n, T: 40n, P: 50n, E: 60n }[(s[i] ?? "").toUpperCase()];
	if (shift !== undefined) {
		v <<= shift;
		i++;
	}
	v = BigInt.asUintN(64, v);
	return { value: v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v), used: i };
}

/**
 * kho_parse_scratch_size(): the early_param handler for `kho_scratch=`.
 * Throws Errno(EINVAL) for a malformed value, leaving `params` as they
 * were (the caller prints "Malformed early option"); on success prints the
 * kernel's notice.
 */
export function kho_parse_scratch_size(kernel: Kernel, p: string | null, params: KhoScratchParams): void {
	if (p === null || p.length === 0) throw new Errno(EINVAL);
	if (p.endsWith("%")) {
		// char s_scale[11]: the digits must fit, then kstrtouint() in base 10.
		if (p.length > 11) throw new Errno(EINVAL);
		params.scale = kstrtouint(p.slice(0, -1), 10);
		kernel.printk(KERN_NOTICE, `KHO: scratch scale is ${params.scale}%`);
		return;
	}
	const sizes: number[] = [];
	let rest = p;
	for (let i = 0; i < 3; i++) {
		if (i > 0) {
			if (rest[0] !== ",") throw new Errno(EINVAL);
			rest = rest.slice(1);
		}
		const { value, used } = memparse(rest);
		if (!value || used === 0) throw new Errno(EINVAL);
		sizes.push(value);
		rest = rest.slice(used);
	}
	[params.lowmem, params.global, params.pernode] = sizes as [number, number, number];
	params.scale = 0;
	const mib = (n: number): number => Math.floor(n / 2 ** 20);
	kernel.printk(KERN_NOTICE, `KHO: scratch areas: lowmem: ${mib(params.lowmem)}MiB global: ${mib(params.global)}MiB pernode: ${mib(params.pernode)}MiB`);
}

/**
 * The three sizes kho_reserve_scratch asks for: scratch_size_update() and
 * scratch_size_node(0) over the modelled footprint, or the explicit sizes
 * (lowmem and global unrounded, per-node rounded, as in the kernel). A
 * global size that underflows (u64 in C) can never be allocated: Infinity.
 */
export function kho_scratch_sizes(params: KhoScratchParams, nrPages: number): [number, number, number] {
	if (!params.scale) return [params.lowmem, params.global, roundUp(params.pernode, CMA_MIN_ALIGNMENT_BYTES)];
	const low = KHO_MODEL_KERNEL_IMAGE_BYTES;
	const all = low + nrPages * KHO_MODEL_STRUCT_PAGE_BYTES;
	const lowmem = roundUp(Math.floor((low * params.scale) / 100), CMA_MIN_ALIGNMENT_BYTES);
	const g = Math.floor((all * params.scale) / 100) - lowmem;
	const global = g < 0 ? Infinity : roundUp(g, CMA_MIN_ALIGNMENT_BYTES);
	const node = roundUp(Math.floor((all * params.scale) / 100), CMA_MIN_ALIGNMENT_BYTES);
	return [lowmem, global, node];
}

/**
 * memblock's top-down search for `size` bytes aligned to `align` in
 * [PAGE_SIZE, end) that overlaps no busy byte range: the highest start, or
 * null. A size of 0 succeeds at the top of the highest free range, as
 * memblock's does.
 */
function findTopDown(busy: readonly [number, number][], size: number, align: number, end: number): number | null {
	const free: [number, number][] = [];
	let cursor = end;
	for (let i = busy.length - 1; i >= 0 && cursor > PAGE_SIZE; i--) {
		const [s, e] = busy[i]!;
		if (s >= cursor) continue;
		if (e < cursor) free.push([Math.max(e, PAGE_SIZE), cursor]);
		cursor = Math.min(cursor, s);
	}
	if (cursor > PAGE_SIZE) free.push([PAGE_SIZE, cursor]);
	for (const [s, e] of free) {
		if (e < size) continue;
		const cand = Math.floor((e - size) / align) * align;
		if (cand >= s) return cand;
	}
	return null;
}

function reservePages(buddy: BuddyAllocator, area: KhoScratch): void {
	if (area.size === 0) return;
	const first = PHYS_PFN(area.addr);
	buddy.reserve(first, PHYS_PFN(area.addr + area.size - 1) - first + 1);
}

/** free_reserved_area() over an area's frames: giving a scratch area back. */
export function kho_scratch_release(buddy: BuddyAllocator, area: KhoScratch): void {
	if (area.size === 0) return;
	const first = PHYS_PFN(area.addr);
	buddy.free_reserved_area(first, PHYS_PFN(area.addr + area.size - 1) - first + 1);
}

/**
 * kho_reserve_scratch(): allocates and reserves lowmem, global and node-0
 * areas, top-down. Null when one does not fit; then nothing stays reserved
 * (the caller disables KHO).
 */
export function kho_reserve_scratch(buddy: BuddyAllocator, params: KhoScratchParams): KhoScratch[] | null {
	const memEnd = buddy.pm.sizeBytes;
	const busy: [number, number][] = buddy.usedRanges().map(([pfn, n]) => [pfn * PAGE_SIZE, (pfn + n) * PAGE_SIZE]);
	const [lowmem, global, node] = kho_scratch_sizes(params, buddy.nr_pages);
	const areas: KhoScratch[] = [];
	for (const [size, end] of [
		[lowmem, Math.min(ARCH_LOW_ADDRESS_LIMIT, memEnd)],
		[global, memEnd],
		[node, memEnd],
	] as const) {
		const addr = Number.isFinite(size) && size <= memEnd ? findTopDown(busy, size, CMA_MIN_ALIGNMENT_BYTES, end) : null;
		if (addr === null) {
			for (const a of areas) kho_scratch_release(buddy, a);
			return null;
		}
		const area = { addr, size };
		reservePages(buddy, area);
		areas.push(area);
		if (size > 0) {
			busy.push([addr, roundUp(addr + size, PAGE_SIZE)]);
			busy.sort((a, b) => a[0] - b[0]);
		}
	}
	return areas;
}

/**
 * The next kernel's memblock_add + memblock_mark_kho_scratch + (later)
 * kho_release_scratch: the incoming areas become this kernel's scratch,
 * reserved as on the first boot. Throws Errno(EINVAL) before reserving
 * anything if an area lies outside memory.
 */
export function kho_scratch_adopt(buddy: BuddyAllocator, areas: readonly KhoScratch[]): void {
	for (const a of areas) if (a.addr + a.size > buddy.pm.sizeBytes) throw new Errno(EINVAL);
	for (const a of areas) reservePages(buddy, a);
}

/** The `struct kho_scratch[]` array as bytes (what kho_fill_kimage hands over). */
export function kho_scratch_encode(areas: readonly KhoScratch[]): Uint8Array {
	const buf = new Uint8Array(areas.length * KHO_SCRATCH_SIZE);
	const v = new DataView(buf.buffer);
	areas.forEach((a, i) => {
		v.setBigUint64(i * KHO_SCRATCH_SIZE, BigInt(a.addr), true);
		v.setBigUint64(i * KHO_SCRATCH_SIZE + 8, BigInt(a.size), true);
	});
	return buf;
}

/** Parses a handed-over `struct kho_scratch[]` (scratch_len / 16 entries; values past 2^53 become Infinity). */
export function kho_scratch_decode(buf: Uint8Array): KhoScratch[] {
	const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
	const areas: KhoScratch[] = [];
	const num = (x: bigint): number => (x > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(x));
	for (let off = 0; off + KHO_SCRATCH_SIZE <= buf.length; off += KHO_SCRATCH_SIZE)
		areas.push({ addr: num(v.getBigUint64(off, true)), size: num(v.getBigUint64(off + 8, true)) });
	return areas;
}
