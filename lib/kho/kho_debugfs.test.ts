import t from "tap";
import {
	KEXEC_KHO_ABORT,
	KEXEC_KHO_FINALIZE,
	kho_add_subtree,
	kho_finalize,
	kho_is_finalized,
	kho_preserve_phys,
	khoScratchAreas,
	NOTIFY_DONE,
	notifier_from_errno,
	register_kho_notifier,
	type KhoNotifierBlock,
	type KhoSerialization,
} from "./kho.ts";
import { khoState } from "./kho_state.ts";
import { bootKho, craftHandover, dmesg, errnoOf, kexec, makeSubFdt, readBytes, readText, writeText } from "./testing.ts";
import { run } from "../kernel/testing.ts";
import { EACCES, EBUSY, EEXIST, EINVAL, EIO, ENOENT, ERANGE } from "../kernel/errno.ts";
import { S_IFDIR, S_IFREG } from "../fs/inode.ts";
import { O_RDONLY } from "../fs/fcntl.ts";
import { PAGE_SIZE, PFN_PHYS } from "../mm/physmem.ts";
import { cpu_to_le64, fdt_begin_node, fdt_end_node, fdt_getprop_le64, fdt_property, fdt_totalsize } from "../fdt/libfdt.ts";
import { dtcDecompile, dtcSkipReason } from "../fdt/fdt-oracle.ts";
import type { Kernel } from "../kernel/kernel.ts";

const D = "/sys/kernel/debug/kho";

function mode(k: Kernel, path: string): number {
	return k.vfs.lookup(null, path).inode.mode;
}

function exists(k: Kernel, path: string): boolean {
	return errnoOf(() => k.vfs.lookup(null, path)) === 0;
}

function onFinalize(fn: (ser: KhoSerialization) => number | void): KhoNotifierBlock {
	return { notifier_call: (_nb, ev, ser) => (ev === KEXEC_KHO_FINALIZE ? (fn(ser!) ?? NOTIFY_DONE) : NOTIFY_DONE) };
}

/** dtc's rendering of a little-endian u64 property: two big-endian cells, "0x%02x". */
function leCells(v: number): string {
	const b = cpu_to_le64(v);
	const cell = (o: number): string => `0x${(((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0).toString(16).padStart(2, "0")}`;
	return `<${cell(0)} ${cell(4)}>`;
}

t.test("the out/ tree has the digest's names and modes; no fdt and no in/ on a first boot", async (t) => {
	const k = bootKho();
	t.equal(mode(k, D), S_IFDIR | 0o755);
	t.equal(mode(k, `${D}/out`), S_IFDIR | 0o755);
	t.equal(mode(k, `${D}/out/sub_fdts`), S_IFDIR | 0o755);
	t.equal(mode(k, `${D}/out/finalize`), S_IFREG | 0o600);
	t.equal(mode(k, `${D}/out/scratch_phys`), S_IFREG | 0o400);
	t.equal(mode(k, `${D}/out/scratch_len`), S_IFREG | 0o400);
	t.notOk(exists(k, `${D}/out/fdt`));
	t.notOk(exists(k, `${D}/in`));
});

t.test("there is no kho/ without kho=on, without its debugfs option, or without KHO", async (t) => {
	for (const boot of [{ cmdline: "kho=off" }, { config: { KEXEC_HANDOVER_DEBUGFS: false } }, { config: { KEXEC_HANDOVER: false } }]) {
		const k = bootKho(boot);
		t.notOk(exists(k, D), JSON.stringify(boot));
	}
	const k = bootKho({ config: { KEXEC_HANDOVER_DEBUGFS: false } });
	kho_finalize(k);
	t.ok(kho_is_finalized(k), "KHO works without its debugfs");
});

t.test("finalize reads 0 or 1; writing 1 finalizes and 0 aborts, returning the whole write", async (t) => {
	const k = bootKho();
	t.equal(readText(k, `${D}/out/finalize`), "0\n");
	t.equal(writeText(k, `${D}/out/finalize`, "1\n"), 2);
	t.ok(kho_is_finalized(k));
	t.equal(readText(k, `${D}/out/finalize`), "1\n");
	t.ok(exists(k, `${D}/out/fdt`));
	t.equal(writeText(k, `${D}/out/finalize`, "0"), 1);
	t.notOk(kho_is_finalized(k));
	t.notOk(exists(k, `${D}/out/fdt`));
	t.equal(writeText(k, `${D}/out/finalize`, "0x10"), 4, "any non-zero value finalizes (base 0)");
	t.ok(kho_is_finalized(k));
});

t.test("writing the current state is EEXIST (1) or ENOENT (0); bad text EINVAL, overflow ERANGE", async (t) => {
	const k = bootKho();
	const f = `${D}/out/finalize`;
	t.equal(errnoOf(() => writeText(k, f, "0")), ENOENT);
	for (const bad of ["", "yes", "1x", "-1", "1\n\n", " 1"]) t.equal(errnoOf(() => writeText(k, f, bad)), EINVAL, JSON.stringify(bad));
	t.equal(errnoOf(() => writeText(k, f, "99999999999999999999")), ERANGE);
	t.notOk(kho_is_finalized(k), "no failed write changed anything");
	writeText(k, f, "1");
	t.equal(errnoOf(() => writeText(k, f, "1")), EEXIST);
	t.equal(errnoOf(() => writeText(k, f, "7")), EEXIST, "7 means 1");
	t.ok(kho_is_finalized(k));
});

t.test("a failing notifier fails the finalize write with its errno and leaves 0", async (t) => {
	const k = bootKho();
	const sub = makeSubFdt(k, "luo-v1");
	let fail = true;
	register_kho_notifier(k, onFinalize((ser) => {
		kho_add_subtree(ser, "LUO", sub);
		return fail ? notifier_from_errno(-EINVAL) : NOTIFY_DONE;
	}));
	t.equal(errnoOf(() => writeText(k, `${D}/out/finalize`, "1")), EINVAL);
	t.equal(readText(k, `${D}/out/finalize`), "0\n");
	t.notOk(exists(k, `${D}/out/sub_fdts/LUO`), "C2: no stale subtree entry");
	fail = false;
	writeText(k, `${D}/out/finalize`, "1");
	t.ok(exists(k, `${D}/out/sub_fdts/LUO`));
});

t.test("a failing ABORT notifier fails the 0 write with its errno and leaves 1", async (t) => {
	const k = bootKho();
	let fail = true;
	register_kho_notifier(k, { notifier_call: (_nb, ev) => (ev === KEXEC_KHO_ABORT && fail ? notifier_from_errno(-EBUSY) : NOTIFY_DONE) });
	writeText(k, `${D}/out/finalize`, "1");
	t.equal(errnoOf(() => writeText(k, `${D}/out/finalize`, "0")), EBUSY);
	t.equal(readText(k, `${D}/out/finalize`), "1\n");
	t.ok(exists(k, `${D}/out/fdt`), "the finalized tree stays visible");
	fail = false;
	t.equal(writeText(k, `${D}/out/finalize`, "0"), 1);
	t.equal(readText(k, `${D}/out/finalize`), "0\n");
});

t.test("scratch_phys and scratch_len list the areas in hex, one per line; writes are EINVAL", async (t) => {
	const k = bootKho();
	t.equal(readText(k, `${D}/out/scratch_phys`), "0xff600000\n0xf7600000\n0xeee00000\n");
	t.equal(readText(k, `${D}/out/scratch_len`), "0x800000\n0x8000000\n0x8800000\n");
	t.same(khoScratchAreas(k).map((a) => a.size), [0x800000, 0x8000000, 0x8800000]);
	t.equal(errnoOf(() => writeText(k, `${D}/out/scratch_phys`, "0x0\n")), EINVAL);
	t.equal(errnoOf(() => writeText(k, `${D}/out/scratch_len`, "0x0\n")), EINVAL);
	const f = k.vfs.open(null, `${D}/out/scratch_len`, O_RDONLY);
	f.f_op.llseek!(f, 9, 0);
	t.equal(new TextDecoder().decode(k.vfs.kernelRead(f, 100)), "0x8000000\n0x8800000\n", "seekable like a seq_file");
	t.equal(errnoOf(() => f.f_op.llseek!(f, 0, 2)), EINVAL, "SEEK_END is EINVAL");
	f.put();
	const small = bootKho({ cmdline: "kho_scratch=1M,3M,3M" });
	t.equal(readText(small, `${D}/out/scratch_len`), "0x100000\n0x300000\n0x400000\n", "explicit sizes as given, the node one rounded");
});

t.test("out/fdt holds the finalized root FDT, fdt_totalsize bytes; sub_fdts/<name> each subtree", async (t) => {
	const k = bootKho();
	const sub = makeSubFdt(k, "test-v1");
	register_kho_notifier(k, onFinalize((ser) => {
		kho_preserve_phys(k, sub, PAGE_SIZE);
		kho_add_subtree(ser, "test", sub);
		t.ok(exists(k, `${D}/out/sub_fdts/test`), "the subtree file appears at kho_add_subtree time");
		t.notOk(exists(k, `${D}/out/fdt`), "the root one only once finalized");
	}));
	writeText(k, `${D}/out/finalize`, "1");
	const fdtPhys = PFN_PHYS(khoState(k).out.ser.fdt!.pfn);
	const dtb = readBytes(k, `${D}/out/fdt`);
	t.equal(dtb.length, fdt_totalsize(dtb));
	t.ok(dtb.length < PAGE_SIZE, "compact, not the page");
	t.same(dtb, k.machine.physmem.read(fdtPhys, dtb.length));
	const subBytes = readBytes(k, `${D}/out/sub_fdts/test`);
	t.equal(subBytes.length, PAGE_SIZE, "an empty tree made in a page has that page's totalsize");
	t.same(subBytes, k.machine.physmem.read(sub, PAGE_SIZE));
	t.equal(mode(k, `${D}/out/fdt`), S_IFREG | 0o400);
	t.equal(mode(k, `${D}/out/sub_fdts/test`), S_IFREG | 0o400);
	t.equal(errnoOf(() => writeText(k, `${D}/out/fdt`, "x")), EINVAL, "blobs have no write");
});

t.test("abort removes out/fdt and every out/sub_fdts entry; open files then read EIO", async (t) => {
	const k = bootKho();
	const sub = makeSubFdt(k, "test-v1");
	register_kho_notifier(k, onFinalize((ser) => kho_add_subtree(ser, "test", sub)));
	writeText(k, `${D}/out/finalize`, "1");
	const held = k.vfs.open(null, `${D}/out/sub_fdts/test`, O_RDONLY);
	writeText(k, `${D}/out/finalize`, "0");
	t.notOk(exists(k, `${D}/out/fdt`));
	t.notOk(exists(k, `${D}/out/sub_fdts/test`));
	t.ok(exists(k, `${D}/out/sub_fdts`), "the directory stays");
	t.equal(errnoOf(() => k.vfs.kernelRead(held, 10)), EIO);
	held.put();
});

t.test("dtc reads out/fdt as the kho-v1 tree with its map and subtrees", { skip: dtcSkipReason() }, async (t) => {
	const k = bootKho();
	const sub = makeSubFdt(k, "test-v1");
	register_kho_notifier(k, onFinalize((ser) => kho_add_subtree(ser, "test", sub)));
	writeText(k, `${D}/out/finalize`, "1");
	const dtb = readBytes(k, `${D}/out/fdt`);
	const map = [0n];
	fdt_getprop_le64(dtb, 0, "preserved-memory-map", map);
	t.equal(
		dtcDecompile(dtb),
		`/dts-v1/;\n\n/ {\n\tcompatible = "kho-v1";\n\tpreserved-memory-map = ${leCells(Number(map[0]))};\n\n\ttest {\n\t\tfdt = ${leCells(sub)};\n\t};\n};\n`,
	);
	t.match(dtcDecompile(readBytes(k, `${D}/out/sub_fdts/test`)), /compatible = "test-v1";/);
});

t.test("debugfs is root's: a normal user cannot open finalize", async (t) => {
	const k = bootKho();
	const { status } = await run((u) => {
		t.equal(u.sys("open", `${D}/out/finalize`, 2), -EACCES);
		t.equal(u.sys("open", `${D}/out/scratch_phys`, 0), -EACCES);
	}, { kernel: k, uid: 1000, gid: 1000 });
	t.equal(status, 0);
});

t.test("after kexec in/ holds the incoming root FDT and its subtrees, 0400 each", async (t) => {
	const a = bootKho();
	const sub = makeSubFdt(a, "test-v1");
	register_kho_notifier(a, onFinalize((ser) => {
		kho_preserve_phys(a, sub, PAGE_SIZE);
		kho_add_subtree(ser, "test", sub);
	}));
	kho_finalize(a);
	const outFdt = readBytes(a, `${D}/out/fdt`);
	const b = kexec(a);
	t.equal(mode(b, `${D}/in`), S_IFDIR | 0o755);
	t.equal(mode(b, `${D}/in/sub_fdts`), S_IFDIR | 0o755);
	t.equal(mode(b, `${D}/in/fdt`), S_IFREG | 0o400);
	t.equal(mode(b, `${D}/in/sub_fdts/test`), S_IFREG | 0o400);
	t.same(readBytes(b, `${D}/in/fdt`), outFdt, "the same bytes as out/fdt before kexec");
	t.match(new TextDecoder("latin1").decode(readBytes(b, `${D}/in/sub_fdts/test`)), /test-v1/);
	t.equal(readText(b, `${D}/out/finalize`), "0\n", "the new kernel has its own out/, not finalized");
	t.notOk(exists(b, `${D}/out/fdt`));
	t.notOk(exists(b, `${D}/in/scratch_phys`), "there is no in/scratch_*");
	t.equal(readText(b, `${D}/out/scratch_phys`), readText(a, `${D}/out/scratch_phys`), "scratch is reused as handed over");
});

t.test("dtc reads in/fdt as the kho-v1 tree", { skip: dtcSkipReason() }, async (t) => {
	const a = bootKho();
	const sub = makeSubFdt(a, "test-v1");
	register_kho_notifier(a, onFinalize((ser) => {
		kho_preserve_phys(a, sub, PAGE_SIZE);
		kho_add_subtree(ser, "test", sub);
	}));
	kho_finalize(a);
	const b = kexec(a);
	const dts = dtcDecompile(readBytes(b, `${D}/in/fdt`));
	t.match(dts, /^\/dts-v1\/;\n\n\/ \{\n\tcompatible = "kho-v1";\n\tpreserved-memory-map = <0x[0-9a-f]+ 0x[0-9a-f]+>;\n\n\ttest \{\n\t\tfdt = <0x[0-9a-f]+ 0x[0-9a-f]+>;\n\t\};\n\};\n$/);
	t.match(dtcDecompile(readBytes(b, `${D}/in/sub_fdts/test`)), /compatible = "test-v1";/);
});

t.test("in/sub_fdts skips nodes without an fdt property and warns about a wrong length", async (t) => {
	const a = bootKho();
	const sub = makeSubFdt(a, "good-v1");
	const h = craftHandover(a, {
		preserve: [[sub / PAGE_SIZE, 0]],
		nodes: (fdt) => {
			for (const [name, val] of [["nofdt", null], ["short", new Uint8Array(4)], ["good", cpu_to_le64(sub)]] as const) {
				fdt_begin_node(fdt, name);
				if (val) fdt_property(fdt, "fdt", val);
				fdt_end_node(fdt);
			}
		},
	});
	const b = a.machine.kexecBoot({}, h);
	t.ok(exists(b, `${D}/in/sub_fdts/good`));
	t.notOk(exists(b, `${D}/in/sub_fdts/nofdt`));
	t.notOk(exists(b, `${D}/in/sub_fdts/short`));
	t.ok(dmesg(b).includes("KHO: node `short`'s prop `fdt` has invalid length: 4"));
	t.notOk(dmesg(b).some((l) => l.includes("nofdt")));
});

t.test("a KHO boot with kho=off revives memory but shows no debugfs tree", async (t) => {
	const a = bootKho();
	kho_finalize(a);
	const b = kexec(a, { cmdline: "kho=off" });
	t.notOk(exists(b, D));
	t.ok(dmesg(b).includes("KHO: found kexec handover data. Will skip init for some devices"));
});
