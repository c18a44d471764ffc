import t from "tap";
import { Machine } from "../kernel/machine.ts";
import { KERN_EMERG } from "../kernel/printk.ts";
import { openConsole } from "../fs/console.ts";
import { KernelStopped, type RebootEvent } from "./reboot_event.ts";
import { panicTimeout } from "./panic.ts";
import { kexecNow, runOutcome } from "./testing.ts";
import type { Kernel } from "../kernel/kernel.ts";

const SMALL = { memBytes: 64 * 1024 * 1024 };

/** A machine booted with `cmdline`, its console's stdout collected in `out`. */
function boot(cmdline = ""): { m: Machine; k: Kernel; out: string[] } {
	const m = new Machine(SMALL);
	const k = m.boot({ cmdline });
	const out: string[] = [];
	for (const f of openConsole(k, { stdout: (d) => out.push(new TextDecoder().decode(d)) })) f.put();
	return { m, k, out };
}

/** What `fn` throws (tap's throws() would walk the whole kernel in the error). */
function thrown(fn: () => unknown): unknown {
	try {
		fn();
	} catch (e) {
		return e;
	}
	return null;
}

function emerg(k: Kernel): string[] {
	return k.log.all().filter((r) => r.level === KERN_EMERG).map((r) => r.text);
}

t.test("panic prints to the log and the console and stops the machine", async (t) => {
	const { m, k, out } = boot();
	let after = false;
	const res = await runOutcome(k, (u) => {
		u.kernel.panic("VFS: Unable to mount root fs");
		after = true;
	});
	t.equal(after, false, "panic does not return");
	t.equal(res.kind, "stopped");
	const ev = (res as { event: RebootEvent }).event;
	t.equal(ev.kind, "panic");
	t.equal(ev.message, "VFS: Unable to mount root fs");
	t.equal(ev.to, null);
	t.equal(m.kernel, null, "nothing runs");
	t.equal(m.lastReboot, ev);
	const lines = ["Kernel panic - not syncing: VFS: Unable to mount root fs", "---[ end Kernel panic - not syncing: VFS: Unable to mount root fs ]---"];
	t.same(emerg(k), lines);
	t.equal(out.join(""), lines.map((l) => `${l}\n`).join(""));
});

t.test("panic=-1 reboots at once (a cold boot of the firmware's kernel)", async (t) => {
	const { m, k, out } = boot("panic=-1");
	const pm = m.physmem;
	const res = await runOutcome(k, (u) => void u.kernel.panic("oops"));
	t.equal(res.kind, "stopped");
	const k2 = m.kernel!;
	t.not(k2, null);
	t.not(k2, k);
	t.equal(m.lastReboot!.to, k2);
	t.not(m.physmem, pm, "memory is not kept");
	t.equal(k2.cmdline.text, k.cmdline.text, "the firmware boots the same command line");
	t.same(emerg(k), ["Kernel panic - not syncing: oops"], "no end line: it restarted");
	t.equal(out.join(""), "Kernel panic - not syncing: oops\n");
});

t.test("panic=N waits (in words) then reboots", async (t) => {
	const { m, k } = boot("panic=10");
	await runOutcome(k, (u) => void u.kernel.panic("oops"));
	t.same(emerg(k), ["Kernel panic - not syncing: oops", "Rebooting in 10 seconds.."]);
	t.not(m.kernel, null);
});

t.test("panic= parses as an int; anything else is 0", async (t) => {
	t.equal(panicTimeout(boot("panic=-1").k), -1);
	t.equal(panicTimeout(boot("panic=0x10").k), 16);
	t.equal(panicTimeout(boot("panic=soon").k), 0);
	t.equal(panicTimeout(boot("panic").k), 0);
	t.equal(panicTimeout(boot().k), 0);
});

t.test("the machine's serial console, when set, gets the panic instead of the terminal", async (t) => {
	const { m, k, out } = boot();
	const serial: string[] = [];
	m.serialConsole = (d): void => void serial.push(new TextDecoder().decode(d));
	t.ok(thrown(() => k.panic("host")) instanceof KernelStopped, "from outside any process it throws KernelStopped");
	t.equal(serial.length, 2);
	t.equal(out.length, 0);
	t.ok(thrown(() => k.panic("again")) instanceof KernelStopped, "a stopped kernel panics no more");
	t.equal(serial.length, 2, "and prints nothing");
});

t.test("a panic while the kexec'd kernel boots stops the machine, or restarts it with panic=-1", async (t) => {
	for (const cmdline of ["x=1", "x=1 panic=-1"]) {
		const m = new Machine(SMALL);
		const k1 = m.boot({ cmdline: "firmware=1" });
		const seen: RebootEvent[] = [];
		m.onReboot((ev) => seen.push(ev));
		const warm = m.kexecBoot.bind(m);
		m.kexecBoot = (opts, phys): Kernel => warm(opts, phys).panic("LUO: corrupt incoming data");
		await runOutcome(k1, (u) => void kexecNow(u, cmdline));
		t.same(seen.map((e) => e.kind), ["panic", "kexec"], `${cmdline}: the panic, then the kexec that led to it`);
		const [panic, kexec] = seen as [RebootEvent, RebootEvent];
		t.equal(panic.from.cmdline.text, cmdline);
		if (cmdline.includes("panic=-1")) {
			t.not(m.kernel, null, "restarted");
			t.equal(m.kernel!.cmdline.text, "kho=on liveupdate=on firmware=1", "into the firmware's kernel");
			t.equal(panic.to, m.kernel);
		} else t.equal(m.kernel, null, "stopped");
		t.equal(kexec.to, m.kernel);
	}
});
