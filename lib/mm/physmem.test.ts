import t from "tap";
import {
	PhysicalMemory,
	get_order,
	PAGE_SIZE,
	PAGE_POISON,
	PFN_PHYS,
	PHYS_PFN,
	PAGE_ALIGN,
	offset_in_page,
} from "./physmem.ts";

const GiB = 1024 * 1024 * 1024;
const MiB = 1024 * 1024;

function filled(len: number, byte: number): Uint8Array {
	return new Uint8Array(len).fill(byte);
}

t.test("a 4 GiB machine touches no frame until used, and reads zeros without touching", async (t) => {
	const pm = new PhysicalMemory(4 * GiB);
	t.equal(pm.nr_pages, 1 << 20);
	t.equal(pm.sizeBytes, 4 * GiB);
	t.equal(pm.touchedFrames, 0);
	t.same(pm.read(4 * GiB - 8, 8), new Uint8Array(8), "the last bytes read as zero");
	t.same(pm.read(123 * PAGE_SIZE + 5, 3 * PAGE_SIZE), new Uint8Array(3 * PAGE_SIZE));
	t.equal(pm.touchedFrames, 0, "reads do not touch");
	pm.page(0x80000);
	t.equal(pm.touchedFrames, 1, "one page() touches one frame");
});

t.test("the constructor rejects sizes that are not positive page multiples", async (t) => {
	for (const bad of [0, -4096, 4095, 4097, 1.5 * PAGE_SIZE, Number.NaN, 2 ** 60])
		t.throws(() => new PhysicalMemory(bad), RangeError, String(bad));
	t.equal(new PhysicalMemory(PAGE_SIZE).nr_pages, 1);
});

t.test("address helpers follow include/linux/pfn.h and mm.h beyond 32 bits", async (t) => {
	t.equal(PFN_PHYS(0x100000), 4 * GiB);
	t.equal(PFN_PHYS(0x123456), 0x123456000);
	t.equal(PHYS_PFN(0x123456fff), 0x123456);
	t.equal(PHYS_PFN(4 * GiB), 0x100000);
	t.equal(PAGE_ALIGN(0), 0);
	t.equal(PAGE_ALIGN(1), PAGE_SIZE);
	t.equal(PAGE_ALIGN(PAGE_SIZE), PAGE_SIZE);
	t.equal(PAGE_ALIGN(4 * GiB + 1), 4 * GiB + PAGE_SIZE);
	t.equal(offset_in_page(0x123456789), 0x789);
});

t.test("page() returns the same view every time, aliasing the physical bytes", async (t) => {
	const pm = new PhysicalMemory(64 * MiB);
	const v = pm.page(7);
	t.equal(v.length, PAGE_SIZE);
	t.equal(pm.page(7), v, "same object");
	v[0] = 0x11;
	v[PAGE_SIZE - 1] = 0x22;
	t.same(pm.read(PFN_PHYS(7), 1), [0x11]);
	t.same(pm.read(PFN_PHYS(8) - 1, 1), [0x22]);
	pm.write(PFN_PHYS(7) + 100, Uint8Array.of(1, 2, 3));
	t.same(v.subarray(100, 103), [1, 2, 3], "write() lands in the held view");
	t.not(pm.page(8), v);
	t.equal(pm.page(8).buffer === v.buffer && pm.page(8).byteOffset === v.byteOffset + PAGE_SIZE, true, "neighbours are contiguous");
	t.equal(pm.touchedFrames, 2);
});

t.test("pages() views a block of frames and refuses one crossing a 4 MiB chunk", async (t) => {
	const pm = new PhysicalMemory(64 * MiB);
	const block = pm.pages(1024, 1024);
	t.equal(block.length, 4 * MiB);
	block[PAGE_SIZE * 3 + 9] = 0x5a;
	t.equal(pm.page(1027)[9], 0x5a);
	t.equal(pm.touchedFrames, 1024);
	t.throws(() => pm.pages(1020, 8), /cross a 4 MiB chunk/);
	t.throws(() => pm.pages(0, 0), RangeError);
});

t.test("write() and read() cross frame boundaries and touch only what they write", async (t) => {
	const pm = new PhysicalMemory(16 * MiB);
	const data = new Uint8Array(PAGE_SIZE + 200).map((_, i) => i & 0xff);
	pm.write(PFN_PHYS(3) - 100, data);
	t.equal(pm.touchedFrames, 3, "frames 2, 3 and 4");
	t.same(pm.read(PFN_PHYS(3) - 100, data.length), data);
	t.same(pm.read(PFN_PHYS(2), 4), new Uint8Array(4), "bytes before the write stay zero");
	pm.write(PFN_PHYS(9), new Uint8Array(0));
	t.equal(pm.touchedFrames, 3, "an empty write touches nothing");
});

t.test("out-of-range addresses throw an Error naming the address", async (t) => {
	const pm = new PhysicalMemory(16 * MiB);
	t.throws(() => pm.read(16 * MiB - 4, 8), { name: "RangeError", message: /physical address 0xfffffc \(\+8\) beyond end of memory 0x1000000/ });
	t.throws(() => pm.write(16 * MiB, Uint8Array.of(1)), /physical address 0x1000000/);
	t.throws(() => pm.read(-1, 1), RangeError);
	t.throws(() => pm.read(1.5, 1), RangeError);
	t.throws(() => pm.page(4096), /pfn 0x1000 \(\+1\) outside memory of 4096 frames/);
	t.throws(() => pm.page(-1), RangeError);
	t.throws(() => pm.isPoisoned(4096), RangeError);
	t.same(pm.read(16 * MiB, 0), new Uint8Array(0), "an empty read at the end is fine");
	t.equal(pm.touchedFrames, 0, "failed calls touch nothing");
});

t.test("clearPages zeroes written frames and leaves never-touched ones untouched", async (t) => {
	const pm = new PhysicalMemory(16 * MiB);
	pm.write(PFN_PHYS(1), filled(PAGE_SIZE, 0x77));
	pm.clearPages(0, 4);
	t.equal(pm.touchedFrames, 1);
	t.same(pm.read(0, 4 * PAGE_SIZE), new Uint8Array(4 * PAGE_SIZE));
	t.throws(() => pm.clearPages(4095, 2), RangeError);
});

t.test("poisonAllExcept with a predicate: kept frames keep their bytes, all others read PAGE_POISON", async (t) => {
	const pm = new PhysicalMemory(4 * GiB);
	pm.write(PFN_PHYS(10), filled(PAGE_SIZE, 0x10));
	pm.write(PFN_PHYS(11), filled(PAGE_SIZE, 0x11));
	pm.poisonAllExcept((pfn) => pfn === 10 || pfn === 500);
	t.equal(pm.poisonGeneration, 1);
	t.equal(pm.touchedFrames, 2, "poisoning writes nothing");
	t.equal(pm.isTouched(11), true);
	t.equal(pm.isTouched(500), false);
	t.same(pm.read(PFN_PHYS(10), PAGE_SIZE), filled(PAGE_SIZE, 0x10), "kept and written");
	t.same(pm.read(PFN_PHYS(11), PAGE_SIZE), filled(PAGE_SIZE, PAGE_POISON), "written, not kept");
	t.same(pm.read(PFN_PHYS(500), 16), new Uint8Array(16), "kept, never written: still zero");
	t.same(pm.read(4 * GiB - 16, 16), filled(16, PAGE_POISON), "never written, not kept");
	t.equal(pm.isPoisoned(11), true);
	t.equal(pm.isPoisoned(10), false);
	t.equal(pm.touchedFrames, 2, "reading poison does not touch");
	t.same(pm.page(0x12345), filled(PAGE_SIZE, PAGE_POISON), "first touch fills the poison");
	t.equal(pm.isPoisoned(0x12345), false, "once filled the frame is ordinary memory again");
	pm.write(PFN_PHYS(11) + 1, Uint8Array.of(9));
	t.same(pm.read(PFN_PHYS(11), 3), [PAGE_POISON, 9, PAGE_POISON], "a partial write keeps the poison around it");
});

t.test("poisonAllExcept with ranges keeps exactly those frames, across generations", async (t) => {
	const pm = new PhysicalMemory(64 * MiB);
	for (let pfn = 0; pfn < 8; pfn++) pm.write(PFN_PHYS(pfn), filled(PAGE_SIZE, pfn + 1));
	pm.poisonAllExcept([
		[1, 2],
		[5, 1],
	]);
	const firstBytes = (): number[] => [...Array(8).keys()].map((p) => pm.read(PFN_PHYS(p), 1)[0]!);
	t.same(firstBytes(), [PAGE_POISON, 2, 3, PAGE_POISON, PAGE_POISON, 6, PAGE_POISON, PAGE_POISON]);
	pm.poisonAllExcept([[2, 4]]);
	t.same(firstBytes(), [PAGE_POISON, PAGE_POISON, 3, PAGE_POISON, PAGE_POISON, 6, PAGE_POISON, PAGE_POISON], "frame 1 was not kept this time; 3 and 4 stay poisoned though kept");
	t.equal(pm.poisonGeneration, 2);
});

t.test("poisonAllExcept rejects a range outside memory and changes nothing", async (t) => {
	const pm = new PhysicalMemory(16 * MiB);
	pm.write(0, Uint8Array.of(1));
	t.throws(() => pm.poisonAllExcept([[0, 1], [4095, 2]]), RangeError);
	t.equal(pm.poisonGeneration, 0);
	t.same(pm.read(0, 1), [1]);
	t.same(pm.read(PFN_PHYS(7), 1), [0]);
});

t.test("a view held across a poisoning sees the poison once the frame is touched again", async (t) => {
	const pm = new PhysicalMemory(16 * MiB);
	const stale = pm.page(3);
	stale[0] = 0x42;
	pm.poisonAllExcept(() => false);
	t.equal(stale[0], 0x42, "a dangling view is not rewritten eagerly");
	t.equal(pm.page(3), stale, "the view object is still the frame's");
	t.equal(stale[0], PAGE_POISON);
});

t.test("get_order rounds a size up to a power-of-two number of pages", async (t) => {
	t.same([1, 4096, 4097, 8192, 12289, 4096 << 10].map(get_order), [0, 0, 1, 1, 2, 10]);
});
