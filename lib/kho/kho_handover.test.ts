import t from "tap";
import { khoHandoverAddress, khoScratchAreas, SETUP_KEXEC_KHO } from "./kho.ts";
import { kho_data_decode, KHO_DATA_SIZE, SETUP_DATA_HDR_SIZE, setup_data_decode } from "./kho_handover.ts";
import { kho_scratch_decode } from "./kho_scratch.ts";
import { khoState } from "./kho_state.ts";
import { bootKho, errnoOf } from "./testing.ts";
import { ENOMEM } from "../kernel/errno.ts";
import { PAGE_SIZE, PFN_PHYS } from "../mm/physmem.ts";

t.test("the handover is an x86 setup_data of type SETUP_KEXEC_KHO holding struct kho_data and the scratch array", async (t) => {
	const k = bootKho();
	const phys = khoHandoverAddress(k)!;
	const pm = k.machine.physmem;
	t.equal(phys % PAGE_SIZE, 0);
	t.equal(SETUP_KEXEC_KHO, 10);
	t.same(setup_data_decode(pm.read(phys, SETUP_DATA_HDR_SIZE)), { next: 0, type: 10, len: 32 });
	const kho = kho_data_decode(pm.read(phys + SETUP_DATA_HDR_SIZE, KHO_DATA_SIZE));
	t.same(kho, { fdtAddr: PFN_PHYS(khoState(k).out.ser.fdt!.pfn), fdtSize: PAGE_SIZE, scratchAddr: phys + 48, scratchSize: 48 });
	t.same(kho_scratch_decode(pm.read(kho.scratchAddr, kho.scratchSize)), khoScratchAreas(k));
	t.same([...pm.read(phys, 16)], [0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 32, 0, 0, 0], "little-endian bytes");
});

t.test("the handover frame is taken once and rewritten on later calls", async (t) => {
	const k = bootKho();
	const a = khoHandoverAddress(k);
	const free = k.buddy.nr_free_pages();
	k.machine.physmem.write(a!, new Uint8Array(64));
	t.equal(khoHandoverAddress(k), a);
	t.equal(k.buddy.nr_free_pages(), free);
	t.equal(setup_data_decode(k.machine.physmem.read(a!, 16)).type, SETUP_KEXEC_KHO);
});

t.test("without KHO there is no handover", async (t) => {
	t.equal(khoHandoverAddress(bootKho({ cmdline: "kho=off" })), null);
	t.equal(khoHandoverAddress(bootKho({ config: { KEXEC_HANDOVER: false } })), null);
});

t.test("no free frame for the handover is ENOMEM", async (t) => {
	const k = bootKho({}, { memBytes: 64 * 1024 * 1024 });
	while (k.buddy.alloc_pages(0) !== null);
	t.equal(errnoOf(() => khoHandoverAddress(k)), ENOMEM);
});
