import t from "tap";
import { Machine } from "../../../lib/kernel/machine.ts";
import { loadAndKexec, runOnKernel } from "../../../lib/cli/kexecRun.ts";
import { runSelftests } from "../../../lib/cli/selftests.ts";
import { SELFTESTS_ROOT } from "../../../lib/cli/main.ts";
import { exitCode, runProgramOutput } from "../../../lib/ksft/testing.ts";
import { PAGE_POISON, PAGE_SIZE } from "../../../lib/mm/physmem.ts";
import { liveupdate_get_state } from "../../../lib/liveupdate/rfc/luo_internal.ts";
import { memfd_luo_pfns } from "../../../lib/liveupdate/rfc/memfd_luo.ts";
import type { Kernel } from "../../../lib/kernel/kernel.ts";
import { main } from "./live_update.ts";

const STAGE1 = [
	"TAP version 13",
	"1..3",
	"ok 1 memfd with 64 MiB of data",
	"ok 2 FD_PRESERVE: state token 0, data token 1",
	"ok 3 PREPARE: prepared",
	"# stage 1 done: kexec now, then run stage 2 (-s 2)",
	"# Totals: pass:3 fail:0 xfail:0 xpass:0 skip:0 error:0",
];
const STAGE2 = [
	"TAP version 13",
	"1..9",
	"ok 1 UPDATED after the kexec",
	"ok 2 FD_RESTORE: state memfd (token 0)",
	"ok 3 FD_RESTORE: data memfd (token 1), position kept",
	"ok 4 64 MiB byte for byte",
	"ok 5 on the same 16384 PFNs",
	"ok 6 FD_RESTORE again: EINVAL",
	"ok 7 FINISH: normal",
	"ok 8 the data outlives FINISH",
	"ok 9 /dev/liveupdate still opens",
	"# Totals: pass:9 fail:0 xfail:0 xpass:0 skip:0 error:0",
];

/** The PFNs of the memfd called `name` that some process of `k` holds open. */
function heldMemfd(k: Kernel, name: string): number[] {
	for (const p of k.processes.values())
		for (const fd of p.files.fds()) {
			const f = p.files.get(fd);
			if (f.path?.name === `/memfd:${name}`) return memfd_luo_pfns(f);
		}
	throw new Error(`no process holds memfd:${name}`);
}

t.test("a 64 MiB memfd crosses the kexec byte for byte on its PFNs; the unpreserved one is poisoned", async (t) => {
	const machine = new Machine();
	const k1 = machine.boot({ abi: "rfc-v2" });
	let out = "";
	const sink = (d: Uint8Array): void => {
		out += new TextDecoder().decode(d);
	};
	const s1 = await runOnKernel(k1, main, { argv: ["./live_update"], stdout: sink, stderr: sink });
	t.equal(s1.exitCode, 0, "stage 1 passes");
	const data = heldMemfd(k1, "guest_ram");
	const scratch = heldMemfd(k1, "scratch");
	t.equal(data.length, 16384);

	const ev = await loadAndKexec(k1, `${k1.cmdline.text} luo_stage=2`);
	if (typeof ev === "string") throw new Error(ev);
	t.equal(liveupdate_get_state(k1), "frozen", "reboot(LINUX_REBOOT_CMD_KEXEC) froze LUO first");
	const k2 = ev.to!;
	t.ok(data.every((pfn) => k2.buddy.PageReserved(pfn)), "every data frame is kept for the next kernel");
	t.ok(scratch.every((pfn) => !k2.buddy.PageReserved(pfn)), "no scratch frame is");
	const free = scratch.filter((pfn) => k2.buddy.page_is_free(pfn));
	t.ok(free.length > scratch.length / 2 && free.every((pfn) => k2.machine.physmem.isPoisoned(pfn)), "scratch frames read back poisoned");
	t.same([...k2.machine.physmem.read(free[0]! * PAGE_SIZE, 4)], [PAGE_POISON, PAGE_POISON, PAGE_POISON, PAGE_POISON]);

	const s2 = await runOnKernel(k2, main, { argv: ["./live_update", "-s", "2"], stdout: sink, stderr: sink });
	t.equal(s2.exitCode, 0, "stage 2 passes");
	t.equal(out, [...STAGE1, ...STAGE2, ""].join("\n"));
	t.equal(liveupdate_get_state(k2), "normal");
});

t.test("stage 2 on a kernel that was not live-updated fails at once", async (t) => {
	const r = await runProgramOutput(main, ["./live_update", "-s", "2"], { abi: "rfc-v2" });
	t.equal(exitCode(r.status), 1);
	t.match(r.merged, /^not ok 1 UPDATED after the kexec$/m);
	t.match(r.merged, /^Bail out! no state record: Device or resource busy$/m, "FD_RESTORE outside UPDATED is EBUSY");
});

t.test("luosim selftests runs it as a do_kexec program of liveupdate/rfc-v2", async (t) => {
	let out = "";
	t.equal(await runSelftests({ root: SELFTESTS_ROOT, abi: "rfc-v2", names: ["liveupdate/rfc-v2:live_update"], out: (s) => (out += s) }), 0);
	t.equal(
		out,
		["TAP version 13", "1..1", "# selftests: liveupdate/rfc-v2: live_update", ...[...STAGE1, ...STAGE2].map((l) => `# ${l}`), "ok 1 selftests: liveupdate/rfc-v2: live_update", ""].join("\n"),
	);
});
