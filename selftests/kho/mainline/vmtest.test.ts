import t from "tap";
import { Machine } from "../../../lib/kernel/machine.ts";
import { spawnProgram } from "../../../lib/kernel/exec.ts";
import { writeProgramFile } from "../../../lib/kernel/binfmt.ts";
import { runSelftests } from "../../../lib/cli/selftests.ts";
import { SELFTESTS_ROOT } from "../../../lib/cli/main.ts";
import { readBytes } from "../../../lib/kho/testing.ts";
import { testKhoLines, RESTORE_SUCCEEDED, TEST_KHO_ON } from "../../../lib/test_kho/testing.ts";
import { runOutcome } from "../../../lib/kexec/testing.ts";
import { O_CREAT, O_WRONLY } from "../../../lib/fs/fcntl.ts";
import { execve } from "../../../lib/libc/mod.ts";
import type { Kernel } from "../../../lib/kernel/kernel.ts";
import type { WaitOutcome } from "../../../lib/kexec/reboot_event.ts";

/** vmtest's initrd layout on `k`: /debugfs, an unmounted /proc, /kernel. */
async function initrd(k: Kernel, opts: { kernel?: boolean } = {}): Promise<void> {
	await runOutcome(k, (u) => {
		u.sys("mkdir", "/debugfs", 0o755);
		u.sys("umount2", "/proc", 0);
	});
	if (opts.kernel ?? true) {
		const f = k.vfs.open(null, "/kernel", O_WRONLY | O_CREAT, 0o644);
		k.vfs.kernelWrite(f, readBytes(k, "/boot/vmlinuz"));
		f.put();
	}
}

/** Runs mainline/init.ts as vmtest does: /init, a program file naming it, executed by a root process. */
async function runInit(k: Kernel): Promise<WaitOutcome> {
	writeProgramFile(k, "/init", new URL("./init.ts", import.meta.url));
	return k.waitForOutcome(
		spawnProgram(k, async () => {
			await execve("/init", ["/init"], []);
			return 127;
		}),
	);
}

t.test("mainline init: no finalize; loads /kernel with the running command line and kexecs into it", async (t) => {
	const k1 = new Machine().boot({ abi: "mainline", cmdline: `${TEST_KHO_ON} panic=-1` });
	await initrd(k1);
	const out = await runInit(k1);
	t.equal(out.kind, "stopped");
	t.equal(k1.machine.lastReboot!.kind, "kexec");
	const k2 = k1.machine.kernel!;
	t.equal(k2.cmdline.text, k1.cmdline.text);
	t.same(testKhoLines(k2), [RESTORE_SUCCEEDED]);
});

t.test("mainline init: a failure (no /kernel) reboots with RB_AUTOBOOT", async (t) => {
	const k = new Machine().boot({ abi: "mainline" });
	await initrd(k, { kernel: false });
	const out = await runInit(k);
	t.equal(out.kind, "stopped");
	t.equal(k.machine.lastReboot!.kind, "restart");
});

t.test("luosim selftests kho (mainline): vmtest.sh's KTAP, passing", async (t) => {
	let out = "";
	t.equal(await runSelftests({ root: SELFTESTS_ROOT, abi: "mainline", names: ["kho"], out: (s) => (out += s) }), 0);
	t.match(out, /# ok 1 KHO succeeded\n/);
	t.match(out, /\nok 1 selftests: kho: vmtest\n/);
});
