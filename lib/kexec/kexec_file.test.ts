import t from "tap";
import { run, type User } from "../kernel/testing.ts";
import { EADDRNOTAVAIL, EBADF, EFAULT, EINVAL, ENOEXEC, ENOMEM, EPERM } from "../kernel/errno.ts";
import { O_CREAT, O_DIRECTORY, O_PATH, O_RDONLY, O_WRONLY } from "../fs/fcntl.ts";
import { khoHandoverAddress } from "../kho/kho.ts";
import { bootKho } from "../kho/testing.ts";
import { BOOT_IMAGE_PATH } from "./image.ts";
import { kexec_image } from "./kexec_core.ts";
import { COMMAND_LINE_SIZE, KEXEC_FILE_DEBUG, KEXEC_FILE_NO_INITRAMFS, KEXEC_FILE_ON_CRASH, KEXEC_FILE_UNLOAD } from "./kexec_file.ts";

/** kexec_file_load(fd, initrd, strlen(cmdline) + 1, cmdline, flags). */
function load(u: User, fd: number, cmdline: string, flags = KEXEC_FILE_NO_INITRAMFS, initrd = -1): number {
	return u.sys("kexec_file_load", fd, initrd, new TextEncoder().encode(cmdline).length + 1, cmdline, flags);
}

function openImage(u: User): number {
	return u.sys("open", BOOT_IMAGE_PATH, O_RDONLY);
}

t.test("loads /boot/vmlinuz with its command line", async (t) => {
	await run((u) => {
		const fd = openImage(u);
		t.equal(load(u, fd, "liveupdate=on luo_stage=2", KEXEC_FILE_NO_INITRAMFS | KEXEC_FILE_DEBUG), 0);
		const img = kexec_image(u.kernel)!;
		t.equal(img.cmdline, "liveupdate=on luo_stage=2");
		t.equal(img.parsed.abi, "mainline");
		t.same(img.boot, { abi: "mainline", config: u.kernel.config, fullCmdline: "liveupdate=on luo_stage=2" });
		t.not(img.handoverPhys, null, "mainline brings KHO up by default (KEXEC_HANDOVER_ENABLE_DEFAULT): its handover is taken at load");
		t.ok(u.kernel.log.all().some((r) => r.text.startsWith("kexec_file: kernel: ")), "KEXEC_FILE_DEBUG logs");
	}, { boot: { abi: "mainline" } });
});

t.test("EPERM without CAP_SYS_BOOT, before anything else", async (t) => {
	await run((u) => {
		t.equal(load(u, openImage(u), ""), -EPERM);
		t.equal(u.sys("kexec_file_load", 99, -1, 0, 0, 0x100), -EPERM, "even with a bad fd and bad flags");
		t.equal(kexec_image(u.kernel), null);
	}, { uid: 1000 });
});

t.test("EINVAL for an unknown flag, before the fds are looked at", async (t) => {
	await run((u) => {
		t.equal(u.sys("kexec_file_load", 99, -1, 0, 0, 0x10), -EINVAL);
		t.equal(u.sys("kexec_file_load", 99, -1, 0, 0, 0x80000000), -EINVAL);
	});
});

t.test("KEXEC_FILE_UNLOAD drops the loaded image whatever the other arguments", async (t) => {
	await run((u) => {
		t.equal(load(u, openImage(u), "a"), 0);
		t.equal(u.sys("kexec_file_load", 99, 98, 5, 0, KEXEC_FILE_UNLOAD | KEXEC_FILE_ON_CRASH), 0, "unloading the crash kernel leaves the other");
		t.not(kexec_image(u.kernel), null);
		t.equal(u.sys("kexec_file_load", 99, 98, 5, 0, KEXEC_FILE_UNLOAD), 0);
		t.equal(kexec_image(u.kernel), null);
		t.equal(u.sys("kexec_file_load", -1, -1, 0, 0, KEXEC_FILE_UNLOAD), 0, "unloading nothing is fine");
	});
});

t.test("the kernel file: EBADF unless open for reading, EINVAL unless a non-empty regular file", async (t) => {
	await run((u) => {
		t.equal(load(u, 42, ""), -EBADF, "not open");
		t.equal(load(u, -1, ""), -EBADF, "negative");
		t.equal(load(u, u.sys("open", BOOT_IMAGE_PATH, O_WRONLY), ""), -EBADF, "write-only");
		t.equal(load(u, u.sys("open", BOOT_IMAGE_PATH, O_PATH), ""), -EBADF, "O_PATH");
		t.equal(load(u, u.sys("open", "/boot", O_RDONLY | O_DIRECTORY), ""), -EINVAL, "a directory");
		t.equal(load(u, u.sys("open", "/dev/null", O_RDONLY), ""), -EINVAL, "a device");
		t.equal(load(u, u.sys("open", "/tmp/empty", O_RDONLY | O_CREAT, 0o644), ""), -EINVAL, "an empty file");
		t.equal(kexec_image(u.kernel), null);
	});
});

t.test("ENOEXEC for a file that is not a kernel image; a loaded image stays loaded", async (t) => {
	await run((u) => {
		t.equal(load(u, openImage(u), "first"), 0);
		const fd = u.sys("open", "/tmp/script", O_WRONLY | O_CREAT, 0o755);
		u.sys("write", fd, "#!/bin/sh\n", 10);
		t.equal(load(u, u.sys("open", "/tmp/script", O_RDONLY), "second"), -ENOEXEC);
		t.equal(kexec_image(u.kernel)!.cmdline, "first");
	});
});

t.test("without KEXEC_FILE_NO_INITRAMFS the initrd fd must be a readable regular file", async (t) => {
	await run((u) => {
		t.equal(load(u, openImage(u), "", 0, -1), -EBADF);
		t.equal(load(u, openImage(u), "", 0, u.sys("open", "/boot", O_RDONLY | O_DIRECTORY)), -EINVAL);
		const bad = u.sys("open", "/tmp/x", O_WRONLY | O_CREAT, 0o644);
		u.sys("write", bad, "x", 1);
		t.equal(load(u, u.sys("open", "/tmp/x", O_RDONLY), "", 0, -1), -ENOEXEC, "the kernel is probed before the initrd is read");
		t.equal(load(u, openImage(u), "", 0, u.sys("open", "/tmp/x", O_RDONLY)), 0, "any non-empty file will do");
	});
});

t.test("the command line: cmdline_len counts the NUL, which must be its last byte", async (t) => {
	await run((u) => {
		const fd = openImage(u);
		t.equal(u.sys("kexec_file_load", fd, -1, 4, "a b", KEXEC_FILE_NO_INITRAMFS), 0);
		t.equal(kexec_image(u.kernel)!.cmdline, "a b");
		t.equal(u.sys("kexec_file_load", fd, -1, 3, "a b", KEXEC_FILE_NO_INITRAMFS), -EINVAL, "no NUL within cmdline_len");
		t.equal(kexec_image(u.kernel)!.cmdline, "a b", "unchanged after the failure");
		t.equal(u.sys("kexec_file_load", fd, -1, 0, 0, KEXEC_FILE_NO_INITRAMFS), 0, "length 0: an empty command line");
		t.equal(kexec_image(u.kernel)!.cmdline, "");
		t.equal(u.sys("kexec_file_load", fd, -1, 8, 16, KEXEC_FILE_NO_INITRAMFS), -EFAULT, "a bad pointer");
		t.equal(load(u, fd, "x".repeat(COMMAND_LINE_SIZE - 1)), 0, "COMMAND_LINE_SIZE with its NUL");
		t.equal(load(u, fd, "x".repeat(COMMAND_LINE_SIZE)), -EINVAL, "one byte longer");
		t.equal(u.sys("kexec_file_load", fd, -1, 8 << 20, 16, KEXEC_FILE_NO_INITRAMFS), -ENOMEM, "past KMALLOC_MAX_SIZE");
	});
});

t.test("KEXEC_FILE_ON_CRASH finds no crashkernel memory: EADDRNOTAVAIL after the other checks", async (t) => {
	await run((u) => {
		t.equal(load(u, 42, "", KEXEC_FILE_ON_CRASH | KEXEC_FILE_NO_INITRAMFS), -EBADF);
		t.equal(load(u, openImage(u), "", KEXEC_FILE_ON_CRASH | KEXEC_FILE_NO_INITRAMFS), -EADDRNOTAVAIL);
		t.equal(kexec_image(u.kernel), null);
	});
});

t.test("with KHO on, the load takes the handover address (kho_fill_kimage)", async (t) => {
	const k = bootKho();
	await run((u) => {
		t.equal(load(u, openImage(u), "kho=on"), 0);
		const phys = kexec_image(u.kernel)!.handoverPhys;
		t.not(phys, null);
		t.equal(phys, khoHandoverAddress(u.kernel));
	}, { kernel: k });
});
