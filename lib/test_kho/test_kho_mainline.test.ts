import t from "tap";
import { fdt_getprop, fdt_path_offset, fdt_subnode_offset, le32_ld } from "../fdt/libfdt.ts";
import { PAGE_SIZE } from "../mm/physmem.ts";
import { kho_retrieve_subtree, kho_vmalloc_decode } from "../kho/mainline/kho.ts";
import { khoReadFdt } from "../kho/kho_state.ts";
import { bootMainline, errnoOf, kexecMainline, outFdt } from "../kho/mainline/testing.ts";
import { ENOENT } from "../kernel/errno.ts";
import { KHO_TEST_COMPAT } from "./test_kho.ts";
import { kho_test_init_mainline } from "./test_kho_mainline.ts";
import { kexecTestKho, RESTORE_SUCCEEDED, testKhoLines, TEST_KHO_ON } from "./testing.ts";
import type { Kernel } from "../kernel/kernel.ts";

const SMALL = "test_kho.max_mem=0x40000";
const ON = `${TEST_KHO_ON} ${SMALL}`;

/** The outgoing kho_test FDT of `k`. */
function testFdt(k: Kernel): Uint8Array {
	const root = outFdt(k);
	const node = fdt_subnode_offset(root, 0, "kho_test");
	const phys = new DataView(fdt_getprop(root, node, "preserved-data")!.slice().buffer).getBigUint64(0, true);
	return khoReadFdt(k, Number(phys));
}

t.test("a first boot preserves its data and adds the kho_test subtree", async (t) => {
	const k = bootMainline({ cmdline: ON });
	const fdt = testFdt(k);
	t.equal(new TextDecoder().decode(fdt_getprop(fdt, 0, "compatible")!), `${KHO_TEST_COMPAT}\0`);
	const data = fdt_path_offset(fdt, "/data");
	t.equal(fdt_getprop(fdt, data, "folios_info")!.length, 16, "a struct kho_vmalloc");
	const desc = kho_vmalloc_decode(fdt_getprop(fdt, data, "folios_info")!);
	t.equal(desc.total_pages, Math.ceil((le32_ld(fdt_getprop(fdt, data, "nr_folios")!) * 8) / PAGE_SIZE));
	t.same(testKhoLines(k), [], "nothing to restore on a cold boot");
});

t.test("the next kernel restores and verifies it: KHO restore succeeded", async (t) => {
	const k2 = kexecMainline(bootMainline({ cmdline: ON }));
	t.same(testKhoLines(k2), [RESTORE_SUCCEEDED]);
});

t.test("it chains: each kernel verifies the previous one's data and saves its own", async (t) => {
	let k = bootMainline({ cmdline: ON });
	for (let i = 0; i < 3; i++) {
		k = kexecMainline(k);
		t.same(testKhoLines(k), [RESTORE_SUCCEEDED], `hop ${i + 1}`);
	}
});

t.test("a changed byte in a preserved folio makes the restore fail", async (t) => {
	const k = bootMainline({ cmdline: ON });
	const fdt = testFdt(k);
	const desc = kho_vmalloc_decode(fdt_getprop(fdt, fdt_path_offset(fdt, "/data"), "folios_info")!);
	const first = Number(new DataView(k.machine.physmem.read(desc.first + 8, 8).buffer).getBigUint64(0, true));
	const infoPage = Math.floor(first / PAGE_SIZE) * PAGE_SIZE;
	const folio = Number(new DataView(k.machine.physmem.read(infoPage, 8).buffer).getBigUint64(0, true)) & ~(PAGE_SIZE - 1);
	const b = k.machine.physmem.read(folio, 1);
	k.machine.physmem.write(folio, new Uint8Array([b[0]! ^ 0xff]));
	t.same(testKhoLines(kexecMainline(k)), ["test_kho: KHO restore failed"]);
});

t.test("the full kexec path (kexec_file_load + reboot) without finalize works", async (t) => {
	const k = bootMainline({ cmdline: ON });
	const k2 = await kexecTestKho(k, { finalize: false });
	t.equal(k2.abi, "mainline");
	t.same(testKhoLines(k2), [RESTORE_SUCCEEDED]);
});

t.test("without test_kho.enable=1, with KHO off, or on a seed-era kernel it does nothing", async (t) => {
	const off = bootMainline();
	t.equal(errnoOf(() => kho_retrieve_subtree(kexecMainline(off), "kho_test")), ENOENT, "nothing was saved");
	const khoOff = bootMainline({ cmdline: `${ON} kho=off` });
	t.equal(kho_test_init_mainline(khoOff), 0);
	const seed = bootMainline({ abi: "rfc-v2", cmdline: ON });
	t.equal(kho_test_init_mainline(seed), 0);
});
