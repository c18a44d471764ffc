import t from "tap";
import { kho_finalize, kho_is_enabled, khoInit, khoScratchAreas } from "./kho.ts";
import { khoState } from "./kho_state.ts";
import { bootKho, dmesg, errnoOf } from "./testing.ts";
import { EOPNOTSUPP } from "../kernel/errno.ts";
import { debugfsLookup } from "../fs/debugfs.ts";

t.test("kho=on (the rfc-v2 default command line) enables KHO; kho=off or no kho= does not", async (t) => {
	t.ok(kho_is_enabled(bootKho()), "rfc-v2 boots with kho=on");
	for (const cmdline of ["kho=1", "kho=y", "kho=on", "kho=off kho=on"]) t.ok(kho_is_enabled(bootKho({ cmdline })), cmdline);
	for (const cmdline of ["kho=off", "kho=0", "kho=n", "kho=on kho=off"]) t.notOk(kho_is_enabled(bootKho({ cmdline })), cmdline);
	t.ok(kho_is_enabled(bootKho({ abi: "mainline" })), "mainline: on by default (CONFIG_KEXEC_HANDOVER_ENABLE_DEFAULT)");
	t.notOk(kho_is_enabled(bootKho({ abi: "mainline", config: { KEXEC_HANDOVER_ENABLE_DEFAULT: false } })), "mainline without the default needs kho=on");
});

t.test("a bare or unparsable kho= is a malformed early option and changes nothing", async (t) => {
	for (const [cmdline, on] of [["kho=off kho", false], ["kho=maybe kho=off", false], ["kho=on kho=maybe", true]] as const) {
		const k = bootKho({ cmdline });
		t.equal(kho_is_enabled(k), on, cmdline);
		t.ok(dmesg(k).includes("Malformed early option 'kho'"), `${cmdline} warns`);
	}
});

t.test("a malformed kho_scratch= is reported and the default sizes are used", async (t) => {
	const k = bootKho({ cmdline: "kho_scratch=16M" });
	t.ok(dmesg(k).includes("Malformed early option 'kho_scratch'"));
	t.same(khoScratchAreas(k).map((a) => a.size), [0x800000, 0x8000000, 0x8800000]);
	t.ok(kho_is_enabled(k));
});

t.test("scratch that does not fit disables KHO, leaving nothing reserved but the first MiB", async (t) => {
	const k = bootKho({ cmdline: "kho_scratch=1G,1G,8G" });
	t.notOk(kho_is_enabled(k));
	t.same(khoScratchAreas(k), []);
	t.equal(k.buddy.nr_reserved_pages(), 256);
	t.equal(debugfsLookup(k, "kho", null), null, "no debugfs tree");
	t.equal(errnoOf(() => kho_finalize(k)), EOPNOTSUPP);
});

t.test("the first MiB is reserved, so no KHO pointer is ever physical address 0", async (t) => {
	const k = bootKho();
	t.ok(k.buddy.PageReserved(0) && k.buddy.PageReserved(255));
	t.notOk(k.buddy.PageReserved(256));
	t.ok(khoState(k).out.ser.fdt!.pfn >= 256, "the root FDT page lies above it");
	const off = bootKho({ config: { KEXEC_HANDOVER: false } });
	t.ok(off.buddy.PageReserved(0), "whatever the config");
});

t.test("khoInit runs once per kernel", async (t) => {
	const k = bootKho();
	t.throws(() => khoInit(k, null), /already initialized/);
});

t.test("with CONFIG_KEXEC_HANDOVER off nothing is parsed or reserved", async (t) => {
	const k = bootKho({ config: { KEXEC_HANDOVER: false }, cmdline: "kho_scratch=bad" });
	t.notOk(kho_is_enabled(k));
	t.same(khoScratchAreas(k), []);
	t.notOk(dmesg(k).some((l) => l.includes("Malformed")), "kho_scratch= is not an option of this kernel");
});
