import t from "tap";
import { fileURLToPath } from "node:url";
import { Machine } from "../../lib/kernel/machine.ts";
import { runKexecSelftest } from "../../lib/cli/selftestsKexec.ts";
import { runSelftests } from "../../lib/cli/selftests.ts";
import { cliMain, SELFTESTS_ROOT, type CliIo } from "../../lib/cli/main.ts";
import { exitCode, runProgramOutput } from "../../lib/ksft/testing.ts";
import { handedOverKhoTest, testKhoLines, RESTORE_SUCCEEDED } from "../../lib/test_kho/testing.ts";
import type { AbiGeneration } from "../../lib/kernel/kernel.ts";
import { main } from "./vmtest.ts";

const VMTEST = fileURLToPath(new URL("./vmtest.ts", import.meta.url));
const BOOT = "kho=on panic=-1 test_kho.enable=1";
const PASS = "TAP version 13\n1..1\nok 1 KHO succeeded\n# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0\n";
const FAIL = "TAP version 13\n1..1\nnot ok 1 KHO failed\n# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0\n";

/** vmtest through the two-stage runner: its output and exit code, and the machine it ran on. */
async function vmtest(cmdline: string, machine = new Machine(), abi: AbiGeneration = "rfc-v2"): Promise<{ out: string; code: number; machine: Machine }> {
	let out = "";
	const code = await runKexecSelftest(main, { abi, cmdline, argv0: "./vmtest", out: (d) => (out += new TextDecoder().decode(d)), machine });
	return { out, code, machine };
}

for (const abi of ["rfc-v2", "v2"] as const) {
	t.test(`luosim selftests kho (${abi}): vmtest.sh's KTAP, passing`, async (t) => {
		let out = "";
		t.equal(await runSelftests({ root: SELFTESTS_ROOT, abi, names: ["kho"], out: (s) => (out += s) }), 0);
		t.equal(
			out,
			[
				"TAP version 13",
				"1..1",
				"# selftests: kho: vmtest",
				"# TAP version 13",
				"# 1..1",
				"# ok 1 KHO succeeded",
				"# # Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0",
				"ok 1 selftests: kho: vmtest",
				"",
			].join("\n"),
		);
	});
}

t.test("the kexec goes through init: the next kernel restored test_kho's data, with the same command line", async (t) => {
	const r = await vmtest(BOOT);
	t.equal(r.code, 0);
	t.equal(r.out, PASS);
	const ev = r.machine.lastReboot!;
	t.equal(ev.kind, "kexec");
	t.same(testKhoLines(ev.to!), [RESTORE_SUCCEEDED]);
	t.equal(ev.to!.cmdline.text, ev.from.cmdline.text, "init.c passes /proc/cmdline on");
});

t.test("a byte flipped in a preserved folio between the boots: not ok 1 KHO failed", async (t) => {
	const machine = new Machine();
	machine.kexecHandoff = (jump): void => {
		const { fdt } = handedOverKhoTest(machine.physmem, jump.handoverPhys!);
		const at = fdt.folios[0]!.phys + 100;
		machine.physmem.write(at, new Uint8Array([machine.physmem.read(at, 1)[0]! ^ 0x80]));
		machine.bootJump(jump);
	};
	const r = await vmtest(BOOT, machine);
	t.equal(r.code, 1);
	t.equal(r.out, FAIL);
	t.same(testKhoLines(machine.kernel!), [], "the module said nothing");
});

t.test("/init fails (kho=off: no finalize file) and reboots: the restarted kernel has no success line", async (t) => {
	const r = await vmtest("kho=off panic=-1 test_kho.enable=1");
	t.equal(r.code, 1);
	t.equal(r.out, FAIL);
	t.equal(r.machine.lastReboot!.kind, "restart", "init.c's reboot(RB_AUTOBOOT)");
});

t.test("without test_kho.enable=1 (the stand-in for CONFIG_TEST_KEXEC_HANDOVER=y): a skip, which exits 0 as the EXIT trap makes it", async (t) => {
	const r = await vmtest("kho=on panic=-1");
	t.equal(r.code, 0);
	t.equal(
		r.out,
		"TAP version 13\n1..1\nok 1 test_kho.enable=1 is missing # SKIP\n# 1 skipped test(s) detected.  Consider enabling relevant config options to improve coverage.\n# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0\n",
	);
	t.equal(r.machine.lastReboot, null, "no reboot");
});

t.test("a kernel without CONFIG_KEXEC_HANDOVER: skipped as a missing option", async (t) => {
	const r = await runProgramOutput(main, ["./vmtest"], { cmdline: BOOT, config: { KEXEC_HANDOVER: false } });
	t.equal(exitCode(r.status), 0);
	t.match(r.stdout, /^ok 1 CONFIG_KEXEC_HANDOVER=y is missing # SKIP$/m);
});

t.test("stage 2 alone, on a kernel that restored nothing: not ok", async (t) => {
	const r = await runProgramOutput(main, ["./vmtest", "-s", "2"], { cmdline: BOOT });
	t.equal(exitCode(r.status), 1);
	t.equal(r.stdout, "not ok 1 KHO failed\n# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0\n", "the header and plan were stage 1's");
});

t.test("-h prints the usage; an unknown option too, after its complaint", async (t) => {
	const h = await runProgramOutput(main, ["./vmtest", "-h"]);
	t.equal(exitCode(h.status), 0);
	t.match(h.stdout, /^\.\/vmtest \[-s stage\] \[-h\]\nOptions:\n/);
	const x = await runProgramOutput(main, ["./vmtest", "-x"]);
	t.match(x.stdout, /^Unknown argument \?\n\.\/vmtest \[-s stage\]/);
	t.match(x.stderr, /invalid option -- 'x'/);
});

t.test("luosim run --kexec runs it too (stage 2 after the program's own kexec)", async (t) => {
	let out = "";
	const dec = (d: string | Uint8Array): string => (typeof d === "string" ? d : new TextDecoder().decode(d));
	const io: CliIo = { stdout: (d) => (out += dec(d)), stderr: (d) => (out += dec(d)) };
	t.equal(await cliMain(["run", "--kexec", "--cmdline", "test_kho.enable=1", VMTEST], io), 0);
	t.equal(out, PASS);
});
