import t from "tap";
import { E2BIG, EINVAL, ENOMEM, EOPNOTSUPP } from "../../kernel/errno.ts";
import { folio_address, folio_alloc, folio_order, folio_pfn, folio_size } from "../../mm/folio.ts";
import { MAX_PAGE_ORDER, PAGE_SIZE } from "../../mm/physmem.ts";
import { khoScratchAreas } from "../kho.ts";
import {
	kho_alloc_preserve,
	kho_is_enabled,
	kho_preserve_folio,
	kho_preserve_pages,
	kho_unpreserve_folio,
	kho_unpreserve_free,
	kho_unpreserve_pages,
} from "./kho.ts";
import { kho_range_blocks } from "../kho_mem.ts";
import { kho_radix_test_page } from "./kho_radix.ts";
import { bootMainline, dmesg, errnoOf, outTree } from "./testing.ts";

t.test("a mainline kernel has KHO on by default, and kho=off turns it off", async (t) => {
	t.ok(kho_is_enabled(bootMainline()));
	t.notOk(kho_is_enabled(bootMainline({ cmdline: "kho=off" })));
	t.notOk(kho_is_enabled(bootMainline({ config: { KEXEC_HANDOVER_ENABLE_DEFAULT: false } })));
	t.ok(kho_is_enabled(bootMainline({ cmdline: "kho=on", config: { KEXEC_HANDOVER_ENABLE_DEFAULT: false } })));
});

t.test("preserving a folio sets its block's bit at its order", async (t) => {
	const k = bootMainline();
	const f = folio_alloc(k.buddy, 2)!;
	kho_preserve_folio(k, f);
	t.ok(kho_radix_test_page(outTree(k), folio_pfn(f), 2));
	t.notOk(kho_radix_test_page(outTree(k), folio_pfn(f), 0));
});

t.test("unpreserving a folio clears its bit", async (t) => {
	const k = bootMainline();
	const f = folio_alloc(k.buddy, 1)!;
	kho_preserve_folio(k, f);
	kho_unpreserve_folio(k, f);
	t.notOk(kho_radix_test_page(outTree(k), folio_pfn(f), 1));
});

t.test("without CONFIG_KEXEC_HANDOVER preserving is EOPNOTSUPP and unpreserving does nothing", async (t) => {
	const k = bootMainline({ config: { KEXEC_HANDOVER: false } });
	const f = folio_alloc(k.buddy, 0)!;
	t.equal(errnoOf(() => kho_preserve_folio(k, f)), EOPNOTSUPP);
	t.equal(errnoOf(() => kho_preserve_pages(k, folio_pfn(f), 1)), EOPNOTSUPP);
	t.equal(errnoOf(() => kho_alloc_preserve(k, 1)), EOPNOTSUPP);
	t.equal(errnoOf(() => kho_unpreserve_folio(k, f)), 0);
});

t.test("with KHO off preserving is EINVAL with a WARNING, unpreserving only warns", async (t) => {
	const k = bootMainline({ cmdline: "kho=off" });
	const f = folio_alloc(k.buddy, 0)!;
	t.equal(errnoOf(() => kho_preserve_folio(k, f)), EINVAL);
	t.ok(dmesg(k).some((l) => l.startsWith("WARNING:") && l.includes("kho_preserve_folio")));
	t.equal(errnoOf(() => kho_unpreserve_folio(k, f)), 0);
	t.ok(dmesg(k).some((l) => l.startsWith("WARNING:") && l.includes("kho_unpreserve_folio")));
});

t.test("preserving pages that overlap a scratch area is EINVAL", async (t) => {
	const k = bootMainline();
	const scratch = khoScratchAreas(k)[1]!;
	t.equal(errnoOf(() => kho_preserve_pages(k, scratch.addr / PAGE_SIZE, 1)), EINVAL);
	t.equal(errnoOf(() => kho_preserve_pages(k, scratch.addr / PAGE_SIZE - 1, 2)), EINVAL, "a range reaching into it");
});

t.test("preserving pages past the end of memory is EINVAL", async (t) => {
	const k = bootMainline();
	t.equal(errnoOf(() => kho_preserve_pages(k, k.buddy.nr_pages - 1, 2)), EINVAL);
	t.equal(errnoOf(() => kho_preserve_pages(k, -1, 1)), EINVAL);
});

t.test("a page range is recorded as naturally aligned blocks", async (t) => {
	t.same(kho_range_blocks(0x1003, 0x1011), [[0x1003, 0], [0x1004, 2], [0x1008, 3], [0x1010, 0]]);
	const k = bootMainline();
	kho_preserve_pages(k, 0x1003, 0xe);
	const tree = outTree(k);
	t.ok(kho_radix_test_page(tree, 0x1004, 2));
	t.ok(kho_radix_test_page(tree, 0x1008, 3));
	kho_unpreserve_pages(k, 0x1003, 0xe);
	t.notOk(kho_radix_test_page(tree, 0x1008, 3));
});

t.test("kho_alloc_preserve of size 0 is EINVAL", async (t) => {
	t.equal(errnoOf(() => kho_alloc_preserve(bootMainline(), 0)), EINVAL);
});

t.test("kho_alloc_preserve above MAX_PAGE_ORDER is E2BIG", async (t) => {
	t.equal(errnoOf(() => kho_alloc_preserve(bootMainline(), (PAGE_SIZE << MAX_PAGE_ORDER) + 1)), E2BIG);
});

t.test("kho_alloc_preserve gives a zeroed, preserved folio of get_order(size)", async (t) => {
	const k = bootMainline();
	const f = kho_alloc_preserve(k, 3 * PAGE_SIZE);
	t.equal(folio_order(f), 2);
	t.equal(folio_size(f), 4 * PAGE_SIZE);
	t.ok(folio_address(f).every((b) => b === 0));
	t.ok(kho_radix_test_page(outTree(k), folio_pfn(f), 2));
});

t.test("kho_unpreserve_free clears the bit and frees the folio", async (t) => {
	const k = bootMainline();
	const free = k.buddy.nr_free_pages();
	const f = kho_alloc_preserve(k, 1);
	const pfn = folio_pfn(f);
	kho_unpreserve_free(k, f);
	t.notOk(kho_radix_test_page(outTree(k), pfn, 0));
	t.equal(k.buddy.nr_free_pages(), free);
	t.equal(errnoOf(() => kho_unpreserve_free(k, null)), 0, "NULL is nothing");
});

t.test("preserving when no page is left for a map node is ENOMEM and changes nothing", async (t) => {
	const k = bootMainline();
	const f = folio_alloc(k.buddy, 3)!;
	const taken: number[] = [];
	for (let p = k.buddy.alloc_pages(0); p !== null; p = k.buddy.alloc_pages(0)) taken.push(p);
	t.equal(errnoOf(() => kho_preserve_folio(k, f)), ENOMEM, "the first order-3 block needs new nodes");
	t.notOk(kho_radix_test_page(outTree(k), folio_pfn(f), 3));
	t.equal(errnoOf(() => kho_alloc_preserve(k, 1)), ENOMEM);
	for (const p of taken.splice(0, 8)) k.buddy.__free_pages(p, 0);
	kho_preserve_folio(k, f);
	t.ok(kho_radix_test_page(outTree(k), folio_pfn(f), 3), "with memory again it works");
});
