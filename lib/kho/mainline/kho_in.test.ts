import t from "tap";
import { folio_address, folio_alloc, folio_order, folio_pfn, folio_put } from "../../mm/folio.ts";
import { PAGE_POISON, PAGE_SIZE, PFN_PHYS } from "../../mm/physmem.ts";
import { fdt_setprop_u64 } from "../../fdt/libfdt.ts";
import {
	is_kho_boot,
	kho_alloc_preserve,
	kho_preserve_folio,
	kho_preserve_pages,
	kho_restore_folio,
	kho_restore_free,
	kho_restore_pages,
	kho_unpreserve_folio,
} from "./kho.ts";
import { kho_out_fdt } from "./kho_fdt.ts";
import { KHO_FDT_MEMORY_MAP_PROP_NAME } from "./kho_abi.ts";
import { bootMainline, dmesg, kexecMainline, outTree, sameBytes } from "./testing.ts";
import { st64 } from "./kho_abi.ts";

/** A folio of `order` filled with a pattern, preserved. */
function preserved(k: ReturnType<typeof bootMainline>, order: number, seed: number): { pfn: number; bytes: Uint8Array } {
	const f = folio_alloc(k.buddy, order)!;
	const a = folio_address(f);
	for (let i = 0; i < a.length; i++) a[i] = (i * 7 + seed) & 0xff;
	kho_preserve_folio(k, f);
	return { pfn: folio_pfn(f), bytes: a.slice() };
}

/**
 * A written frame the next kernel will not reuse while booting (the last
 * page of a 4 MiB block: a new kernel allocates from the lowest free PFN).
 */
function farFrame(k: ReturnType<typeof bootMainline>, preserve: boolean): number {
	const f = folio_alloc(k.buddy, 10)!;
	folio_address(f).fill(0x55);
	if (preserve) kho_preserve_folio(k, f);
	return folio_pfn(f) + 1023;
}

/** Replaces the 6-byte compatible "kho-v4" in the outgoing root FDT in place. */
function setCompatible(k: ReturnType<typeof bootMainline>, compat: string): void {
	const page = kho_out_fdt(k)!;
	const at = Buffer.from(page).indexOf("kho-v4");
	page.set(new TextEncoder().encode(compat), at);
}

t.test("a cold boot is not a KHO boot", async (t) => {
	t.notOk(is_kho_boot(bootMainline()));
});

t.test("a preserved folio survives kexec byte for byte on the same PFN and order", async (t) => {
	const k = bootMainline();
	const p = preserved(k, 3, 5);
	const k2 = kexecMainline(k);
	t.ok(is_kho_boot(k2));
	const f = kho_restore_folio(k2, PFN_PHYS(p.pfn));
	t.ok(f);
	t.equal(folio_pfn(f!), p.pfn);
	t.equal(folio_order(f!), 3);
	t.ok(sameBytes(folio_address(f!), p.bytes));
});

t.test("every frame that was neither preserved nor kept reads poisoned after kexec", async (t) => {
	const k = bootMainline();
	const kept = farFrame(k, true);
	const lost = farFrame(k, false);
	const k2 = kexecMainline(k);
	t.ok(k2.machine.physmem.isPoisoned(lost));
	t.ok(k2.machine.physmem.read(PFN_PHYS(lost), PAGE_SIZE).every((b) => b === PAGE_POISON));
	t.notOk(k2.machine.physmem.isPoisoned(kept));
	t.ok(k2.machine.physmem.read(PFN_PHYS(kept), PAGE_SIZE).every((b) => b === 0x55));
});

t.test("an unpreserved folio is gone after kexec", async (t) => {
	const k = bootMainline();
	const f = folio_alloc(k.buddy, 10)!;
	kho_preserve_folio(k, f);
	kho_unpreserve_folio(k, f);
	const pfn = folio_pfn(f);
	const k2 = kexecMainline(k);
	t.equal(kho_restore_folio(k2, PFN_PHYS(pfn)), null);
	t.ok(k2.machine.physmem.isPoisoned(pfn + 1023));
});

t.test("the radix tree's own pages are not kept by the next kernel", async (t) => {
	const k = bootMainline();
	const root = outTree(k).root;
	const k2 = kexecMainline(k);
	t.ok(is_kho_boot(k2));
	t.notOk(k2.buddy.PageReserved(root), "free for reuse once walked");
});

t.test("restoring twice gives null the second time, with a WARNING", async (t) => {
	const k = bootMainline();
	const p = preserved(k, 0, 2);
	const k2 = kexecMainline(k);
	t.ok(kho_restore_folio(k2, PFN_PHYS(p.pfn)));
	t.equal(kho_restore_folio(k2, PFN_PHYS(p.pfn)), null);
	t.ok(dmesg(k2).some((l) => l.startsWith("WARNING:") && l.includes("kho_restore_page")));
});

t.test("restoring memory that was not preserved gives null", async (t) => {
	const k2 = kexecMainline(bootMainline());
	t.equal(kho_restore_folio(k2, 0x7000000), null);
	t.equal(kho_restore_pages(k2, 0x7000000, 1), null);
	t.equal(kho_restore_folio(k2, 1e15), null, "outside memory");
});

t.test("restoring the inside of a preserved block gives null", async (t) => {
	const k = bootMainline();
	const p = preserved(k, 2, 3);
	const k2 = kexecMainline(k);
	t.equal(kho_restore_folio(k2, PFN_PHYS(p.pfn + 1)), null);
});

t.test("kho_restore_pages gives order-0 pages that are freed one by one", async (t) => {
	const k = bootMainline();
	const f = folio_alloc(k.buddy, 10)!;
	const pfn = folio_pfn(f) + 8;
	folio_address(f).fill(0x33);
	kho_preserve_pages(k, pfn, 6);
	const k2 = kexecMainline(k);
	t.equal(kho_restore_pages(k2, PFN_PHYS(pfn), 6), pfn);
	t.equal(k2.buddy.memmap.order[pfn + 4], 0);
	t.equal(k2.buddy.memmap.refcount[pfn + 5], 1);
	t.ok(k2.machine.physmem.read(PFN_PHYS(pfn), 6 * PAGE_SIZE).every((b) => b === 0x33));
	t.ok(k2.machine.physmem.isPoisoned(folio_pfn(f) + 1023), "the pages not preserved are gone");
	const free = k2.buddy.nr_free_pages();
	k2.buddy.__free_pages(pfn + 5, 0);
	t.equal(k2.buddy.nr_free_pages(), free + 1);
});

t.test("kho_alloc_preserve memory is freed in the next kernel by kho_restore_free", async (t) => {
	const k = bootMainline();
	const f = kho_alloc_preserve(k, 100);
	folio_address(f)[0] = 9;
	const k2 = kexecMainline(k);
	t.equal(k2.machine.physmem.read(PFN_PHYS(folio_pfn(f)), 1)[0], 9);
	const free = k2.buddy.nr_free_pages();
	kho_restore_free(k2, PFN_PHYS(folio_pfn(f)));
	t.equal(k2.buddy.nr_free_pages(), free + 1);
	kho_restore_free(k2, PFN_PHYS(folio_pfn(f)));
	t.ok(dmesg(k2).some((l) => l.includes("kho_restore_free: !folio")), "a second time WARNs");
});

t.test("a restored folio is a folio of the new kernel", async (t) => {
	const k = bootMainline();
	const p = preserved(k, 1, 4);
	const k2 = kexecMainline(k);
	const f = kho_restore_folio(k2, PFN_PHYS(p.pfn))!;
	const free = k2.buddy.nr_free_pages();
	folio_put(f);
	t.equal(k2.buddy.nr_free_pages(), free + 2);
});

t.test("preservations survive a chain of kexecs when re-preserved", async (t) => {
	const k = bootMainline();
	const p = preserved(k, 0, 6);
	const k2 = kexecMainline(k);
	kho_preserve_folio(k2, kho_restore_folio(k2, PFN_PHYS(p.pfn))!);
	const k3 = kexecMainline(k2);
	t.ok(sameBytes(folio_address(kho_restore_folio(k3, PFN_PHYS(p.pfn))!), p.bytes));
});

t.test("a root FDT with another compatible disables KHO revival", async (t) => {
	const k = bootMainline();
	const p = preserved(k, 0, 7);
	const far = farFrame(k, true);
	setCompatible(k, "kho-v1");
	const k2 = kexecMainline(k);
	t.notOk(is_kho_boot(k2));
	t.ok(dmesg(k2).some((l) => l.includes("is incompatible with 'kho-v4'")));
	t.ok(dmesg(k2).includes("KHO: disabling KHO revival"));
	t.equal(kho_restore_folio(k2, PFN_PHYS(p.pfn)), null);
	t.ok(k2.machine.physmem.isPoisoned(far), "nothing was kept");
});

t.test("a root FDT without a radix root disables KHO revival", async (t) => {
	const k = bootMainline();
	const root = kho_out_fdt(k)!;
	t.equal(fdt_setprop_u64(root, 0, KHO_FDT_MEMORY_MAP_PROP_NAME, 0), 0);
	const k2 = kexecMainline(k);
	t.notOk(is_kho_boot(k2));
	t.ok(dmesg(k2).includes("KHO: disabling KHO revival"));
});

t.test("a radix tree luosim cannot follow makes a non-KHO boot with an error", async (t) => {
	const k = bootMainline();
	const tree = outTree(k);
	st64(tree.pm.page(tree.root), 511 * 8, 0x123);
	const k2 = kexecMainline(k);
	t.notOk(is_kho_boot(k2));
	t.ok(dmesg(k2).some((l) => l.startsWith("KHO: luosim: corrupt preserved memory map:")));
});

t.test("a next kernel booted with kho=off still reserves and restores what was preserved", async (t) => {
	const k = bootMainline();
	const p = preserved(k, 0, 8);
	const k2 = kexecMainline(k, { cmdline: "kho=off" });
	t.ok(is_kho_boot(k2));
	t.ok(sameBytes(folio_address(kho_restore_folio(k2, PFN_PHYS(p.pfn))!), p.bytes));
});

t.test("a seed-era kernel refuses a mainline handover", async (t) => {
	const k = bootMainline();
	const k2 = k.machine.kexecBoot({ abi: "rfc-v2" }, (await import("../kho_handover.ts")).khoHandoverAddress(k));
	t.ok(dmesg(k2).some((l) => l.includes("is incompatible with 'kho-v1'")));
});
