import t from "tap";
import { runTest } from "./testing.ts";
import { miscRegister, MISC_DYNAMIC_MINOR } from "../fs/miscdev.ts";
import { current } from "../kernel/current.ts";
import { Errno } from "../kernel/errno.ts";
import type { Kernel } from "../kernel/kernel.ts";
import { errno, ioctl, open, malloc, peek, poke, O_RDWR, O_RDONLY, ENOTTY, EBADF, EFAULT, EINVAL } from "./mod.ts";

const INC = 0xc004aa01;
const INC_THEN_FAIL = 0xc004aa02;
const PLUS_ONE = 0xaa03;

/** A test device: INC adds 1 to the u32 at arg; INC_THEN_FAIL does that and fails with EINVAL; PLUS_ONE returns arg + 1. */
function addTestDevice(k: Kernel): void {
	miscRegister(k, {
		name: "libctest",
		minor: MISC_DYNAMIC_MINOR,
		mode: 0o666,
		fops: {
			ioctl: (_file, cmd, arg) => {
				const mm = current().mm;
				if (cmd === PLUS_ONE) return arg + 1;
				if (cmd !== INC && cmd !== INC_THEN_FAIL) throw new Errno(ENOTTY);
				const v = new DataView(mm.copyFromUser(arg, 4).buffer).getUint32(0, true);
				const out = new Uint8Array(4);
				new DataView(out.buffer).setUint32(0, v + 1, true);
				mm.copyToUser(arg, out);
				if (cmd === INC_THEN_FAIL) throw new Errno(EINVAL);
				return 0;
			},
		},
	});
}

t.test("ioctl with a Uint8Array: copied in, the call made with its address, copied back", async (t) => {
	const r = await runTest(() => {
		const fd = open("/dev/libctest", O_RDWR);
		t.ok(fd >= 0);
		const arg = Uint8Array.of(41, 0, 0, 0);
		t.equal(ioctl(fd, INC, arg), 0);
		t.same(arg, Uint8Array.of(42, 0, 0, 0));
		t.equal(ioctl(fd, INC_THEN_FAIL, arg), -1);
		t.equal(errno, EINVAL);
		t.same(arg, Uint8Array.of(43, 0, 0, 0), "what the driver wrote before failing is seen, as in C");
	}, { setup: addTestDevice });
	t.equal(r.status, 0);
});

t.test("ioctl with a user address or a plain integer", async (t) => {
	const r = await runTest(() => {
		const fd = open("/dev/libctest", O_RDONLY);
		const a = malloc(4);
		poke(a, Uint8Array.of(7, 0, 0, 0));
		t.equal(ioctl(fd, INC, a), 0);
		t.same(peek(a, 4), Uint8Array.of(8, 0, 0, 0));
		t.equal(ioctl(fd, PLUS_ONE, 99), 100);
		t.equal(ioctl(fd, INC, 0), -1);
		t.equal(errno, EFAULT, "NULL");
		t.equal(ioctl(fd, 0x1234), -1);
		t.equal(errno, ENOTTY);
	}, { setup: addTestDevice });
	t.equal(r.status, 0);
});

t.test("ioctl: ENOTTY on a file without ioctl, EBADF on a closed fd", async (t) => {
	const r = await runTest(() => {
		const fd = open("/dev/null", O_RDONLY);
		t.equal(ioctl(fd, INC, new Uint8Array(4)), -1);
		t.equal(errno, ENOTTY);
		t.equal(ioctl(50, INC, 0), -1);
		t.equal(errno, EBADF);
	});
	t.equal(r.status, 0);
});
