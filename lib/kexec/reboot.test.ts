import t from "tap";
import { Machine, bootKernel } from "../kernel/machine.ts";
import type { Kernel } from "../kernel/kernel.ts";
import { EBUSY, EFAULT, EINVAL, EPERM } from "../kernel/errno.ts";
import { forkProcess } from "../kernel/exec.ts";
import { KernelStoppedError, KernelStopped, type RebootEvent } from "./reboot_event.ts";
import { PAGE_POISON, PFN_PHYS } from "../mm/physmem.ts";
import { folio_alloc, folio_pfn } from "../mm/folio.ts";
import { kho_finalize, kho_preserve_folio, notifier_from_errno, NOTIFY_DONE } from "../kho/kho.ts";
import { bootKho } from "../kho/testing.ts";
import { O_RDONLY } from "../fs/fcntl.ts";
import { kexecState, register_reboot_notifier, SYS_HALT, SYS_POWER_OFF, SYS_RESTART, type RebootNotifierBlock } from "./kexec_core.ts";
import {
	LINUX_REBOOT_CMD_CAD_OFF,
	LINUX_REBOOT_CMD_CAD_ON,
	LINUX_REBOOT_CMD_HALT,
	LINUX_REBOOT_CMD_KEXEC,
	LINUX_REBOOT_CMD_POWER_OFF,
	LINUX_REBOOT_CMD_RESTART,
	LINUX_REBOOT_CMD_RESTART2,
	LINUX_REBOOT_CMD_SW_SUSPEND,
	LINUX_REBOOT_MAGIC1,
	LINUX_REBOOT_MAGIC2,
	LINUX_REBOOT_MAGIC2A,
	LINUX_REBOOT_MAGIC2B,
	LINUX_REBOOT_MAGIC2C,
} from "./reboot.ts";
import { kexecNow, loadBootImage, rebootCmd, runOutcome } from "./testing.ts";

const SMALL = { memBytes: 64 * 1024 * 1024 };

/** What `p` rejects with (null if it resolves); tap's rejects() would walk the whole kernel in the error. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
	return p.then(() => null, (e: unknown) => e);
}

function dmesg(k: Kernel): string[] {
	return k.log.all().map((r) => r.text);
}

t.test("EPERM without CAP_SYS_BOOT comes before the magic check", async (t) => {
	const k = bootKernel();
	const out = await runOutcome(k, (u) => {
		t.equal(rebootCmd(u, LINUX_REBOOT_CMD_RESTART), -EPERM);
		t.equal(u.sys("reboot", 1, 2, 3, 0), -EPERM);
	}, 1000);
	t.same(out, { kind: "exited", status: 0 });
	t.equal(k.machine.kernel, k);
});

t.test("EINVAL for bad magic; every MAGIC2 is accepted", async (t) => {
	await runOutcome(bootKernel(), (u) => {
		t.equal(u.sys("reboot", 0xfee1deae, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_ON, 0), -EINVAL);
		t.equal(u.sys("reboot", LINUX_REBOOT_MAGIC1, 12345, LINUX_REBOOT_CMD_CAD_ON, 0), -EINVAL);
		for (const m2 of [LINUX_REBOOT_MAGIC2, LINUX_REBOOT_MAGIC2A, LINUX_REBOOT_MAGIC2B, LINUX_REBOOT_MAGIC2C])
			t.equal(u.sys("reboot", LINUX_REBOOT_MAGIC1, m2, LINUX_REBOOT_CMD_CAD_ON, 0), 0, `magic2 ${m2}`);
		t.equal(u.sys("reboot", LINUX_REBOOT_MAGIC1 | 0, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_ON, 0), 0, "magic1 as a negative int");
	});
});

t.test("CAD_ON and CAD_OFF set C_A_D and return", async (t) => {
	const k = bootKernel();
	await runOutcome(k, (u) => {
		t.equal(kexecState(k).cad, true, "C_A_D starts on");
		t.equal(rebootCmd(u, LINUX_REBOOT_CMD_CAD_OFF), 0);
		t.equal(kexecState(k).cad, false);
		t.equal(rebootCmd(u, LINUX_REBOOT_CMD_CAD_ON), 0);
		t.equal(kexecState(k).cad, true);
	});
});

t.test("EINVAL for an unknown command and for SW_SUSPEND (no hibernation)", async (t) => {
	const k = bootKernel();
	await runOutcome(k, (u) => {
		t.equal(rebootCmd(u, 0x12345678), -EINVAL);
		t.equal(rebootCmd(u, LINUX_REBOOT_CMD_SW_SUSPEND), -EINVAL);
	});
	t.equal(k.stopped, null);
});

t.test("KEXEC with nothing loaded is EINVAL and changes nothing", async (t) => {
	const k = bootKernel();
	const calls: number[] = [];
	register_reboot_notifier(k, { notifier_call: (_nb, action) => (calls.push(action), NOTIFY_DONE) });
	const out = await runOutcome(k, (u) => {
		t.equal(rebootCmd(u, LINUX_REBOOT_CMD_KEXEC), -EINVAL);
		return 7;
	});
	t.same(out, { kind: "exited", status: 7 << 8 });
	t.same(calls, [], "the notifiers did not run");
	t.equal(k.machine.kernel, k);
});

t.test("KEXEC boots the loaded kernel on the same machine; the call never returns", async (t) => {
	const m = new Machine(SMALL);
	const k1 = m.boot({ abi: "v2", cmdline: "foo=1", config: { PROC_FS: true } });
	const events: RebootEvent[] = [];
	m.onReboot((ev) => events.push(ev));
	const next = m.nextReboot();
	let after = false;
	const out = await runOutcome(k1, (u) => {
		t.equal(kexecNow(u, "kho=on liveupdate=on luo_stage=2"), 0);
		after = true;
	});
	t.equal(after, false, "reboot() did not return");
	t.equal(out.kind, "stopped");
	const ev = (out as { event: RebootEvent }).event;
	t.equal(ev.kind, "kexec");
	t.equal(ev.from, k1);
	const k2 = ev.to!;
	t.equal(m.kernel, k2);
	t.not(k2, k1);
	t.equal(await next, ev, "nextReboot resolves with it");
	t.same(events, [ev]);
	t.equal(m.lastReboot, ev);
	t.equal(k1.stopped, ev);
	t.equal(k2.stopped, null);
	t.equal(k2.abi, "v2", "the image's generation");
	t.equal(k2.cmdline.text, "kho=on liveupdate=on luo_stage=2", "exactly the loaded command line");
	t.ok(dmesg(k1).includes("kexec_core: Starting new kernel"), "kexec_core: Starting new kernel");
	const f = k2.vfs.open(null, "/proc/cmdline", O_RDONLY);
	t.equal(new TextDecoder().decode(k2.vfs.kernelRead(f, 4096, 0)), "kho=on liveupdate=on luo_stage=2\n");
	f.put();
});

t.test("every process of the old kernel is gone after a kexec", async (t) => {
	const m = new Machine(SMALL);
	const k1 = m.boot();
	let ticks = 0;
	let child = null as unknown as ReturnType<typeof forkProcess>;
	const out = await runOutcome(k1, async (u) => {
		t.equal(u.sys("open", "/dev/null", O_RDONLY), 0);
		child = forkProcess(u.p, async () => {
			for (;;) {
				ticks++;
				await k1.sched.waitEvent(child, [], () => false, 1e9);
			}
		});
		await u.sysAsync("nanosleep", u.u64s(3n, 0n), 0);
		t.equal(kexecNow(u, "x=1"), 0);
	});
	t.equal(out.kind, "stopped");
	const seen = ticks;
	t.ok(seen >= 3, "the child ran before");
	const k2 = m.kernel!;
	t.same([...k2.processes.keys()], [1], "only init in the new kernel");
	t.ok(await rejection(k1.waitFor(child)) instanceof KernelStoppedError, "waiting for an old process does not hang");
	const late = await runOutcome(k2, async (u) => {
		await u.sysAsync("nanosleep", u.u64s(10n, 0n), 0);
		return u.sys("getpid");
	});
	t.same(late, { kind: "exited", status: 2 << 8 }, "pids start again from 2");
	t.equal(ticks, seen, "the old child never ran again");
	t.notOk(child.exited, "it did not exit either");
	t.same(child.files.fds(), [0], "its files were not closed");
});

t.test("a process of a stopped kernel that swallowed the unwinding cannot make syscalls", async (t) => {
	const k1 = new Machine(SMALL).boot();
	let second: unknown = null;
	const out = await runOutcome(k1, (u) => {
		try {
			kexecNow(u, "");
		} catch (e) {
			try {
				u.sys("getpid");
			} catch (e2) {
				second = e2;
			}
			throw e;
		}
	});
	t.equal(out.kind, "stopped");
	t.ok(second instanceof KernelStopped);
});

t.test("reboot notifiers run in priority order, with SYS_RESTART and \"kexec reboot\"", async (t) => {
	const k1 = new Machine(SMALL).boot();
	const calls: string[] = [];
	const nb = (name: string, priority: number): RebootNotifierBlock => ({ priority, notifier_call: (_nb, action, data) => (calls.push(`${name}:${action}:${data}`), NOTIFY_DONE) });
	register_reboot_notifier(k1, nb("low", -1));
	register_reboot_notifier(k1, nb("high", 10));
	register_reboot_notifier(k1, nb("mid", 0));
	const out = await runOutcome(k1, (u) => void kexecNow(u, ""));
	t.equal(out.kind, "stopped");
	t.same(calls, [`high:${SYS_RESTART}:kexec reboot`, `mid:${SYS_RESTART}:kexec reboot`, `low:${SYS_RESTART}:kexec reboot`]);
});

t.test("a reboot notifier can veto a kexec: reboot fails with its errno and nothing stops", async (t) => {
	const k1 = new Machine(SMALL).boot();
	let later = 0;
	register_reboot_notifier(k1, { priority: 1, notifier_call: () => notifier_from_errno(-EBUSY) });
	register_reboot_notifier(k1, { notifier_call: () => (later++, NOTIFY_DONE) });
	const out = await runOutcome(k1, (u) => {
		t.equal(kexecNow(u, "a"), -EBUSY);
		t.equal(kexecState(k1).image!.cmdline, "a", "still loaded");
		return 0;
	});
	t.same(out, { kind: "exited", status: 0 });
	t.equal(later, 0, "the chain stopped at the veto");
	t.equal(k1.machine.kernel, k1);
	t.equal(k1.stopped, null);
});

t.test("a warm boot keeps memory; a cold boot does not", async (t) => {
	const k1 = bootKho({}, SMALL);
	const m = k1.machine;
	const pm = m.physmem;
	const folio = folio_alloc(k1.buddy, 0)!;
	const kept = PFN_PHYS(folio_pfn(folio));
	const lost = PFN_PHYS(folio_alloc(k1.buddy, 0)!.pfn);
	pm.write(kept, new TextEncoder().encode("preserved bytes"));
	pm.write(lost, new TextEncoder().encode("not preserved"));
	kho_preserve_folio(k1, folio);
	kho_finalize(k1);
	const out = await runOutcome(k1, (u) => void kexecNow(u, k1.cmdline.text));
	t.equal(out.kind, "stopped");
	const k2 = m.kernel!;
	t.equal(m.physmem, pm, "the same memory");
	t.equal(new TextDecoder().decode(pm.read(kept, 15)), "preserved bytes");
	t.same([...pm.read(lost, 4)], [PAGE_POISON, PAGE_POISON, PAGE_POISON, PAGE_POISON], "an unpreserved frame reads poisoned");

	const cold = await runOutcome(k2, (u) => void rebootCmd(u, LINUX_REBOOT_CMD_RESTART));
	t.equal(cold.kind, "stopped");
	t.not(m.physmem, pm, "a cold boot has new memory");
	t.same([...m.physmem.read(kept, 15)], new Array(15).fill(0), "that reads zero");
});

t.test("RESTART cold-boots the firmware's kernel after the notifiers", async (t) => {
	const m = new Machine(SMALL);
	const k1 = m.boot({ abi: "mainline", cmdline: "first=1" });
	const calls: unknown[] = [];
	register_reboot_notifier(k1, { notifier_call: (_nb, action, data) => (calls.push([action, data]), notifier_from_errno(-EBUSY)) });
	const out = await runOutcome(k1, (u) => {
		t.equal(loadBootImage(u, "loaded=1"), 0);
		rebootCmd(u, LINUX_REBOOT_CMD_RESTART);
	});
	t.equal(out.kind, "stopped");
	const ev = m.lastReboot!;
	t.equal(ev.kind, "restart");
	t.same(calls, [[SYS_RESTART, null]], "a restart cannot be vetoed");
	t.ok(dmesg(k1).includes("reboot: Restarting system"), "reboot: Restarting system");
	const k2 = m.kernel!;
	t.equal(ev.to, k2);
	t.equal(k2.abi, "mainline");
	t.equal(k2.cmdline.text, "liveupdate=on first=1", "the firmware's command line, not the loaded one");
	t.same([...k2.processes.keys()], [1]);
});

t.test("RESTART2 passes its command; EFAULT for a bad pointer", async (t) => {
	const m = new Machine(SMALL);
	const k1 = m.boot();
	const first = await runOutcome(k1, (u) => {
		t.equal(rebootCmd(u, LINUX_REBOOT_CMD_RESTART2, 16), -EFAULT);
		rebootCmd(u, LINUX_REBOOT_CMD_RESTART2, u.str("recovery"));
	});
	t.equal(first.kind, "stopped");
	t.equal(m.lastReboot!.message, "recovery");
	t.ok(dmesg(k1).includes("reboot: Restarting system with command 'recovery'"), "reboot: Restarting system with command 'recovery'");
	t.not(m.kernel, null);
});

t.test("HALT and POWER_OFF stop the machine: no kernel runs", async (t) => {
	for (const [cmd, kind, action, line] of [
		[LINUX_REBOOT_CMD_HALT, "halt", SYS_HALT, "reboot: System halted"],
		[LINUX_REBOOT_CMD_POWER_OFF, "power_off", SYS_POWER_OFF, "reboot: Power down"],
	] as const) {
		const m = new Machine(SMALL);
		const k = m.boot();
		const actions: number[] = [];
		register_reboot_notifier(k, { notifier_call: (_nb, a) => (actions.push(a), NOTIFY_DONE) });
		const out = await runOutcome(k, (u) => void rebootCmd(u, cmd));
		t.equal(out.kind, "stopped");
		t.equal(m.kernel, null, `${kind}: nothing runs`);
		t.equal(m.lastReboot!.kind, kind);
		t.equal(m.lastReboot!.to, null);
		t.same(actions, [action]);
		t.ok(dmesg(k).includes(line), line);
		t.ok(await rejection(k.waitFor(k.init)) instanceof KernelStoppedError);
	}
});
