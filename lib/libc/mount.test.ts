import t from "tap";
import { runTest } from "./testing.ts";
import {
	errno, mount, umount, umount2, mkdir, open, close, stat, Stat, chdir,
	O_CREAT, O_WRONLY, MS_RDONLY, MNT_DETACH, ENODEV, ENOENT, EINVAL, EPERM, EBUSY, EROFS,
} from "./mod.ts";

t.test("mount a tmpfs, use it, unmount it", async (t) => {
	const r = await runTest(() => {
		t.equal(mkdir("/tmp/m", 0o755), 0);
		const before = new Stat();
		stat("/tmp/m", before);
		t.equal(mount("none", "/tmp/m", "tmpfs", 0, null), 0);
		const after = new Stat();
		stat("/tmp/m", after);
		t.not(after.st_dev, before.st_dev, "a new filesystem");
		t.equal(close(open("/tmp/m/f", O_CREAT | O_WRONLY, 0o644)), 0);
		t.equal(umount("/tmp/m"), 0);
		t.equal(stat("/tmp/m/f", after), -1);
		t.equal(errno, ENOENT, "the file went with the mount");
	});
	t.equal(r.status, 0);
});

t.test("mount errors: ENODEV for an unknown type, ENOENT for a missing target, EPERM without privilege", async (t) => {
	const r = await runTest(() => {
		mkdir("/tmp/m", 0o755);
		t.equal(mount("none", "/tmp/m", "nosuchfs", 0, null), -1);
		t.equal(errno, ENODEV);
		t.equal(mount("none", "/tmp/none", "tmpfs", 0, null), -1);
		t.equal(errno, ENOENT);
		t.equal(umount("/tmp/m"), -1);
		t.equal(errno, EINVAL, "not a mount point");
		t.equal(umount2("/tmp/m", 0x100), -1);
		t.equal(errno, EINVAL, "unknown flag");
	});
	t.equal(r.status, 0);
	const u = await runTest(() => {
		t.equal(mount("none", "/tmp", "tmpfs", 0, null), -1);
		t.equal(errno, EPERM);
		t.equal(umount("/sys"), -1);
		t.equal(errno, EPERM);
	}, { uid: 1000 });
	t.equal(u.status, 0);
});

t.test("umount of a busy mount is EBUSY unless MNT_DETACH; MS_RDONLY is EROFS for writes", async (t) => {
	const r = await runTest(() => {
		mkdir("/tmp/m", 0o755);
		t.equal(mount("none", "/tmp/m", "tmpfs", 0, null), 0);
		t.equal(chdir("/tmp/m"), 0);
		const fd = open("/tmp/m/f", O_CREAT | O_WRONLY, 0o644);
		t.equal(umount("/tmp/m"), -1);
		t.equal(errno, EBUSY);
		t.equal(umount2("/tmp/m", MNT_DETACH), 0);
		close(fd);
		chdir("/");
		mkdir("/tmp/r", 0o755);
		t.equal(mount("none", "/tmp/r", "tmpfs", MS_RDONLY, null), 0);
		t.equal(open("/tmp/r/f", O_CREAT | O_WRONLY, 0o644), -1);
		t.equal(errno, EROFS);
	});
	t.equal(r.status, 0);
});
