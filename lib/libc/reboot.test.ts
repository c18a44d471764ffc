import t from "tap";
import { runTest } from "./testing.ts";
import { getSyscall } from "../kernel/syscallTable.ts";
import { bootKernel } from "../kernel/machine.ts";
import { errno, reboot, kexec_file_load, RB_KEXEC, RB_AUTOBOOT, EPERM, EINVAL, EBADF } from "./mod.ts";

bootKernel(); // a boot loads every syscall module
/** Skips a test until the syscall's subsystem has registered it (it is written separately). */
const pending = (name: string): { skip: string | false } => ({ skip: getSyscall(name) ? false : `${name}(2) is not in the syscall table yet` });

t.test("reboot: EPERM without CAP_SYS_BOOT; RB_KEXEC with nothing loaded is EINVAL", pending("reboot"), async (t) => {
	const u = await runTest(() => {
		t.equal(reboot(RB_AUTOBOOT), -1);
		t.equal(errno, EPERM);
	}, { uid: 1000 });
	t.equal(u.status, 0);
	const r = await runTest(() => {
		t.equal(reboot(RB_KEXEC), -1);
		t.equal(errno, EINVAL);
		t.equal(reboot(0x12345678), -1);
		t.equal(errno, EINVAL, "unknown command");
	});
	t.equal(r.status, 0);
});

t.test("kexec_file_load: EBADF for a bad kernel fd", pending("kexec_file_load"), async (t) => {
	const r = await runTest(() => {
		t.equal(kexec_file_load(77, -1, 1, "", 4), -1);
		t.equal(errno, EBADF);
	});
	t.equal(r.status, 0);
});
