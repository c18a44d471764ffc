import t from "tap";
import { EINVAL, EOPNOTSUPP } from "../../kernel/errno.ts";
import { PAGE_SIZE, PFN_PHYS } from "../../mm/physmem.ts";
import { vfree, vmalloc_huge, vmalloc_read, vmalloc_write, vmap, vzalloc, VM_ALLOC, VM_ALLOW_HUGE_VMAP } from "../../mm/vmalloc.ts";
import {
	KHO_VMALLOC_ALLOC,
	KHO_VMALLOC_HUGE_VMAP,
	kho_preserve_vmalloc,
	kho_restore_folio,
	kho_restore_pages,
	kho_restore_vmalloc,
	kho_unpreserve_vmalloc,
	kho_vmalloc_decode,
	kho_vmalloc_encode,
} from "./kho.ts";
import { ld64 } from "./kho_abi.ts";
import { kho_radix_test_page } from "./kho_radix.ts";
import { bootMainline, errnoOf, kexecMainline, outTree, sameBytes } from "./testing.ts";

function pattern(n: number, seed: number): Uint8Array {
	return new Uint8Array(n).map((_, i) => (i * 13 + seed) & 0xff);
}

t.test("struct kho_vmalloc is 16 bytes: first, total_pages, flags, order", async (t) => {
	const b = kho_vmalloc_encode({ first: 0x123456000, total_pages: 600, flags: KHO_VMALLOC_ALLOC, order: 2 });
	t.equal(b.length, 16);
	t.same([...b], [0x00, 0x60, 0x45, 0x23, 0x01, 0, 0, 0, 0x58, 0x02, 0, 0, 1, 0, 2, 0]);
	t.same(kho_vmalloc_decode(b), { first: 0x123456000, total_pages: 600, flags: KHO_VMALLOC_ALLOC, order: 2 });
});

t.test("preserving an area records its pages in a preserved chunk page", async (t) => {
	const k = bootMainline();
	const a = vzalloc(k.buddy, 3 * PAGE_SIZE)!;
	const d = kho_preserve_vmalloc(k, a);
	t.same({ total_pages: d.total_pages, flags: d.flags, order: d.order }, { total_pages: 3, flags: KHO_VMALLOC_ALLOC, order: 0 });
	const chunk = k.machine.physmem.read(d.first, PAGE_SIZE);
	t.equal(ld64(chunk, 0), 0, "one chunk: no next");
	t.same([1, 2, 3, 4].map((i) => ld64(chunk, i * 8)), [...a.pages.map(PFN_PHYS), 0], "zero-terminated");
	t.ok(kho_radix_test_page(outTree(k), d.first / PAGE_SIZE, 0), "the chunk is preserved");
	for (const p of a.pages) t.ok(kho_radix_test_page(outTree(k), p, 0));
});

t.test("a vmalloc area comes back across kexec with its bytes on the same pages", async (t) => {
	const k = bootMainline();
	const a = vzalloc(k.buddy, 5 * PAGE_SIZE)!;
	const data = pattern(a.size, 3);
	vmalloc_write(a, 0, data);
	const desc = kho_vmalloc_encode(kho_preserve_vmalloc(k, a));
	const k2 = kexecMainline(k);
	const r = kho_restore_vmalloc(k2, kho_vmalloc_decode(desc))!;
	t.ok(r);
	t.same(r.pages, a.pages);
	t.equal(r.flags, VM_ALLOC);
	t.ok(sameBytes(vmalloc_read(r, 0, r.size), data));
	const free = k2.buddy.nr_free_pages();
	vfree(r);
	t.equal(k2.buddy.nr_free_pages(), free + 5, "the restored pages are the new kernel's");
});

t.test("an area of more than 511 pages spans chunk pages and comes back whole", async (t) => {
	const k = bootMainline();
	const a = vzalloc(k.buddy, 600 * PAGE_SIZE)!;
	vmalloc_write(a, 0, pattern(a.size, 9));
	const d = kho_preserve_vmalloc(k, a);
	t.not(ld64(k.machine.physmem.read(d.first, 8), 0), 0, "a second chunk");
	const r = kho_restore_vmalloc(kexecMainline(k), d)!;
	t.equal(r.nr_pages, 600);
	t.ok(sameBytes(vmalloc_read(r, 0, r.size), pattern(a.size, 9)));
});

t.test("the chunk pages are freed by the restore", async (t) => {
	const k = bootMainline();
	const d = kho_preserve_vmalloc(k, vzalloc(k.buddy, PAGE_SIZE)!);
	const k2 = kexecMainline(k);
	kho_restore_vmalloc(k2, d);
	t.ok(k2.buddy.page_is_free(d.first / PAGE_SIZE));
});

t.test("a huge area keeps its order and flags", async (t) => {
	const k = bootMainline();
	const a = vmalloc_huge(k.buddy, 8 * PAGE_SIZE, 2)!;
	vmalloc_write(a, 0, pattern(a.size, 1));
	const d = kho_preserve_vmalloc(k, a);
	t.same({ flags: d.flags, order: d.order }, { flags: KHO_VMALLOC_ALLOC | KHO_VMALLOC_HUGE_VMAP, order: 2 });
	t.ok(kho_radix_test_page(outTree(k), a.pages[0]!, 2), "each run is one order-2 block");
	const r = kho_restore_vmalloc(kexecMainline(k), d)!;
	t.same({ flags: r.flags, order: r.order }, { flags: VM_ALLOC | VM_ALLOW_HUGE_VMAP, order: 2 });
	t.ok(sameBytes(vmalloc_read(r, 0, r.size), pattern(a.size, 1)));
});

t.test("a vmap() area is EOPNOTSUPP", async (t) => {
	const k = bootMainline();
	t.equal(errnoOf(() => kho_preserve_vmalloc(k, vmap(k.buddy, [k.buddy.alloc_pages(0)!]))), EOPNOTSUPP);
});

t.test("a freed area is EINVAL", async (t) => {
	const k = bootMainline();
	const a = vzalloc(k.buddy, PAGE_SIZE)!;
	vfree(a);
	t.equal(errnoOf(() => kho_preserve_vmalloc(k, a)), EINVAL);
});

t.test("without CONFIG_KEXEC_HANDOVER it is EOPNOTSUPP and restore gives null", async (t) => {
	const k = bootMainline({ config: { KEXEC_HANDOVER: false } });
	t.equal(errnoOf(() => kho_preserve_vmalloc(k, vzalloc(k.buddy, PAGE_SIZE)!)), EOPNOTSUPP);
	t.equal(kho_restore_vmalloc(k, { first: 0x100000, total_pages: 1, flags: KHO_VMALLOC_ALLOC, order: 0 }), null);
});

t.test("unpreserving leaves nothing to restore and frees the chunks", async (t) => {
	const k = bootMainline();
	const a = vzalloc(k.buddy, 2 * PAGE_SIZE)!;
	const d = kho_preserve_vmalloc(k, a);
	kho_unpreserve_vmalloc(k, d);
	t.notOk(kho_radix_test_page(outTree(k), a.pages[0]!, 0));
	t.ok(k.buddy.page_is_free(d.first / PAGE_SIZE));
	const k2 = kexecMainline(k);
	t.equal(kho_restore_pages(k2, PFN_PHYS(a.pages[0]!), 1), null);
});

t.test("a descriptor whose page count does not match gives null", async (t) => {
	const k = bootMainline();
	const d = kho_preserve_vmalloc(k, vzalloc(k.buddy, 2 * PAGE_SIZE)!);
	t.equal(kho_restore_vmalloc(kexecMainline(k), { ...d, total_pages: 3 }), null);
});

t.test("a descriptor with too few pages stops before restoring past them", async (t) => {
	const k = bootMainline();
	const a = vzalloc(k.buddy, 2 * PAGE_SIZE)!;
	const d = kho_preserve_vmalloc(k, a);
	const k2 = kexecMainline(k);
	t.equal(kho_restore_vmalloc(k2, { ...d, total_pages: 1 }), null);
	t.ok(kho_restore_folio(k2, PFN_PHYS(a.pages[1]!)), "the second page was never restored");
});
