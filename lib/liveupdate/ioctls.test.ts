import t from "tap";
import { EFAULT, EINVAL, ENOTTY } from "../kernel/errno.ts";
import { bootKernel } from "../kernel/machine.ts";
import { run, type User } from "../kernel/testing.ts";
import { O_RDWR } from "../fs/fcntl.ts";
import { _IOC_NR } from "../uaccess/ioctl.ts";
import { LUO_IOCTLS } from "./ioctls.ts";
import { createSession } from "./mainline/testing.ts";
import type { AbiGeneration } from "../kernel/kernel.ts";

/** ioctl(cmd, NULL) on a fresh kernel of `abi`, on /dev/liveupdate or a new outgoing session fd. */
async function ioctlNull(abi: AbiGeneration, onSession: boolean, cmd: number): Promise<number> {
	let ret = 0;
	await run((u: User) => {
		const luo = u.sys("open", "/dev/liveupdate", O_RDWR);
		const fd = onSession ? createSession(u, luo, "matrix") : luo;
		ret = u.sys("ioctl", fd, cmd, 0);
	}, { kernel: bootKernel({ abi }) });
	return ret;
}

for (const abi of ["rfc-v2", "v2"] as const) {
	const listed = LUO_IOCTLS.filter((i) => i.generation === abi);
	t.test(`${abi}: every listed command reaches the dispatcher`, async (t) => {
		for (const i of listed) t.not(await ioctlNull(abi, false, i.cmd), -ENOTTY, i.name);
	});
	t.test(`${abi}: the listed numbers with another nr are ENOTTY`, async (t) => {
		const known = new Set(listed.map((i) => i.cmd >>> 0));
		const templates = new Set(listed.map((i) => (i.cmd & ~0xff) >>> 0));
		for (const base of templates) {
			for (let nr = 0; nr < 16; nr++) {
				const cmd = (base | nr) >>> 0;
				if (!known.has(cmd)) t.equal(await ioctlNull(abi, false, cmd), -ENOTTY, `0x${cmd.toString(16)}`);
			}
		}
	});
}

t.test("mainline: every listed command passes the nr range check of its file (NULL: EFAULT reading the size)", async (t) => {
	for (const i of LUO_IOCTLS.filter((x) => x.generation === "mainline")) {
		t.equal(await ioctlNull("mainline", i.file === "session fd", i.cmd), -EFAULT, i.name);
	}
});

t.test("mainline: an nr outside the file's table is EINVAL", async (t) => {
	const device = LUO_IOCTLS.filter((x) => x.generation === "mainline" && x.file === "/dev/liveupdate").map((x) => _IOC_NR(x.cmd));
	const session = LUO_IOCTLS.filter((x) => x.generation === "mainline" && x.file === "session fd").map((x) => _IOC_NR(x.cmd));
	t.equal(await ioctlNull("mainline", false, 0xba00 | (Math.max(...device) + 1)), -EINVAL);
	t.equal(await ioctlNull("mainline", false, 0xba00 | session[0]!), -EINVAL, "a session command on /dev/liveupdate");
	t.equal(await ioctlNull("mainline", true, 0xba00 | (Math.max(...session) + 1)), -EINVAL);
	t.equal(await ioctlNull("mainline", true, 0xba00 | device[0]!), -EINVAL, "a device command on a session fd");
});
