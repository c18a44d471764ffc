import t from "tap";
import { Machine } from "../../lib/kernel/machine.ts";
import { spawnProgram } from "../../lib/kernel/exec.ts";
import { writeProgramFile } from "../../lib/kernel/binfmt.ts";
import { openConsole } from "../../lib/fs/console.ts";
import { O_CREAT, O_WRONLY } from "../../lib/fs/fcntl.ts";
import { readBytes } from "../../lib/kho/testing.ts";
import { runOutcome } from "../../lib/kexec/testing.ts";
import { execve } from "../../lib/libc/mod.ts";
import type { Kernel } from "../../lib/kernel/kernel.ts";
import type { WaitOutcome } from "../../lib/kexec/reboot_event.ts";

/** Writes `bytes` to a new file `path` of `k`. */
function spill(k: Kernel, path: string, bytes: Uint8Array): void {
	const f = k.vfs.open(null, path, O_WRONLY | O_CREAT, 0o644);
	k.vfs.kernelWrite(f, bytes);
	f.put();
}

/**
 * vmtest.sh's initrd on `k`: /init (init.ts), /test_binary (the named
 * program), /kernel (the running image), /initrd.img, an empty /debugfs,
 * and /dev and /proc left for /init to mount.
 */
async function initrd(k: Kernel, test: string, opts: { kernel?: boolean } = {}): Promise<void> {
	await runOutcome(k, (u) => {
		u.sys("mkdir", "/debugfs", 0o755);
		u.sys("umount2", "/proc", 0);
		u.sys("umount2", "/dev", 0);
	});
	writeProgramFile(k, "/init", new URL("./init.ts", import.meta.url));
	writeProgramFile(k, "/test_binary", new URL(`./${test}.ts`, import.meta.url));
	if (opts.kernel ?? true) spill(k, "/kernel", readBytes(k, "/boot/vmlinuz"));
	spill(k, "/initrd.img", new TextEncoder().encode("070701"));
}

/** Runs /init as the VM's first process, its console into `sink`. */
async function runInit(k: Kernel, sink: (d: Uint8Array) => void): Promise<WaitOutcome> {
	const con = openConsole(k, { stdout: sink, stderr: sink });
	const p = spawnProgram(k, async () => {
		await execve("/init", ["/init"], []);
		return 127;
	}, { argv: ["/init"], stdio: con });
	for (const f of con) f.put();
	return k.waitForOutcome(p);
}

t.test("stage 1 kexecs with luo_stage=2 appended; stage 2 runs the test binary with -s 2, which passes", async (t) => {
	const dec = new TextDecoder();
	let out = "";
	const sink = (d: Uint8Array): void => void (out += dec.decode(d));
	const machine = new Machine();
	const k1 = machine.boot({ abi: "mainline", cmdline: "panic=-1" });
	await initrd(k1, "luo_kexec_simple");
	const o1 = await runInit(k1, sink);
	t.equal(o1.kind, "stopped");
	t.equal(machine.lastReboot!.kind, "kexec");
	t.match(out, /^INIT: Starting Stage 1$/m);
	t.match(out, /^INIT: Stage 1 completed successfully\.$/m);
	const k2 = machine.kernel!;
	t.equal(k2.cmdline.text, `${k1.cmdline.text} luo_stage=2`);

	out = "";
	await initrd(k2, "luo_kexec_simple", { kernel: false });
	const o2 = await runInit(k2, sink);
	t.equal(o2.kind, "stopped");
	t.equal(machine.lastReboot!.kind, "restart", "RB_AUTOBOOT after stage 2");
	t.match(out, /^INIT: Starting Stage 2$/m);
	t.match(out, /^--- SIMPLE KEXEC TEST PASSED ---$/m, "what vmtest.sh greps for");
	t.match(out, /^INIT: Stage 2 completed successfully\.$/m);
});

t.test("a failing test binary, or no /kernel to load, reboots with RB_AUTOBOOT and no kexec", async (t) => {
	const dec = new TextDecoder();
	const cases: [string, string, { kernel?: boolean }, RegExp][] = [
		["no /dev/liveupdate: the binary skips (exit 4)", "liveupdate=off", {}, /^INIT: Test binary returned failure$/m],
		["no /kernel", "", { kernel: false }, /^INIT: Failed to open kernel image\nINIT: Failed to load kexec kernel$/m],
	];
	for (const [what, cmdline, layout, line] of cases) {
		let out = "";
		const machine = new Machine();
		const k = machine.boot({ abi: "mainline", cmdline });
		await initrd(k, "luo_kexec_simple", layout);
		const o = await runInit(k, (d) => void (out += dec.decode(d)));
		t.equal(o.kind, "stopped", what);
		t.equal(machine.lastReboot!.kind, "restart", `${what}: restarted`);
		t.match(out, line, what);
	}
});
