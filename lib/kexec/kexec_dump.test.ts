import t from "tap";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Machine } from "../kernel/machine.ts";
import { Errno, EINVAL } from "../kernel/errno.ts";
import { folio_alloc, folio_pfn } from "../mm/folio.ts";
import { PFN_PHYS } from "../mm/physmem.ts";
import { kho_finalize, kho_preserve_folio } from "../kho/kho.ts";
import { bootKho } from "../kho/testing.ts";
import { kexec_image } from "./kexec_core.ts";
import { bootFromDump, kexecViaFile, readKexecDump, writeKexecDump, KEXEC_DUMP_MAGIC } from "./kexec_dump.ts";
import { loadBootImage, runOutcome } from "./testing.ts";

const SMALL = { memBytes: 64 * 1024 * 1024 };
const dir = mkdtempSync(join(tmpdir(), "luosim-kexec-dump-test-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function errnoOf(fn: () => unknown): number {
	try {
		fn();
	} catch (e) {
		if (e instanceof Errno) return e.errno;
		throw e;
	}
	return 0;
}

t.test("a dump holds the jump and the memory, and reads back the same", async (t) => {
	const k = new Machine(SMALL).boot({ abi: "mainline" });
	await runOutcome(k, (u) => void t.equal(loadBootImage(u, "a=1 luo_stage=2"), 0));
	const jump = { ...kexec_image(k)!, handoverPhys: 0x123000 };
	k.machine.physmem.write(0x400000, new TextEncoder().encode("frame bytes"));
	const file = join(dir, "roundtrip");
	writeKexecDump(file, k.machine.physmem, jump);
	t.equal(readFileSync(file).subarray(0, 8).toString(), KEXEC_DUMP_MAGIC);
	const back = readKexecDump(file);
	t.equal(back.jump.cmdline, "a=1 luo_stage=2");
	t.equal(back.jump.handoverPhys, 0x123000);
	t.same(back.jump.image, jump.image);
	t.same(back.jump.boot, jump.boot);
	t.equal(back.physmem.sizeBytes, SMALL.memBytes);
	t.equal(new TextDecoder().decode(back.physmem.read(0x400000, 11)), "frame bytes");
	writeKexecDump(file, k.machine.physmem, { ...jump, handoverPhys: null });
	t.equal(readKexecDump(file).jump.handoverPhys, null);
});

t.test("a malformed dump is refused with the reason", async (t) => {
	const k = new Machine(SMALL).boot();
	await runOutcome(k, (u) => void loadBootImage(u, ""));
	const file = join(dir, "bad");
	writeKexecDump(file, k.machine.physmem, kexec_image(k)!);
	const good = new Uint8Array(readFileSync(file));
	const bad = (mut: (b: Uint8Array, v: DataView) => void, re: RegExp, what: string): void => {
		const b = good.slice();
		mut(b, new DataView(b.buffer));
		writeFileSync(file, b);
		t.throws(() => readKexecDump(file), re, what);
	};
	bad((b) => (b[0] = 0), /bad magic/, "magic");
	bad((_b, v) => v.setUint32(8, 9, true), /version 9/, "version");
	bad((_b, v) => v.setUint32(12, 6, true), /unknown flags/, "flags");
	bad((_b, v) => v.setUint32(24, 1 << 30, true), /truncated image/, "lengths");
	writeFileSync(file, good.subarray(0, 20));
	t.throws(() => readKexecDump(file), /truncated header/);
	bad((b) => (b[32] = 0), /./, "the image no longer parses");
});

t.test("kexecViaFile: EINVAL with nothing loaded, and the machine keeps running", async (t) => {
	const k = new Machine(SMALL).boot();
	const file = join(dir, "none");
	t.equal(errnoOf(() => kexecViaFile(k, file)), EINVAL);
	t.equal(k.machine.kernel, k);
	t.equal(k.machine.kexecHandoff, null);
	t.notOk(existsSync(file));
});

t.test("kexec through a file: the old kernel stops, the next boots from the file alone", async (t) => {
	const k1 = bootKho({}, SMALL);
	const folio = folio_alloc(k1.buddy, 0)!;
	const phys = PFN_PHYS(folio_pfn(folio));
	k1.machine.physmem.write(phys, new TextEncoder().encode("crossed in a file"));
	kho_preserve_folio(k1, folio);
	kho_finalize(k1);
	await runOutcome(k1, (u) => void t.equal(loadBootImage(u, `${k1.cmdline.text} luo_stage=2`), 0));
	const file = join(dir, "kho");
	const ev = kexecViaFile(k1, file);
	t.equal(ev.kind, "kexec");
	t.equal(ev.to, null, "nothing boots here");
	t.equal(k1.machine.kernel, null);
	t.equal(k1.stopped, ev);
	t.not(ev.jump!.handoverPhys, null);

	const { machine, kernel } = bootFromDump(file);
	t.not(machine, k1.machine);
	t.ok(kernel);
	t.equal(machine.kernel, kernel);
	t.equal(kernel!.cmdline.text, `${k1.cmdline.text} luo_stage=2`);
	t.equal(kernel!.abi, k1.abi);
	t.same([...kernel!.processes.keys()], [1]);
	t.equal(new TextDecoder().decode(machine.physmem.read(phys, 17)), "crossed in a file", "the preserved frame crossed");
});
