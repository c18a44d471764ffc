import t from "tap";
import {
	CMA_MIN_ALIGNMENT_BYTES,
	kho_parse_scratch_size,
	kho_reserve_scratch,
	kho_scratch_adopt,
	kho_scratch_decode,
	kho_scratch_default_params,
	kho_scratch_encode,
	kho_scratch_release,
	kho_scratch_sizes,
	memparse,
	type KhoScratch,
} from "./kho_scratch.ts";
import { BuddyAllocator } from "../mm/buddy.ts";
import { PhysicalMemory, PAGE_SIZE } from "../mm/physmem.ts";
import { bootKernel } from "../kernel/machine.ts";
import { EINVAL, ERANGE } from "../kernel/errno.ts";
import { dmesg, errnoOf } from "./testing.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

function buddy(bytes: number): BuddyAllocator {
	const b = new BuddyAllocator(new PhysicalMemory(bytes));
	b.reserve(0, 256);
	return b;
}

t.test("memparse reads C numbers with K/M/G/T/P/E suffixes", async (t) => {
	t.same(memparse("16M"), { value: 16 * MiB, used: 3 });
	t.same(memparse("512m,"), { value: 512 * MiB, used: 4 });
	t.same(memparse("1G"), { value: GiB, used: 2 });
	t.same(memparse("4k"), { value: 4096, used: 2 });
	t.same(memparse("0x10K"), { value: 16 * 1024, used: 5 });
	t.same(memparse("010"), { value: 8, used: 3 }, "a leading 0 is octal");
	t.same(memparse("1T"), { value: 1024 * GiB, used: 2 });
	t.same(memparse("123"), { value: 123, used: 3 });
	t.same(memparse("M"), { value: 0, used: 0 }, "no digits, nothing used");
	t.same(memparse(""), { value: 0, used: 0 });
});

t.test("kho_scratch=N% sets the scale and says so", async (t) => {
	const k = bootKernel();
	const p = kho_scratch_default_params();
	t.equal(p.scale, 200, "200% by default");
	kho_parse_scratch_size(k, "50%", p);
	t.same(p, { scale: 50, lowmem: 0, global: 0, pernode: 0 });
	t.ok(dmesg(k).includes("KHO: scratch scale is 50%"));
	kho_parse_scratch_size(k, "0%", p);
	t.equal(p.scale, 0, "0% is taken (every area then has size 0)");
});

t.test("kho_scratch=L,G,P sets explicit sizes and drops the scale", async (t) => {
	const k = bootKernel();
	const p = kho_scratch_default_params();
	kho_parse_scratch_size(k, "16M,512M,256M", p);
	t.same(p, { scale: 0, lowmem: 16 * MiB, global: 512 * MiB, pernode: 256 * MiB });
	t.ok(dmesg(k).includes("KHO: scratch areas: lowmem: 16MiB global: 512MiB pernode: 256MiB"));
	kho_parse_scratch_size(k, "1M,2M,3Mjunk", p);
	t.equal(p.pernode, 3 * MiB, "text after the third size is not checked, as in the kernel");
});

t.test("malformed kho_scratch= values are EINVAL and change nothing", async (t) => {
	const k = bootKernel();
	for (const bad of [null, "", "%", "x%", "-5%", "123456789012%", "16M", "16M,512M", "16M;512M,1M", "0,1M,1M", "1M,0,1M", "1M,1M,0", "M,1M,1M", "1M,,1M"]) {
		const p = kho_scratch_default_params();
		t.equal(errnoOf(() => kho_parse_scratch_size(k, bad, p)), EINVAL, `${JSON.stringify(bad)} is EINVAL`);
		t.same(p, kho_scratch_default_params(), `${JSON.stringify(bad)} leaves the defaults`);
	}
	const p = kho_scratch_default_params();
	t.equal(errnoOf(() => kho_parse_scratch_size(k, "4294967296%", p)), ERANGE, "a scale past UINT_MAX is kstrtouint's ERANGE");
	t.equal(p.scale, 200);
});

t.test("default sizes scale the modelled early allocations, rounded to 2 MiB", async (t) => {
	const p = kho_scratch_default_params();
	t.same(kho_scratch_sizes(p, (4 * GiB) / PAGE_SIZE), [8 * MiB, 128 * MiB, 136 * MiB], "4 GiB: image 4 MiB, memmap 64 MiB, at 200%");
	t.same(kho_scratch_sizes(p, (64 * MiB) / PAGE_SIZE), [8 * MiB, 2 * MiB, 10 * MiB]);
	t.same(kho_scratch_sizes({ ...p, scale: 100 }, (4 * GiB) / PAGE_SIZE), [4 * MiB, 64 * MiB, 68 * MiB]);
	t.same(kho_scratch_sizes({ ...p, scale: 110 }, (16 * MiB) / PAGE_SIZE)[1], Infinity, "a global size that underflows (u64) can never be allocated");
});

t.test("explicit sizes: lowmem and global as given, the node area rounded up", async (t) => {
	t.same(kho_scratch_sizes({ scale: 0, lowmem: MiB, global: 3 * MiB, pernode: 3 * MiB }, 1024), [MiB, 3 * MiB, 4 * MiB]);
});

t.test("areas are placed top-down, 2 MiB aligned, lowmem first, and reserved", async (t) => {
	const b = buddy(4 * GiB);
	const areas = kho_reserve_scratch(b, kho_scratch_default_params())!;
	t.same(areas, [
		{ addr: 0xff600000, size: 8 * MiB },
		{ addr: 0xf7600000, size: 128 * MiB },
		{ addr: 0xeee00000, size: 136 * MiB },
	]);
	for (const a of areas) {
		t.equal(a.addr % CMA_MIN_ALIGNMENT_BYTES, 0);
		t.ok(b.PageReserved(a.addr / PAGE_SIZE) && b.PageReserved((a.addr + a.size) / PAGE_SIZE - 1), `${a.addr.toString(16)} reserved`);
	}
	t.equal(b.nr_reserved_pages(), 256 + (272 * MiB) / PAGE_SIZE);
	t.notOk(b.PageReserved(0xffe00000 / PAGE_SIZE), "the 2 MiB between lowmem and the low limit stays free");
});

t.test("no allocation ever lands in a scratch area", async (t) => {
	const b = buddy(64 * MiB);
	const areas = kho_reserve_scratch(b, kho_scratch_default_params())!;
	const inScratch = (pfn: number): boolean => areas.some((a) => pfn * PAGE_SIZE >= a.addr && pfn * PAGE_SIZE < a.addr + a.size);
	const got: number[] = [];
	for (let p = b.alloc_pages(0); p !== null; p = b.alloc_pages(0)) got.push(p);
	t.same(got.filter(inScratch), [], "no frame from scratch");
	t.equal(got.length, (64 - 1 - 20) * 256, "everything else was allocatable");
});

t.test("areas go below memory already in use", async (t) => {
	const b = buddy(64 * MiB);
	const top = 64 * 256 - 1;
	b.reserve(top, 1);
	const areas = kho_reserve_scratch(b, { scale: 0, lowmem: 2 * MiB, global: 2 * MiB, pernode: 2 * MiB })!;
	t.same(areas.map((a) => a.addr), [60 * MiB, 58 * MiB, 56 * MiB], "the busy last frame pushes every area down");
});

t.test("areas that do not fit fail and leave nothing reserved", async (t) => {
	const b = buddy(64 * MiB);
	const before = b.nr_reserved_pages();
	t.equal(kho_reserve_scratch(b, { scale: 0, lowmem: 8 * MiB, global: 8 * MiB, pernode: 64 * MiB }), null);
	t.equal(b.nr_reserved_pages(), before);
	t.equal(kho_reserve_scratch(buddy(16 * MiB), kho_scratch_default_params()), null, "the default 20 MiB does not fit in 16 MiB");
});

t.test("zero-size areas sit at the top of free memory and reserve nothing", async (t) => {
	const b = buddy(64 * MiB);
	const areas = kho_reserve_scratch(b, { scale: 0, lowmem: 0, global: 0, pernode: 0 })!;
	t.same(areas, [
		{ addr: 64 * MiB, size: 0 },
		{ addr: 64 * MiB, size: 0 },
		{ addr: 64 * MiB, size: 0 },
	]);
	t.equal(b.nr_reserved_pages(), 256);
});

t.test("releasing an area gives its frames back", async (t) => {
	const b = buddy(64 * MiB);
	const areas = kho_reserve_scratch(b, kho_scratch_default_params())!;
	for (const a of areas) kho_scratch_release(b, a);
	t.equal(b.nr_reserved_pages(), 256);
});

t.test("the next kernel adopts handed-over areas; one outside memory is EINVAL with nothing reserved", async (t) => {
	const b = buddy(64 * MiB);
	const areas: KhoScratch[] = [{ addr: 40 * MiB, size: 2 * MiB }, { addr: 50 * MiB, size: 0 }];
	kho_scratch_adopt(b, areas);
	t.ok(b.PageReserved((40 * MiB) / PAGE_SIZE));
	t.equal(b.nr_reserved_pages(), 256 + 512);
	const b2 = buddy(64 * MiB);
	t.equal(errnoOf(() => kho_scratch_adopt(b2, [{ addr: 0, size: MiB * 2 }, { addr: 63 * MiB, size: 2 * MiB }])), EINVAL);
	t.equal(b2.nr_reserved_pages(), 256);
});

t.test("the scratch array is 16 bytes per area, little-endian addr then size", async (t) => {
	const areas = [{ addr: 0xff600000, size: 0x800000 }, { addr: 0x1_2345_6000, size: 0 }];
	const buf = kho_scratch_encode(areas);
	t.equal(buf.length, 32);
	t.same([...buf.subarray(0, 16)], [0x00, 0x00, 0x60, 0xff, 0, 0, 0, 0, 0x00, 0x00, 0x80, 0, 0, 0, 0, 0]);
	t.same(kho_scratch_decode(buf), areas);
	t.same(kho_scratch_decode(buf.subarray(0, 20)), [areas[0]], "a trailing partial entry is ignored");
});
