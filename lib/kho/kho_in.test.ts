import t from "tap";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
	KEXEC_KHO_FINALIZE,
	kho_abort,
	kho_add_subtree,
	kho_finalize,
	kho_in_fdt_phys,
	kho_is_enabled,
	kho_preserve_folio,
	kho_preserve_phys,
	kho_restore_folio,
	kho_retrieve_subtree,
	khoHandoverAddress,
	khoScratchAreas,
	NOTIFY_DONE,
	register_kho_notifier,
	type KhoSerialization,
} from "./kho.ts";
import { bootKho, craftHandover, dmesg, errnoOf, kexec, makeSubFdt } from "./testing.ts";
import { Machine } from "../kernel/machine.ts";
import { EFAULT, EINVAL, ENOENT } from "../kernel/errno.ts";
import { folio_address, folio_alloc, folio_order, folio_pfn, folio_ref_count, type Folio } from "../mm/folio.ts";
import { PAGE_POISON, PAGE_SIZE, PFN_PHYS } from "../mm/physmem.ts";
import { dumpTo, loadFrom } from "../mm/physmem_dump.ts";
import { KhoMemTrack, kho_mem_serialize } from "./kho_mem.ts";
import { cpu_to_le64, fdt_begin_node, fdt_end_node, fdt_node_check_compatible, fdt_property } from "../fdt/libfdt.ts";
import type { Kernel } from "../kernel/kernel.ts";

const MiB = 1024 * 1024;

function filled(k: Kernel, order: number, seed: number): Folio {
	const f = folio_alloc(k.buddy, order)!;
	const v = folio_address(f);
	for (let i = 0; i < v.length; i++) v[i] = (i * 7 + seed) & 0xff;
	return f;
}

/** Byte equality without tap's slow deep diff of megabyte arrays. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
	return Buffer.compare(a, b) === 0;
}

function poisoned(bytes: Uint8Array): boolean {
	return bytes.every((b) => b === PAGE_POISON);
}

/** What a refused handover leaves: revival disabled in dmesg, no subtree (ENOENT), no incoming FDT. */
const REFUSED = { disabled: true, retrieve: ENOENT, fdtPhys: 0 };

function revival(b: Kernel): typeof REFUSED {
	return {
		disabled: dmesg(b).some((l) => l.startsWith("KHO: disabling KHO revival:")),
		retrieve: errnoOf(() => kho_retrieve_subtree(b, "LUO")),
		fdtPhys: kho_in_fdt_phys(b),
	};
}

t.test("preserved folios come back in the next kernel: same PFNs, same order, same bytes", async (t) => {
	const a = bootKho();
	const small = filled(a, 0, 1);
	const big = filled(a, 3, 2);
	const range = filled(a, 10, 3);
	kho_preserve_folio(a, small);
	kho_preserve_folio(a, big);
	kho_preserve_phys(a, PFN_PHYS(folio_pfn(range)), 4 * MiB);
	const want = [small, big, range].map((f) => ({ pfn: folio_pfn(f), order: folio_order(f), bytes: folio_address(f).slice() }));
	kho_finalize(a);
	const b = kexec(a);
	for (const w of want) {
		const f = kho_restore_folio(b, PFN_PHYS(w.pfn))!;
		t.ok(f, `pfn ${w.pfn.toString(16)} restored`);
		t.equal(folio_pfn(f), w.pfn);
		t.equal(folio_order(f), w.order);
		t.equal(folio_ref_count(f), 1);
		t.ok(sameBytes(folio_address(f), w.bytes), "same bytes");
	}
	t.equal(kho_restore_folio(b, PFN_PHYS(want[0]!.pfn)), null, "a block is restored once");
});

t.test("a frame written before kexec but not preserved reads back poisoned, and so does KHO's own metadata", async (t) => {
	const a = bootKho();
	const kept = filled(a, 0, 9);
	const lost = filled(a, 0, 9);
	kho_preserve_folio(a, kept);
	kho_finalize(a);
	const handover = khoHandoverAddress(a)!;
	const pm = a.machine.physmem;
	const b = a.machine.kexecBoot({}, handover);
	t.ok(poisoned(pm.read(PFN_PHYS(folio_pfn(lost)), PAGE_SIZE)), "the unpreserved folio is poison");
	t.ok(pm.isPoisoned(folio_pfn(lost)));
	t.notOk(poisoned(pm.read(PFN_PHYS(folio_pfn(kept)), PAGE_SIZE)), "the preserved one is intact before restore");
	t.ok(b.buddy.PageReserved(folio_pfn(kept)), "and reserved until restored");
	t.notOk(b.buddy.PageReserved(folio_pfn(lost)));
	t.ok(b.buddy.PageReserved(handover / PAGE_SIZE), "the setup_data stays reserved");
	const map = new DataView(pm.read(handover + 16, 8).buffer);
	t.ok(map.getBigUint64(0, true) > 0n);
	const freePoison = b.buddy.alloc_pages(0)!;
	t.ok(poisoned(pm.read(PFN_PHYS(freePoison), PAGE_SIZE)), "whatever the next kernel allocates starts as poison");
});

t.test("only physical memory crosses: kexec through a dump file into a new Machine", async (t) => {
	const dir = mkdtempSync(join(tmpdir(), "kho-"));
	t.teardown(() => rmSync(dir, { recursive: true, force: true }));
	const file = join(dir, "mem");
	const stage1 = (): { handover: number; pfn: number; bytes: Uint8Array; subPhys: number } => {
		const a = bootKho();
		const f = filled(a, 2, 5);
		const sub = makeSubFdt(a, "test-v1");
		register_kho_notifier(a, {
			notifier_call(_nb, ev, ser) {
				if (ev !== KEXEC_KHO_FINALIZE) return NOTIFY_DONE;
				kho_preserve_folio(a, f);
				kho_preserve_phys(a, sub, PAGE_SIZE);
				kho_add_subtree(ser!, "test", sub);
				return NOTIFY_DONE;
			},
		});
		kho_finalize(a);
		const handover = khoHandoverAddress(a)!;
		dumpTo(a.machine.physmem, file);
		return { handover, pfn: folio_pfn(f), bytes: folio_address(f).slice(), subPhys: sub };
	};
	const { handover, pfn, bytes, subPhys } = stage1();
	const b = new Machine({ physmem: loadFrom(file) }).kexecBoot({}, handover);
	t.ok(kho_is_enabled(b));
	const f = kho_restore_folio(b, PFN_PHYS(pfn))!;
	t.same(folio_address(f), bytes);
	const phys = kho_retrieve_subtree(b, "test");
	t.equal(phys, subPhys);
	const subFolio = kho_restore_folio(b, phys)!;
	t.equal(fdt_node_check_compatible(folio_address(subFolio), 0, "test-v1"), 0);
});

t.test("kho_retrieve_subtree: the sub-FDT's address; ENOENT for an unknown name or a boot without KHO data", async (t) => {
	const cold = bootKho();
	t.equal(errnoOf(() => kho_retrieve_subtree(cold, "LUO")), ENOENT);
	const sub = makeSubFdt(cold, "luo-v1");
	register_kho_notifier(cold, {
		notifier_call: (_nb, ev, ser) => (ev === KEXEC_KHO_FINALIZE && (kho_preserve_phys(cold, sub, PAGE_SIZE), kho_add_subtree(ser as KhoSerialization, "LUO", sub)), NOTIFY_DONE),
	});
	kho_finalize(cold);
	const b = kexec(cold);
	t.equal(kho_retrieve_subtree(b, "LUO"), sub);
	t.equal(errnoOf(() => kho_retrieve_subtree(b, "memblock")), ENOENT);
	t.equal(errnoOf(() => kho_retrieve_subtree(b, "")), ENOENT, "the root is not a subtree");
});

t.test("kho_retrieve_subtree: EINVAL for a node whose fdt property is missing or not 8 bytes", async (t) => {
	const a = bootKho();
	const h = craftHandover(a, {
		nodes: (fdt) => {
			fdt_begin_node(fdt, "nofdt");
			fdt_end_node(fdt);
			fdt_begin_node(fdt, "short");
			fdt_property(fdt, "fdt", cpu_to_le64(0x1234).subarray(0, 4));
			fdt_end_node(fdt);
		},
	});
	const b = a.machine.kexecBoot({}, h);
	t.equal(errnoOf(() => kho_retrieve_subtree(b, "nofdt")), EINVAL);
	t.equal(errnoOf(() => kho_retrieve_subtree(b, "short")), EINVAL);
});

t.test("kho_restore_folio returns null outside memory, off a block start, and above MAX_PAGE_ORDER", async (t) => {
	const a = bootKho();
	const f = filled(a, 2, 1);
	kho_preserve_folio(a, f);
	const huge = 0x4000000; // 64 MiB, aligned for order 11
	kho_preserve_phys(a, huge, 8 * MiB);
	kho_finalize(a);
	const b = kexec(a);
	t.equal(kho_restore_folio(b, b.machine.memBytes), null);
	t.equal(kho_restore_folio(b, -PAGE_SIZE), null);
	t.equal(kho_restore_folio(b, PFN_PHYS(folio_pfn(f) + 1)), null, "a tail page");
	t.ok(dmesg(b).some((l) => /kho_restore_folio\(0x[0-9a-f]+\): not the start of a preserved block/.test(l)));
	t.equal(kho_restore_folio(b, huge), null, "order 11");
	t.ok(b.buddy.PageReserved(huge / PAGE_SIZE) && b.buddy.PageReserved((huge + 8 * MiB) / PAGE_SIZE - 1), "stays reserved");
	t.ok(kho_restore_folio(b, PFN_PHYS(folio_pfn(f))));
	const cold = bootKho();
	t.equal(kho_restore_folio(cold, 0x200000), null, "no KHO data at all");
});

t.test("the next kernel never hands out preserved frames", async (t) => {
	const a = bootKho({}, { memBytes: 64 * MiB });
	const fs = [filled(a, 0, 1), filled(a, 4, 2), filled(a, 1, 3)];
	for (const f of fs) kho_preserve_folio(a, f);
	kho_finalize(a);
	const b = kexec(a);
	const taken = new Set<number>();
	for (const f of fs) for (let i = 0; i < 1 << folio_order(f); i++) taken.add(folio_pfn(f) + i);
	const got: number[] = [];
	for (let p = b.buddy.alloc_pages(0); p !== null; p = b.buddy.alloc_pages(0)) got.push(p);
	t.same(got.filter((p) => taken.has(p)), []);
	t.ok(got.length > 1000);
});

t.test("a kexec without finalizing hands over a root FDT page that fails validation", async (t) => {
	const a = bootKho();
	const f = filled(a, 0, 4);
	kho_preserve_folio(a, f);
	const b = kexec(a);
	t.ok(dmesg(b).some((l) => /^KHO: setup: handover FDT \(0x[0-9a-f]+\) is invalid: -9$/.test(l)), "FDT_ERR_BADMAGIC");
	t.ok(dmesg(b).includes("KHO: disabling KHO revival: -22"));
	t.same(revival(b), REFUSED, "booted as if without KHO data");
	t.ok(poisoned(b.machine.physmem.read(PFN_PHYS(folio_pfn(f)), PAGE_SIZE)), "nothing was kept");
	t.ok(kho_is_enabled(b), "KHO itself is on, with fresh scratch");
	t.same(khoScratchAreas(b), khoScratchAreas(a));
});

t.test("a root FDT that is not kho-v1 is refused", async (t) => {
	const a = bootKho();
	const b = a.machine.kexecBoot({}, craftHandover(a, { compatible: "kho-v2" }));
	t.ok(dmesg(b).some((l) => /^KHO: setup: handover FDT \(0x[0-9a-f]+\) is incompatible with 'kho-v1': 1$/.test(l)));
	t.same(revival(b), REFUSED, "booted as if without KHO data");
});

t.test("a corrupt FDT header is refused", async (t) => {
	const a = bootKho();
	const junk = new Uint8Array(PAGE_SIZE).fill(0xd0);
	junk.set([0xd0, 0x0d, 0xfe, 0xed, 0xff, 0xff, 0xff, 0xff]);
	const b = a.machine.kexecBoot({}, craftHandover(a, { fdtBytes: junk }));
	t.ok(dmesg(b).some((l) => /is invalid: -\d+$/.test(l)));
	t.same(revival(b), REFUSED, "booted as if without KHO data");
});

t.test("a scratch area outside memory is refused", async (t) => {
	const a = bootKho();
	const b = a.machine.kexecBoot({}, craftHandover(a, { scratch: [{ addr: a.machine.memBytes, size: 2 * MiB }] }));
	t.ok(dmesg(b).includes(`KHO: failed to mark the scratch region 0x${a.machine.memBytes.toString(16)}+0x200000: -22`));
	t.same(revival(b), REFUSED, "booted as if without KHO data");
});

t.test("a setup_data outside memory, of another type, or too short is ignored", async (t) => {
	const a = bootKho();
	const b = a.machine.kexecBoot({}, a.machine.memBytes + PAGE_SIZE);
	t.ok(dmesg(b).includes("setup: failed to memremap setup_data entry"));
	t.equal(kho_in_fdt_phys(b), 0);
	const a2 = bootKho();
	const b2 = a2.machine.kexecBoot({}, craftHandover(a2, { type: 3 }));
	t.notOk(dmesg(b2).some((l) => l.includes("KHO:") && l.includes("handover")), "silently, as x86 skips unknown types");
	t.equal(kho_in_fdt_phys(b2), 0);
	const a3 = bootKho();
	const b3 = a3.machine.kexecBoot({}, craftHandover(a3, { len: 8 }));
	t.ok(dmesg(b3).some((l) => l.startsWith("setup: failed to memremap kho data")));
	t.equal(kho_in_fdt_phys(b3), 0);
});

t.test("a root FDT outside memory is EFAULT: revival is disabled with -14", async (t) => {
	const a = bootKho();
	const h = craftHandover(a);
	// struct kho_data sits after the 16-byte setup_data header: fdt_addr first.
	a.machine.physmem.write(h + 16, cpu_to_le64(a.machine.memBytes));
	const b = a.machine.kexecBoot({}, h);
	t.ok(dmesg(b).includes(`KHO: setup: failed to memremap FDT (0x${a.machine.memBytes.toString(16)})`));
	t.ok(dmesg(b).includes(`KHO: disabling KHO revival: ${-EFAULT}`));
	t.same(revival(b), REFUSED, "booted as if without KHO data");
});

t.test("a scratch array outside memory is EFAULT: revival is disabled with -14", async (t) => {
	const a = bootKho();
	const h = craftHandover(a);
	// struct kho_data: fdt_addr, fdt_size, scratch_addr, scratch_size.
	a.machine.physmem.write(h + 32, cpu_to_le64(a.machine.memBytes));
	const b = a.machine.kexecBoot({}, h);
	t.ok(dmesg(b).some((l) => l.startsWith(`KHO: setup: failed to memremap scratch (phys=0x${a.machine.memBytes.toString(16)}`)));
	t.ok(dmesg(b).includes(`KHO: disabling KHO revival: ${-EFAULT}`));
	t.same(revival(b), REFUSED, "booted as if without KHO data");
});

t.test("a preserved-memory-map that is not 8 bytes keeps nothing", async (t) => {
	const a = bootKho();
	const f = filled(a, 0, 1);
	const track = new KhoMemTrack();
	track.preserve(folio_pfn(f), 0);
	// A valid map below 4 GiB, whose address a reader of 4 bytes would still find.
	const map = cpu_to_le64(kho_mem_serialize(a.buddy, track)!.firstChunkPhys).subarray(0, 4);
	const b = a.machine.kexecBoot({}, craftHandover(a, { map: false, nodes: (fdt) => void fdt_property(fdt, "preserved-memory-map", map) }));
	t.ok(dmesg(b).includes("KHO: found kexec handover data. Will skip init for some devices"), "the FDT itself is accepted");
	t.ok(dmesg(b).includes("KHO: failed to get preserved memory bitmaps"));
	t.notOk(b.buddy.PageReserved(folio_pfn(f)), "no block was reserved");
});

t.test("a root FDT without preserved-memory-map keeps nothing", async (t) => {
	const a = bootKho();
	const b = a.machine.kexecBoot({}, craftHandover(a, { map: false }));
	t.ok(dmesg(b).includes("KHO: found kexec handover data. Will skip init for some devices"));
	t.ok(dmesg(b).includes("KHO: failed to get preserved memory bitmaps"));
	t.ok(dmesg(b).includes("KHO: failed to restore folio for KHO fdt"));
	t.ok(poisoned(b.machine.physmem.read(kho_in_fdt_phys(b), 16)), "not even the FDT page");
});

t.test("a corrupt chunk list stops with an error; blocks named before the fault stay reserved", async (t) => {
	const a = bootKho();
	const f = filled(a, 0, 1);
	const h = craftHandover(a, { preserve: [[folio_pfn(f), 0], [a.buddy.nr_pages + 5, 0]] });
	const b = a.machine.kexecBoot({}, h);
	t.ok(dmesg(b).some((l) => /^KHO: luosim: corrupt preserved memory map: .*past the end of memory$/.test(l)));
	t.ok(b.buddy.PageReserved(folio_pfn(f)));
	t.ok(kho_restore_folio(b, PFN_PHYS(folio_pfn(f))));
});

t.test("a next kernel without CONFIG_KEXEC_HANDOVER ignores the handover and keeps nothing", async (t) => {
	const a = bootKho();
	const f = filled(a, 0, 1);
	kho_preserve_folio(a, f);
	kho_finalize(a);
	const b = kexec(a, { config: { KEXEC_HANDOVER: false } });
	t.ok(dmesg(b).includes("Passed KHO data, but CONFIG_KEXEC_HANDOVER not set. Ignoring."));
	t.ok(poisoned(b.machine.physmem.read(PFN_PHYS(folio_pfn(f)), PAGE_SIZE)));
});

t.test("a kexec without KHO data poisons every frame of the old kernel", async (t) => {
	const a = bootKho({ cmdline: "kho=off" });
	const f = filled(a, 0, 1);
	t.equal(khoHandoverAddress(a), null, "no KHO, no handover");
	const pm = a.machine.physmem;
	const b = a.machine.kexecBoot({ cmdline: "kho=off" }, null);
	t.equal(b.machine.physmem, pm, "the same memory");
	t.ok(poisoned(pm.read(PFN_PHYS(folio_pfn(f)), PAGE_SIZE)));
	const c = new Machine();
	c.boot({});
	const first = c.physmem;
	c.boot({});
	t.not(c.physmem, first, "a cold boot replaces memory instead");
});

t.test("the seed's hazard: after an abort, kexec hands over the last finished tree", async (t) => {
	const a = bootKho();
	const handover = khoHandoverAddress(a)!; // taken first, so it does not reuse a freed chunk frame
	const f = filled(a, 0, 6);
	kho_preserve_folio(a, f);
	kho_finalize(a);
	kho_abort(a);
	const b = a.machine.kexecBoot({}, handover);
	t.ok(dmesg(b).includes("KHO: found kexec handover data. Will skip init for some devices"), "the stale tree validates");
	t.ok(b.buddy.PageReserved(folio_pfn(f)), "and its freed chunks still name the folio");
});

t.test("KHO chains: A preserves, B restores and preserves again, C finds the same bytes", async (t) => {
	const a = bootKho();
	const f = filled(a, 1, 8);
	const bytes = folio_address(f).slice();
	kho_preserve_folio(a, f);
	kho_finalize(a);
	const b = kexec(a);
	const fb = kho_restore_folio(b, PFN_PHYS(folio_pfn(f)))!;
	kho_preserve_folio(b, fb);
	kho_finalize(b);
	t.not(khoHandoverAddress(b), khoHandoverAddress(a), "B writes its own setup_data");
	const c = kexec(b, { cmdline: "kho_scratch=1M,3M,3M" });
	t.same(khoScratchAreas(c), khoScratchAreas(a), "kho_scratch= is ignored on a KHO boot");
	t.ok(dmesg(c).includes("KHO: scratch areas: lowmem: 1MiB global: 3MiB pernode: 3MiB"), "though still parsed");
	const fc = kho_restore_folio(c, PFN_PHYS(folio_pfn(f)))!;
	t.same(folio_address(fc), bytes);
});
