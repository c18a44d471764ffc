import t from "tap";
import { Memmap, PG_head, PG_reserved } from "./memmap.ts";

t.test("a new memmap has one zeroed struct page per frame", async (t) => {
	const mm = new Memmap(1 << 20);
	t.equal(mm.nr_pages, 1 << 20);
	t.equal(mm.flags.length, 1 << 20);
	t.equal(mm.refcount.length, 1 << 20);
	t.equal(mm.order.length, 1 << 20);
	t.equal(mm.flags[(1 << 20) - 1], 0);
	t.equal(mm.refcount[12345], 0);
});

t.test("page flags are distinct bits that fit the flags array", async (t) => {
	const all = [PG_reserved, PG_head];
	t.equal(new Set(all).size, all.length);
	for (const f of all) {
		t.equal(f & (f - 1), 0, "one bit");
		t.ok(f < 256, "fits a Uint8Array");
	}
});
