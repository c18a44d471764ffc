import t from "tap";
import {
	KEXEC_KHO_ABORT,
	KEXEC_KHO_FINALIZE,
	KhoSerialization,
	kho_abort,
	kho_add_subtree,
	kho_finalize,
	kho_is_enabled,
	kho_is_finalized,
	kho_preserve_folio,
	kho_preserve_phys,
	kho_restore_folio,
	kho_retrieve_subtree,
	kho_unpreserve_folio,
	kho_unpreserve_phys,
	NOTIFY_BAD,
	NOTIFY_DONE,
	notifier_from_errno,
	register_kho_notifier,
	unregister_kho_notifier,
	type KhoNotifierBlock,
} from "./kho.ts";
import { khoState } from "./kho_state.ts";
import { debugfsCreateFile } from "../fs/debugfs.ts";
import { kho_mem_deserialize_walk } from "./kho_mem.ts";
import { bootKho, dmesg, errnoOf, makeSubFdt } from "./testing.ts";
import { folio_alloc, folio_pfn, type Folio } from "../mm/folio.ts";
import { PAGE_SIZE, PFN_PHYS } from "../mm/physmem.ts";
import { E2BIG, EBADF, EBUSY, EEXIST, EINVAL, ENOENT, ENOMEM, EOPNOTSUPP, EPERM, ESRCH } from "../kernel/errno.ts";
import { fdt_check_header, fdt_first_property_offset, fdt_first_subnode, fdt_get_name, fdt_next_subnode, fdt_getprop_by_offset, fdt_getprop_le64, fdt_next_property_offset, fdt_node_check_compatible, fdt_subnode_offset } from "../fdt/libfdt.ts";
import type { Kernel } from "../kernel/kernel.ts";

function folio(k: Kernel, order = 0): Folio {
	return folio_alloc(k.buddy, order)!;
}

function rootFdt(k: Kernel): Uint8Array {
	return k.machine.physmem.read(PFN_PHYS(khoState(k).out.ser.fdt!.pfn), PAGE_SIZE);
}

/** What the finalized root FDT's preserved-memory-map names, read from memory: [pfn, order]. */
function preserved(k: Kernel): [number, number][] {
	const v = [0n];
	if (fdt_getprop_le64(rootFdt(k), 0, "preserved-memory-map", v)) throw new Error("no map");
	const out: [number, number][] = [];
	const fault = kho_mem_deserialize_walk(k.machine.physmem, Number(v[0]), (b) => out.push([b.phys / PAGE_SIZE, b.order]));
	if (fault) throw new Error(fault);
	return out;
}

/** The blocks preserved besides the root FDT page. */
function userBlocks(k: Kernel): [number, number][] {
	const fdtPfn = khoState(k).out.ser.fdt!.pfn;
	return preserved(k).filter(([pfn, order]) => !(pfn === fdtPfn && order === 0));
}

/** A notifier that runs `fn` at FINALIZE with the serialization. */
function onFinalize(fn: (ser: KhoSerialization) => number | void): KhoNotifierBlock {
	return { notifier_call: (_nb, ev, ser) => (ev === KEXEC_KHO_FINALIZE ? (fn(ser!) ?? NOTIFY_DONE) : NOTIFY_DONE) };
}

t.test("without CONFIG_KEXEC_HANDOVER every call is EOPNOTSUPP and restore finds nothing", async (t) => {
	const k = bootKho({ config: { KEXEC_HANDOVER: false } });
	const f = folio(k);
	const nb: KhoNotifierBlock = { notifier_call: () => NOTIFY_DONE };
	t.notOk(kho_is_enabled(k));
	t.equal(errnoOf(() => kho_preserve_folio(k, f)), EOPNOTSUPP);
	t.equal(errnoOf(() => kho_unpreserve_folio(k, f)), EOPNOTSUPP);
	t.equal(errnoOf(() => kho_preserve_phys(k, 0x200000, PAGE_SIZE)), EOPNOTSUPP);
	t.equal(errnoOf(() => kho_unpreserve_phys(k, 0x200000, PAGE_SIZE)), EOPNOTSUPP);
	t.equal(errnoOf(() => kho_finalize(k)), EOPNOTSUPP);
	t.equal(errnoOf(() => kho_abort(k)), EOPNOTSUPP);
	t.equal(errnoOf(() => register_kho_notifier(k, nb)), EOPNOTSUPP);
	t.equal(errnoOf(() => unregister_kho_notifier(k, nb)), EOPNOTSUPP);
	t.equal(errnoOf(() => kho_add_subtree(new KhoSerialization(k), "x", 0x200000)), EOPNOTSUPP);
	t.equal(errnoOf(() => kho_retrieve_subtree(k, "LUO")), EOPNOTSUPP);
	t.equal(kho_restore_folio(k, PFN_PHYS(folio_pfn(f))), null);
});

t.test("with kho=off memory is tracked, but finalize and abort are EOPNOTSUPP", async (t) => {
	const k = bootKho({ cmdline: "kho=off" });
	t.notOk(kho_is_enabled(k));
	kho_preserve_folio(k, folio(k));
	kho_preserve_phys(k, 0x200000, PAGE_SIZE);
	register_kho_notifier(k, { notifier_call: () => NOTIFY_DONE });
	t.equal(errnoOf(() => kho_finalize(k)), EOPNOTSUPP);
	t.equal(errnoOf(() => kho_abort(k)), EOPNOTSUPP);
	t.equal(errnoOf(() => kho_retrieve_subtree(k, "LUO")), ENOENT, "not a KHO boot");
	t.equal(khoState(k).out.ser.fdt, null, "kho_init allocated no root FDT page");
});

t.test("once finalized, preserve and unpreserve are EBUSY, before any alignment check", async (t) => {
	const k = bootKho();
	const f = folio(k);
	kho_preserve_folio(k, f);
	kho_finalize(k);
	t.equal(errnoOf(() => kho_preserve_folio(k, folio(k))), EBUSY);
	t.equal(errnoOf(() => kho_unpreserve_folio(k, f)), EBUSY);
	t.equal(errnoOf(() => kho_preserve_phys(k, 0x200001, 7)), EBUSY, "EBUSY wins over EINVAL");
	t.equal(errnoOf(() => kho_unpreserve_phys(k, 0x200001, 7)), EBUSY);
	t.same(userBlocks(k), [[folio_pfn(f), 0]], "nothing changed");
});

t.test("unaligned address or size, a negative one, or a range past memory is EINVAL; size 0 preserves nothing", async (t) => {
	const k = bootKho();
	for (const [phys, size] of [
		[0x200001, PAGE_SIZE],
		[0x200000, 100],
		[0x200000, PAGE_SIZE + 1],
		[-PAGE_SIZE, PAGE_SIZE],
		[k.machine.memBytes - PAGE_SIZE, 2 * PAGE_SIZE],
	] as const) {
		t.equal(errnoOf(() => kho_preserve_phys(k, phys, size)), EINVAL, `preserve ${phys.toString(16)}+${size}`);
		t.equal(errnoOf(() => kho_unpreserve_phys(k, phys, size)), phys + size > k.machine.memBytes ? 0 : EINVAL, `unpreserve ${phys.toString(16)}+${size}`);
	}
	kho_preserve_phys(k, 0x200000, 0);
	kho_finalize(k);
	t.same(userBlocks(k), []);
});

t.test("a range is preserved as naturally aligned blocks", async (t) => {
	const k = bootKho();
	kho_preserve_phys(k, PFN_PHYS(0x301), 7 * PAGE_SIZE);
	kho_preserve_phys(k, 0x400000, 0x400000);
	kho_finalize(k);
	t.same(userBlocks(k).sort((a, b) => a[1] - b[1] || a[0] - b[0]), [[0x301, 0], [0x302, 1], [0x304, 2], [0x400, 10]]);
});

t.test("a folio preserved twice is one preservation; one unpreserve removes it", async (t) => {
	const k = bootKho();
	const f = folio(k, 3);
	kho_preserve_folio(k, f);
	kho_preserve_folio(k, f);
	kho_unpreserve_folio(k, f);
	kho_finalize(k);
	t.same(userBlocks(k), []);
});

t.test("K1: unpreserving what was not preserved exactly changes nothing and warns", async (t) => {
	const k = bootKho();
	const f = folio(k, 2);
	const phys = PFN_PHYS(folio_pfn(f));
	kho_preserve_phys(k, phys, 4 * PAGE_SIZE);
	kho_unpreserve_phys(k, phys, PAGE_SIZE);
	t.ok(dmesg(k).includes(`KHO: kho_unpreserve_phys: [0x${phys.toString(16)}, 0x${(phys + PAGE_SIZE).toString(16)}) does not match a preserved range; nothing unpreserved`));
	const g = folio(k);
	kho_unpreserve_folio(k, g);
	t.ok(dmesg(k).some((l) => /kho_unpreserve_folio: folio at 0x[0-9a-f]+ \(order 0\) is not preserved/.test(l)));
	kho_preserve_phys(k, 0x800000, 4 * PAGE_SIZE);
	kho_preserve_phys(k, 0x804000, 4 * PAGE_SIZE);
	kho_unpreserve_phys(k, 0x800000, 8 * PAGE_SIZE);
	t.equal(dmesg(k).filter((l) => l.includes("does not match a preserved range")).length, 2, "two preservations are not one range");
	kho_finalize(k);
	t.same(userBlocks(k).sort((a, b) => a[0] - b[0]), [[folio_pfn(f), 2], [0x800, 2], [0x804, 2]], "nothing was unpreserved");
});

t.test("K1: the exact range, or the folio itself, unpreserves", async (t) => {
	const k = bootKho();
	const f = folio(k, 1);
	kho_preserve_phys(k, PFN_PHYS(0x301), 7 * PAGE_SIZE);
	kho_preserve_folio(k, f);
	kho_unpreserve_phys(k, PFN_PHYS(0x301), 7 * PAGE_SIZE);
	kho_unpreserve_folio(k, f);
	t.notOk(dmesg(k).some((l) => l.includes("nothing unpreserved")));
	kho_finalize(k);
	t.same(userBlocks(k), []);
});

t.test("finalize twice is EEXIST; abort when not finalized is ENOENT", async (t) => {
	const k = bootKho();
	t.equal(errnoOf(() => kho_abort(k)), ENOENT);
	kho_finalize(k);
	t.ok(kho_is_finalized(k));
	t.equal(errnoOf(() => kho_finalize(k)), EEXIST);
	kho_abort(k);
	t.notOk(kho_is_finalized(k));
	t.equal(errnoOf(() => kho_abort(k)), ENOENT);
	kho_finalize(k);
	t.ok(kho_is_finalized(k), "a new cycle works");
});

t.test("when out/fdt cannot be created, kho_finalize fails with that errno but KHO stays finalized, as in the seed", async (t) => {
	const k = bootKho();
	// Something else already holds the name the finalized tree would get.
	debugfsCreateFile(k, "fdt", 0o400, khoState(k).out.dir, null, {});
	t.equal(errnoOf(() => kho_finalize(k)), EEXIST);
	t.ok(kho_is_finalized(k));
	t.equal(errnoOf(() => kho_preserve_folio(k, folio(k))), EBUSY, "preservation is closed");
	kho_abort(k);
	t.notOk(kho_is_finalized(k));
});

t.test("the root FDT is kho-v1 with an LE preserved-memory-map first, then the subtrees", async (t) => {
	const k = bootKho();
	const sub = makeSubFdt(k, "test-v1");
	register_kho_notifier(k, onFinalize((ser) => {
		kho_preserve_phys(k, sub, PAGE_SIZE);
		kho_add_subtree(ser, "test", sub);
	}));
	kho_finalize(k);
	const fdt = rootFdt(k);
	t.equal(fdt_check_header(fdt), 0);
	t.equal(fdt_node_check_compatible(fdt, 0, "kho-v1"), 0);
	const names: (string | null)[] = [];
	for (let p = fdt_first_property_offset(fdt, 0); p >= 0; p = fdt_next_property_offset(fdt, p)) {
		const n: (string | null)[] = [null];
		fdt_getprop_by_offset(fdt, p, n);
		names.push(n[0]!);
	}
	t.same(names, ["compatible", "preserved-memory-map"]);
	const map = [0n];
	t.equal(fdt_getprop_le64(fdt, 0, "preserved-memory-map", map), 0);
	t.not(map[0], 0n);
	t.equal(Number(map[0]) % PAGE_SIZE, 0, "a chunk page");
	const node = fdt_subnode_offset(fdt, 0, "test");
	const v = [0n];
	t.equal(fdt_getprop_le64(fdt, node, "fdt", v), 0);
	t.equal(Number(v[0]), sub);
	t.same(userBlocks(k), [[sub / PAGE_SIZE, 0]]);
});

t.test("FINALIZE notifiers see the serialization and can still preserve; ABORT ones see null and get EBUSY", async (t) => {
	const k = bootKho();
	const f = folio(k);
	const seen: string[] = [];
	register_kho_notifier(k, {
		notifier_call(_nb, ev, data) {
			if (ev === KEXEC_KHO_FINALIZE) {
				seen.push(`finalize ${data instanceof KhoSerialization} ${kho_is_finalized(k)}`);
				kho_preserve_folio(k, f);
			} else {
				seen.push(`abort ${data} ${kho_is_finalized(k)} ${errnoOf(() => kho_unpreserve_folio(k, f))}`);
			}
			return NOTIFY_DONE;
		},
	});
	kho_finalize(k);
	t.same(userBlocks(k), [[folio_pfn(f), 0]]);
	kho_abort(k);
	t.same(seen, ["finalize true false", `abort null true ${EBUSY}`]);
	t.equal(KEXEC_KHO_FINALIZE, 0);
	t.equal(KEXEC_KHO_ABORT, 1);
});

t.test("a failing FINALIZE notifier fails finalize with its errno, runs ABORT, and wipes all tracking", async (t) => {
	const k = bootKho();
	const f = folio(k);
	kho_preserve_folio(k, f);
	const events: number[] = [];
	const bad: KhoNotifierBlock = { notifier_call: (_nb, ev) => (events.push(ev), ev === KEXEC_KHO_FINALIZE ? notifier_from_errno(-EINVAL) : NOTIFY_DONE) };
	register_kho_notifier(k, bad);
	t.equal(errnoOf(() => kho_finalize(k)), EINVAL);
	t.same(events, [KEXEC_KHO_FINALIZE, KEXEC_KHO_ABORT]);
	t.ok(dmesg(k).includes("KHO: Failed to convert KHO state tree: -22"));
	t.notOk(kho_is_finalized(k));
	unregister_kho_notifier(k, bad);
	kho_finalize(k);
	t.same(userBlocks(k), [], "the folio preserved before the failure is gone, as in the seed");
});

t.test("no frame left for the serialized map fails finalize with ENOMEM and wipes all tracking", async (t) => {
	const k = bootKho({}, { memBytes: 512 * 1024 * 1024 });
	const f = folio(k);
	kho_preserve_folio(k, f);
	const taken: [number, number][] = [];
	for (let order = 10; order >= 0; order--) for (let pfn = k.buddy.alloc_pages(order); pfn !== null; pfn = k.buddy.alloc_pages(order)) taken.push([pfn, order]);
	t.equal(errnoOf(() => kho_finalize(k)), ENOMEM);
	t.ok(dmesg(k).includes(`KHO: Failed to convert KHO state tree: ${-ENOMEM}`));
	t.notOk(kho_is_finalized(k));
	for (const [pfn, order] of taken) k.buddy.__free_pages(pfn, order);
	kho_finalize(k);
	t.same(userBlocks(k), [], "the folio preserved before the failure is gone, as in the seed");
});

t.test("NOTIFY_BAD from a notifier fails finalize with EPERM", async (t) => {
	const k = bootKho();
	register_kho_notifier(k, onFinalize(() => NOTIFY_BAD));
	t.equal(errnoOf(() => kho_finalize(k)), EPERM);
});

t.test("a failing ABORT notifier leaves KHO finalized, with its tracking already gone", async (t) => {
	const k = bootKho();
	const f = folio(k);
	kho_preserve_folio(k, f);
	const nb: KhoNotifierBlock = { notifier_call: (_nb, ev) => (ev === KEXEC_KHO_ABORT ? notifier_from_errno(-EBUSY) : NOTIFY_DONE) };
	register_kho_notifier(k, nb);
	kho_finalize(k);
	t.equal(errnoOf(() => kho_abort(k)), EBUSY);
	t.ok(dmesg(k).includes("KHO: Failed to abort KHO finalization: -16"));
	t.ok(kho_is_finalized(k));
	t.equal(errnoOf(() => kho_preserve_folio(k, f)), EBUSY);
	unregister_kho_notifier(k, nb);
	kho_abort(k);
	kho_finalize(k);
	t.same(userBlocks(k), []);
});

t.test("C2: a failed finalize removes the subtrees it added from debugfs, so the next one works", async (t) => {
	const k = bootKho();
	const sub = makeSubFdt(k, "luo-v1");
	let fail = true;
	register_kho_notifier(k, onFinalize((ser) => {
		kho_add_subtree(ser, "LUO", sub);
		return fail ? notifier_from_errno(-EINVAL) : NOTIFY_DONE;
	}));
	t.equal(errnoOf(() => kho_finalize(k)), EINVAL);
	t.equal(khoState(k).out.ser.fdtList.length, 0, "no stale sub_fdts/LUO");
	fail = false;
	kho_finalize(k);
	t.notOk(dmesg(k).some((l) => l.includes("already present")));
});

t.test("kho_add_subtree: a name already in out/sub_fdts is EEXIST", async (t) => {
	const k = bootKho();
	const sub = makeSubFdt(k, "luo-v1");
	const errs: number[] = [];
	register_kho_notifier(k, onFinalize((ser) => {
		kho_add_subtree(ser, "LUO", sub);
		errs.push(errnoOf(() => kho_add_subtree(ser, "LUO", sub)));
	}));
	kho_finalize(k);
	t.same(errs, [EEXIST]);
	t.ok(dmesg(k).includes("debugfs: File 'LUO' in directory 'sub_fdts' already present!"));
});

t.test("kho_add_subtree without debugfs does not check names: the FDT gets both nodes", async (t) => {
	const k = bootKho({ config: { KEXEC_HANDOVER_DEBUGFS: false } });
	const sub = makeSubFdt(k, "luo-v1");
	register_kho_notifier(k, onFinalize((ser) => {
		kho_add_subtree(ser, "LUO", sub);
		kho_add_subtree(ser, "LUO", sub);
	}));
	kho_finalize(k);
	const fdt = rootFdt(k);
	const names: (string | null)[] = [];
	for (let n = fdt_first_subnode(fdt, 0); n >= 0; n = fdt_next_subnode(fdt, n)) names.push(fdt_get_name(fdt, n));
	t.same(names, ["LUO", "LUO"]);
});

t.test("kho_add_subtree outside FINALIZE fails with libfdt's error number", async (t) => {
	const k = bootKho();
	let saved: KhoSerialization | null = null;
	register_kho_notifier(k, onFinalize((ser) => void (saved = ser)));
	const sub = makeSubFdt(k, "x-v1");
	const ser = khoState(k).out.ser;
	t.equal(errnoOf(() => kho_add_subtree(ser, "early", sub)), EBADF, "never built: -FDT_ERR_BADMAGIC (9)");
	kho_finalize(k);
	t.equal(saved, ser);
	t.equal(errnoOf(() => kho_add_subtree(saved!, "late", sub)), E2BIG, "finished tree: -FDT_ERR_BADSTATE (7)");
});

t.test("a root FDT that outgrows its page fails finalize with -FDT_ERR_NOSPACE (reads as ESRCH)", async (t) => {
	const k = bootKho();
	const sub = makeSubFdt(k, "x-v1");
	register_kho_notifier(k, onFinalize((ser) => {
		for (let i = 0; i < 40; i++) kho_add_subtree(ser, `${"n".repeat(120)}${i}`, sub);
	}));
	t.equal(errnoOf(() => kho_finalize(k)), ESRCH);
	t.ok(dmesg(k).includes("KHO: Failed to convert KHO state tree: -3"));
	t.notOk(kho_is_finalized(k));
});

t.test("a block registered twice is EEXIST with a warning; unregistering an unknown one is ENOENT", async (t) => {
	const k = bootKho();
	function luo_kho_notifier(): number {
		return NOTIFY_DONE;
	}
	const nb: KhoNotifierBlock = { notifier_call: luo_kho_notifier };
	register_kho_notifier(k, nb);
	t.equal(errnoOf(() => register_kho_notifier(k, nb)), EEXIST);
	t.ok(dmesg(k).includes("notifier callback luo_kho_notifier already registered"));
	unregister_kho_notifier(k, nb);
	t.equal(errnoOf(() => unregister_kho_notifier(k, nb)), ENOENT);
});

t.test("a notifier that calls kho_finalize deadlocks on kho_out.lock: a kernel bug, thrown", async (t) => {
	const k = bootKho();
	const nb = onFinalize(() => void kho_finalize(k));
	register_kho_notifier(k, nb);
	t.throws(() => kho_finalize(k), /deadlock/);
	unregister_kho_notifier(k, nb);
	kho_finalize(k);
	t.ok(kho_is_finalized(k), "the lock was released");
});

t.test("abort gives back every chunk and bitmap frame finalize took", async (t) => {
	const k = bootKho();
	for (let i = 0; i < 20; i++) kho_preserve_phys(k, 0x1000000 * (i + 1), PAGE_SIZE);
	const free = k.buddy.nr_free_pages();
	kho_finalize(k);
	t.ok(k.buddy.nr_free_pages() < free);
	kho_abort(k);
	t.equal(k.buddy.nr_free_pages(), free);
});
