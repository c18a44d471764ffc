import t from "tap";
import { EIO } from "../kernel/errno.ts";
import { Machine } from "../kernel/machine.ts";
import { kexecNow, runOutcome } from "../kexec/testing.ts";
import { register_reboot_notifier } from "../kexec/kexec_core.ts";
import { NOTIFY_DONE } from "../kho/notifier.ts";
import { dmesg } from "../kho/testing.ts";
import { liveupdate_enabled, liveupdate_reboot, registerLiveupdateReboot } from "./liveupdate.ts";
import type { Kernel } from "../kernel/kernel.ts";

const SMALL = { memBytes: 64 * 1024 * 1024 };

/** A kernel booted with exactly `cmdline` (no generation default). */
function boot(cmdline: string, opts: { abi?: "rfc-v2" | "mainline"; LIVEUPDATE?: boolean } = {}): Kernel {
	const config = opts.LIVEUPDATE === undefined ? {} : { LIVEUPDATE: opts.LIVEUPDATE };
	return new Machine(SMALL).boot({ abi: opts.abi, fullCmdline: cmdline, config });
}

t.test("liveupdate= is off by default", async (t) => {
	t.equal(liveupdate_enabled(boot("kho=on")), false);
});

t.test("liveupdate=on (or any kstrtobool yes) turns it on", async (t) => {
	for (const v of ["on", "1", "y", "Yes", "true"]) t.equal(liveupdate_enabled(boot(`kho=on liveupdate=${v}`)), true, v);
});

t.test("a later liveupdate= wins", async (t) => {
	t.equal(liveupdate_enabled(boot("kho=on liveupdate=on liveupdate=off")), false);
});

t.test("a malformed value or a bare liveupdate keeps the previous one and is reported", async (t) => {
	const k = boot("kho=on liveupdate=on liveupdate=maybe liveupdate");
	t.equal(liveupdate_enabled(k), true);
	t.equal(dmesg(k).filter((l) => l === "Malformed early option 'liveupdate'").length, 2);
});

t.test("KHO off forces it off with the kernel's warning", async (t) => {
	const k = boot("liveupdate=on");
	t.equal(liveupdate_enabled(k), false);
	t.ok(dmesg(k).includes("luo_core: Disabling liveupdate because KHO is disabled"));
});

t.test("KHO off without liveupdate=on says nothing", async (t) => {
	const k = boot("");
	t.equal(liveupdate_enabled(k), false);
	t.notOk(dmesg(k).some((l) => l.includes("Disabling liveupdate")));
});

t.test("without CONFIG_LIVEUPDATE it is off whatever the command line says", async (t) => {
	t.equal(liveupdate_enabled(boot("kho=on liveupdate=on", { LIVEUPDATE: false })), false);
});

t.test("liveupdate_reboot is 0 when no LUO core registered a hook, else the hook's result", async (t) => {
	const k = boot("", { LIVEUPDATE: false });
	t.equal(liveupdate_reboot(k), 0);
	registerLiveupdateReboot(k, () => -EIO);
	t.equal(liveupdate_reboot(k), -EIO);
});

t.test("kernel_kexec runs liveupdate_reboot before the reboot notifiers; its error fails reboot(2)", async (t) => {
	const k = boot("kho=on");
	const calls: string[] = [];
	registerLiveupdateReboot(k, () => (calls.push("luo"), -EIO));
	register_reboot_notifier(k, { notifier_call: () => (calls.push("notifier"), NOTIFY_DONE) });
	let r = 0;
	const out = await runOutcome(k, (u) => {
		r = kexecNow(u, "kho=on");
	});
	t.equal(out.kind, "exited", "no kexec");
	t.equal(r, -EIO);
	t.same(calls, ["luo"], "the notifiers did not run");
});

t.test("kernel_kexec goes on when liveupdate_reboot returns 0", async (t) => {
	const k = boot("kho=on");
	const calls: string[] = [];
	registerLiveupdateReboot(k, () => (calls.push("luo"), 0));
	register_reboot_notifier(k, { notifier_call: () => (calls.push("notifier"), NOTIFY_DONE) });
	const out = await runOutcome(k, (u) => void kexecNow(u, "kho=on"));
	t.equal(out.kind, "stopped");
	t.same(calls, ["luo", "notifier"]);
});
