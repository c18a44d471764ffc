import t from "tap";
import { Machine } from "../../lib/kernel/machine.ts";
import { spawnProgram } from "../../lib/kernel/exec.ts";
import { writeProgramFile } from "../../lib/kernel/binfmt.ts";
import { kho_is_finalized } from "../../lib/kho/kho.ts";
import { readBytes } from "../../lib/kho/testing.ts";
import { TEST_KHO_ON, testKhoLines, RESTORE_SUCCEEDED } from "../../lib/test_kho/testing.ts";
import { runOutcome } from "../../lib/kexec/testing.ts";
import { O_CREAT, O_WRONLY } from "../../lib/fs/fcntl.ts";
import type { Kernel } from "../../lib/kernel/kernel.ts";
import type { WaitOutcome } from "../../lib/kexec/reboot_event.ts";
import { execve } from "../../lib/libc/mod.ts";

/** vmtest's initrd layout on `k`: /debugfs, an unmounted /proc, /kernel. */
async function initrd(k: Kernel, opts: { debugfs?: boolean; kernel?: boolean } = {}): Promise<void> {
	await runOutcome(k, (u) => {
		if (opts.debugfs ?? true) u.sys("mkdir", "/debugfs", 0o755);
		u.sys("umount2", "/proc", 0);
	});
	if (opts.kernel ?? true) {
		const f = k.vfs.open(null, "/kernel", O_WRONLY | O_CREAT, 0o644);
		k.vfs.kernelWrite(f, readBytes(k, "/boot/vmlinuz"));
		f.put();
	}
}

/** Runs init.ts as vmtest does: /init, a program file naming it, executed by a root process. */
async function runInit(k: Kernel): Promise<WaitOutcome> {
	writeProgramFile(k, "/init", new URL("./init.ts", import.meta.url));
	return k.waitForOutcome(
		spawnProgram(k, async () => {
			await execve("/init", ["/init"], []);
			return 127;
		}),
	);
}

t.test("finalizes KHO, loads /kernel with the running command line and kexecs into it", async (t) => {
	const k1 = new Machine().boot({ cmdline: `${TEST_KHO_ON} panic=-1` });
	await initrd(k1);
	let finalizedAtKexec = false;
	k1.machine.kexecHandoff = (jump): void => {
		finalizedAtKexec = kho_is_finalized(k1);
		t.equal(jump.cmdline, k1.cmdline.text, "/proc/cmdline without its newline");
		k1.machine.bootJump(jump);
	};
	const out = await runInit(k1);
	t.equal(out.kind, "stopped");
	t.equal(k1.machine.lastReboot!.kind, "kexec");
	t.ok(finalizedAtKexec, "out/finalize was written");
	const k2 = k1.machine.kernel!;
	t.equal(k2.cmdline.text, k1.cmdline.text);
	t.same(testKhoLines(k2), [RESTORE_SUCCEEDED]);
});

t.test("any failure reboots with RB_AUTOBOOT: no /debugfs to mount on, no finalize file, no /kernel", async (t) => {
	const cases: [string, string, { debugfs?: boolean; kernel?: boolean }, boolean][] = [
		["no /debugfs", "", { debugfs: false }, false],
		["kho=off: no kho/out/finalize", "kho=off", {}, false],
		["no /kernel", "", { kernel: false }, true],
	];
	for (const [what, cmdline, layout, finalized] of cases) {
		const k = new Machine().boot({ cmdline });
		await initrd(k, layout);
		const out = await runInit(k);
		t.equal(out.kind, "stopped", what);
		t.equal(k.machine.lastReboot!.kind, "restart", `${what}: restarted`);
		t.equal(kho_is_finalized(k), finalized, `${what}: ${finalized ? "finalized before the failing step" : "not finalized"}`);
	}
});
