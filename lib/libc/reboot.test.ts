import t from "tap";
import { runTest } from "./testing.ts";
import { errno, reboot, kexec_file_load, RB_KEXEC, RB_AUTOBOOT, EPERM, EINVAL, EBADF } from "./mod.ts";

t.test("reboot: EPERM without CAP_SYS_BOOT; RB_KEXEC with nothing loaded is EINVAL", async (t) => {
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

t.test("kexec_file_load: EBADF for a bad kernel fd", async (t) => {
	const r = await runTest(() => {
		t.equal(kexec_file_load(77, -1, 1, "", 4), -1);
		t.equal(errno, EBADF);
	});
	t.equal(r.status, 0);
});
