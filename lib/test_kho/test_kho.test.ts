import t from "tap";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Machine } from "../kernel/machine.ts";
import { csum_partial } from "../kernel/checksum.ts";
import { folio_address, folio_alloc, folio_pfn } from "../mm/folio.ts";
import { MAX_PAGE_ORDER, PAGE_POISON, PAGE_SIZE, PFN_PHYS, PHYS_PFN } from "../mm/physmem.ts";
import { cpu_to_le64, fdt_begin_node, fdt_end_node, fdt_property } from "../fdt/libfdt.ts";
import { dtcDecompile, dtcSkipReason } from "../fdt/fdt-oracle.ts";
import { kho_abort, kho_finalize } from "../kho/kho.ts";
import { craftHandover, readBytes, writeText } from "../kho/testing.ts";
import { kexecViaFile } from "../kexec/kexec_dump.ts";
import { loadBootImage, runOutcome } from "../kexec/testing.ts";
import { KHO_TEST_COMPAT, KHO_TEST_MAX_MEM, kho_test_init } from "./test_kho.ts";
import { bootTestKho, handedOverKhoTest, kexecTestKho, parseKhoTestFdt, RESTORE_SUCCEEDED, testKhoLines, TEST_KHO_ON, type KhoTestFdt } from "./testing.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { PhysicalMemory } from "../mm/physmem.ts";

const SUB_FDT = "/sys/kernel/debug/kho/out/sub_fdts/kho_test";
const IN_SUB_FDT = "/sys/kernel/debug/kho/in/sub_fdts/kho_test";
/** A small size for tests that do not need the default 8 MiB. */
const SMALL = "test_kho.max_mem=0x40000";

function exists(k: Kernel, path: string): boolean {
	try {
		readBytes(k, path);
		return true;
	} catch {
		return false;
	}
}

/** The checksum of the folios as memory holds them now, chained as test_kho chains it. */
function memCsum(pm: PhysicalMemory, d: KhoTestFdt): number {
	let csum = 0;
	for (const f of d.folios) csum = csum_partial(pm.read(f.phys, PAGE_SIZE * 2 ** f.order), undefined, csum);
	return csum;
}

t.test("first boot: random folios up to max_mem, preserved, and the sub-FDT as the C writes it at finalize", async (t) => {
	const k = bootTestKho();
	t.same(testKhoLines(k), [], "nothing to say on a first boot");
	t.notOk(exists(k, SUB_FDT), "no subtree before finalize");
	kho_finalize(k);
	const d = parseKhoTestFdt(readBytes(k, SUB_FDT));
	t.same(d.compatible, new TextEncoder().encode(`${KHO_TEST_COMPAT}\0`), "compatible with its NUL");
	t.same(d.magic, new Uint8Array([0x21, 0x4f, 0x48, 0x4b]), "magic 0x4b484f21 in CPU order");
	t.equal(d.nr_folios, d.folios.length);
	t.equal(d.folios.reduce((n, f) => n + PAGE_SIZE * 2 ** f.order, 0), KHO_TEST_MAX_MEM, "8 MiB by default");
	t.ok(d.folios.every((f) => f.order >= 0 && f.order <= MAX_PAGE_ORDER && f.phys % (PAGE_SIZE * 2 ** f.order) === 0), "orders 0..10, naturally aligned");
	t.ok(new Set(d.folios.map((f) => f.order)).size > 1, "orders are random");
	t.equal(d.csum, memCsum(k.machine.physmem, d), "csum_partial over the folios' bytes");
	t.not(d.csum, 0);
	const root = readBytes(k, "/sys/kernel/debug/kho/out/fdt");
	t.ok(new TextDecoder("latin1").decode(root).includes("kho_test"), "a kho_test node in the root FDT");
});

t.test("dtc reads the kho_test FDT", { skip: dtcSkipReason() }, async (t) => {
	const k = bootTestKho(SMALL);
	kho_finalize(k);
	const dts = dtcDecompile(readBytes(k, SUB_FDT));
	t.match(dts, /compatible = "kho-test-v1";/);
	t.match(dts, /magic = <0x214f484b>;/);
	t.match(dts, /data \{[^}]*nr_folios = <0x[0-9a-f]+>;[^}]*folios_info = [<[][^;]*;[^}]*csum = <0x[0-9a-f]+>;/s);
});

t.test("max_mem: test_kho.max_mem sizes the data (page aligned); a bad value is reported and the default kept", async (t) => {
	const sizeOf = (k: Kernel): number => {
		kho_finalize(k);
		return parseKhoTestFdt(readBytes(k, SUB_FDT)).folios.reduce((n, f) => n + PAGE_SIZE * 2 ** f.order, 0);
	};
	t.equal(sizeOf(bootTestKho("test_kho.max_mem=100000")), 102400);
	const bad = bootTestKho("test_kho.max_mem=lots");
	t.equal(sizeOf(bad), KHO_TEST_MAX_MEM);
	t.ok(bad.log.all().some((r) => r.text === "Booting kernel: `lots' invalid for parameter `test_kho.max_mem'"));
	const none = bootTestKho("test_kho.max_mem=0");
	kho_finalize(none);
	const d = parseKhoTestFdt(readBytes(none, SUB_FDT));
	t.same([d.nr_folios, d.folios.length, d.csum], [0, 0, 0], "no folios");
	const k2 = await kexecTestKho(none, { finalize: false });
	t.same(testKhoLines(k2), [RESTORE_SUCCEEDED], "nothing to restore is a success");
	const neg = bootTestKho("test_kho.max_mem=-8192");
	kho_finalize(neg);
	t.notOk(exists(neg, SUB_FDT), "a negative max_mem: -ENOMEM, no notifier");
});

t.test("off unless test_kho.enable=1, and only with CONFIG_KEXEC_HANDOVER", async (t) => {
	for (const cmdline of ["", "test_kho.enable=0", "test_kho.max_mem=4096"]) {
		const k = new Machine().boot({ cmdline });
		kho_finalize(k);
		t.notOk(exists(k, SUB_FDT), `"${cmdline}": no subtree`);
	}
	const noKho = new Machine().boot({ cmdline: TEST_KHO_ON, config: { KEXEC_HANDOVER: false } });
	t.equal(kho_test_init(noKho), 0);
	t.same(testKhoLines(noKho), []);
	t.equal(noKho.buddy.nr_free_pages(), new Machine().boot({ config: { KEXEC_HANDOVER: false } }).buddy.nr_free_pages(), "allocated nothing");
});

t.test("passes across 5 chained kexecs: each kernel verifies the last one's data and saves its own", async (t) => {
	let k = bootTestKho();
	for (let hop = 1; hop <= 5; hop++) {
		const prev = k;
		k = await kexecTestKho(k);
		t.not(k, prev);
		t.same(testKhoLines(k), [RESTORE_SUCCEEDED], `kexec ${hop}`);
		t.ok(exists(k, IN_SUB_FDT), "the subtree came in");
	}
});

t.test("passes through a file, each hop booting in a new Node process", async (t) => {
	const dir = mkdtempSync(join(tmpdir(), "luosim-test-kho-"));
	t.teardown(() => rmSync(dir, { recursive: true, force: true }));
	const hop = fileURLToPath(new URL("./testdata/hop.ts", import.meta.url));
	const k = bootTestKho(SMALL, { memBytes: 256 * 1024 * 1024 });
	kho_finalize(k);
	await runOutcome(k, (u) => void t.equal(loadBootImage(u, k.cmdline.text), 0));
	kexecViaFile(k, join(dir, "1"));
	const pids = new Set([process.pid]);
	for (const [input, output] of [["1", "2"], ["2", undefined]] as const) {
		const r = spawnSync(process.execPath, ["--import", "tsx", hop, join(dir, input), ...(output ? [join(dir, output)] : [])], { encoding: "utf8" });
		t.equal(r.status, 0, r.stderr);
		const [pidLine, ...lines] = r.stdout.trimEnd().split("\n");
		pids.add(Number(/^pid (\d+)$/.exec(pidLine ?? "")?.[1]));
		t.same(lines, [RESTORE_SUCCEEDED], `the kernel from dump ${input}`);
	}
	t.equal(pids.size, 3, "three host processes");
});

t.test("one byte flipped between two boots makes the restore fail; the next hop passes again", async (t) => {
	const flips: [string, (pm: PhysicalMemory, fdtPhys: number, d: KhoTestFdt) => number][] = [
		["a byte of a preserved folio", (_pm, _f, d) => d.folios[d.folios.length - 1]!.phys + 1234],
		["the magic", (pm, fdtPhys) => fdtPhys + locate(pm, fdtPhys, [0x21, 0x4f, 0x48, 0x4b])],
		["a csum byte", (pm, fdtPhys, d) => fdtPhys + locate(pm, fdtPhys, [...cpuBytes(d.csum!)])],
	];
	for (const [what, where] of flips) {
		const k1 = bootTestKho(SMALL);
		let flipped = -1;
		const k2 = await kexecTestKho(k1, {
			between: (pm, jump) => {
				const ho = handedOverKhoTest(pm, jump.handoverPhys!);
				flipped = where(pm, ho.fdtPhys, ho.fdt);
				pm.write(flipped, new Uint8Array([pm.read(flipped, 1)[0]! ^ 0x01]));
			},
		});
		t.ok(flipped > 0, what);
		t.same(testKhoLines(k2), [], `${what}: no success line`);
		t.ok(exists(k2, IN_SUB_FDT), "the subtree did come in");
		const k3 = await kexecTestKho(k2);
		t.same(testKhoLines(k3), [RESTORE_SUCCEEDED], "k2 saved again, and that crosses fine");
	}
});

function cpuBytes(v: number): Uint8Array {
	const b = new Uint8Array(4);
	new DataView(b.buffer).setUint32(0, v, true);
	return b;
}

/** The offset of `bytes` inside the FDT at `phys` (throws when absent). */
function locate(pm: PhysicalMemory, phys: number, bytes: number[]): number {
	const size = new DataView(pm.read(phys + 4, 4).buffer).getUint32(0, false);
	const fdt = pm.read(phys, size);
	for (let i = 0; i + bytes.length <= fdt.length; i++) if (bytes.every((b, j) => fdt[i + j] === b)) return i;
	throw new Error("bytes not found in the FDT");
}

t.test("what test_kho preserved crosses byte for byte; frames written but not preserved read back poisoned", async (t) => {
	const k1 = bootTestKho(SMALL);
	// A 4 MiB block above what the next kernel's boot allocates, so that nothing there reuses it before we look.
	const stray = folio_alloc(k1.buddy, MAX_PAGE_ORDER)!;
	folio_address(stray).fill(0x5a);
	const strayPhys = PFN_PHYS(folio_pfn(stray));
	let d: KhoTestFdt | null = null;
	// The next kernel boots without test_kho, so nothing restores, frees or reuses the preserved folios.
	const k2 = await kexecTestKho(k1, {
		cmdline: "kho=on",
		between: (pm, jump) => {
			d = handedOverKhoTest(pm, jump.handoverPhys!).fdt;
			t.ok(pm.read(strayPhys, 4096).every((b) => b === 0x5a), "written before the kexec");
		},
	});
	const pm = k2.machine.physmem;
	t.ok(k2.buddy.page_is_free(PHYS_PFN(strayPhys)), "the next kernel did not touch the block");
	t.ok(pm.isPoisoned(PHYS_PFN(strayPhys)), "the unpreserved frames are poisoned");
	t.ok(pm.read(strayPhys, PAGE_SIZE * 2 ** MAX_PAGE_ORDER).every((b) => b === PAGE_POISON), "and read as 0xaa");
	t.ok(d!.folios.length > 0);
	t.ok(d!.folios.every((f) => !pm.isPoisoned(PHYS_PFN(f.phys))), "preserved folios are not poisoned");
	t.equal(memCsum(pm, d!), d!.csum, "their bytes sum to what test_kho stored");
});

t.test("kexec without finalize hands nothing over: the next test_kho starts afresh", async (t) => {
	const k1 = bootTestKho(SMALL);
	const k2 = await kexecTestKho(k1, { finalize: false });
	t.same(testKhoLines(k2), []);
	t.notOk(exists(k2, IN_SUB_FDT));
	t.same(testKhoLines(await kexecTestKho(k2)), [RESTORE_SUCCEEDED], "its own data crosses the next kexec");
});

t.test("finalize, abort, finalize: the seed's abort forgets the folios, only the FDT is preserved again, the restore fails", async (t) => {
	const k1 = bootTestKho(SMALL);
	kho_finalize(k1);
	kho_abort(k1);
	const k2 = await kexecTestKho(k1);
	t.same(testKhoLines(k2), []);
	t.ok(k2.log.all().some((r) => /KHO: luosim: kho_restore_folio\(0x[0-9a-f]+\): not the start of a preserved block/.test(r.text)), "the first folio was not preserved");
});

t.test("a kho_test node whose address property is malformed: the retrieve error is logged", async (t) => {
	const k1 = new Machine().boot();
	const handover = craftHandover(k1, {
		nodes: (fdt) => {
			fdt_begin_node(fdt, "kho_test");
			fdt_property(fdt, "fdt", cpu_to_le64(0x200000).subarray(0, 4));
			fdt_end_node(fdt);
		},
	});
	const k2 = k1.machine.kexecBoot({ cmdline: TEST_KHO_ON }, handover);
	t.same(testKhoLines(k2), ["test_kho: failed to retrieve kho_test FDT: -22"]);
	writeText(k2, "/sys/kernel/debug/kho/out/finalize", "1");
	t.notOk(exists(k2, SUB_FDT), "and the module stops there, as the C does");
});
