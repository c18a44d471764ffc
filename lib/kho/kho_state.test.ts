import t from "tap";
import { KHO_MAX_FDT_READ, khoDebugfsEnabled, khoReadFdt, khoState } from "./kho_state.ts";
import { bootKernel } from "../kernel/machine.ts";
import { fdt_create_empty_tree, fdt_totalsize } from "../fdt/libfdt.ts";

t.test("a booted kernel's KHO state is initialized, not finalized, with no incoming data, one per kernel", async (t) => {
	const k = bootKernel();
	const st = khoState(k);
	t.equal(st.enable, true, "rfc-v2 boots with kho=on");
	t.equal(st.booted, true, "Kernel boot ran khoInit");
	t.equal(st.out.finalized, false);
	t.equal(st.in.fdtPhys, 0);
	t.equal(khoState(k), st);
	t.not(khoState(bootKernel()), st);
});

t.test("the debugfs tree needs KEXEC_HANDOVER, its DEBUGFS option and DEBUG_FS", async (t) => {
	t.ok(khoDebugfsEnabled(bootKernel()));
	t.notOk(khoDebugfsEnabled(bootKernel({ config: { KEXEC_HANDOVER_DEBUGFS: false } })));
	t.notOk(khoDebugfsEnabled(bootKernel({ config: { KEXEC_HANDOVER: false } })));
	t.notOk(khoDebugfsEnabled(bootKernel({ config: { DEBUG_FS: false } })));
});

t.test("khoReadFdt reads totalsize bytes, cut at the end of memory and at 4 MiB", async (t) => {
	const k = bootKernel();
	const pm = k.machine.physmem;
	const tree = new Uint8Array(256);
	fdt_create_empty_tree(tree, 256);
	pm.write(0x200000, tree);
	t.same(khoReadFdt(k, 0x200000), tree);
	pm.write(0x300000, new Uint8Array(8).fill(0xaa));
	t.equal(khoReadFdt(k, 0x300000).length, KHO_MAX_FDT_READ, "poison's 0xaaaaaaaa totalsize");
	pm.write(pm.sizeBytes - 8, new Uint8Array([0xd0, 0x0d, 0xfe, 0xed, 0, 0, 1, 0]));
	t.equal(khoReadFdt(k, pm.sizeBytes - 8).length, 8, "the end of memory");
	t.equal(khoReadFdt(k, pm.sizeBytes).length, 0, "outside memory");
	t.equal(khoReadFdt(k, -4).length, 0);
	t.equal(fdt_totalsize(khoReadFdt(k, 0x200000)), 256);
});
