import t from "tap";
import { Errno, EBADF, EFAULT, EINVAL, EMFILE, ENOIOCTLCMD, ENOTTY, EPERM } from "../../kernel/errno.ts";
import { RLIMIT_NOFILE } from "../../kernel/process.ts";
import {
	F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, F_SETFL, FD_CLOEXEC, O_ACCMODE, O_APPEND, O_ASYNC, O_CLOEXEC,
	O_CREAT, O_NOATIME, O_NONBLOCK, O_PATH, O_RDONLY, O_RDWR, O_WRONLY, SEEK_CUR,
} from "../fcntl.ts";
import { FIOCLEX, FIONBIO, FIONCLEX, FIONREAD, registerFcntl } from "./fd.ts";
import { inProcess } from "./testing.ts";

t.test("open returns the lowest free fd and reuses a closed one first", async (t) => {
	await inProcess((u) => {
		t.equal(u.sys("openat", -100, "/dev/null", O_RDONLY, 0), 0, "no stdio: fd 0 first");
		t.equal(u.sys("openat", -100, "/dev/null", O_RDONLY, 0), 1);
		t.equal(u.sys("openat", -100, "/dev/null", O_RDONLY, 0), 2);
		t.equal(u.sys("close", 1), 0);
		t.equal(u.sys("openat", -100, "/dev/null", O_RDONLY, 0), 1);
		t.equal(u.sys("close", 0), 0);
		t.equal(u.sys("dup", 2), 0, "dup takes the lowest too");
	});
});

t.test("EMFILE at RLIMIT_NOFILE, for open, dup and F_DUPFD; checked before the path", async (t) => {
	await inProcess((u) => {
		u.p.rlimits[RLIMIT_NOFILE] = { cur: 3n, max: 4096n };
		for (let i = 0; i < 3; i++) t.equal(u.sys("openat", -100, "/dev/null", O_RDONLY, 0), i);
		t.equal(u.sys("openat", -100, "/dev/null", O_RDONLY, 0), -EMFILE);
		t.equal(u.sys("openat", -100, "/no/such", O_RDONLY, 0), -EMFILE, "EMFILE before ENOENT, as get_unused_fd_flags comes first");
		t.equal(u.sys("dup", 0), -EMFILE);
		t.equal(u.sys("fcntl", 0, F_DUPFD, 0), -EMFILE);
		t.equal(u.sys("close", 2), 0);
		t.equal(u.sys("dup", 0), 2);
	});
});

t.test("dup'd fds share the offset and status flags; close twice is EBADF", async (t) => {
	await inProcess((u) => {
		const fd = u.sys("openat", -100, "/tmp/f", O_CREAT | O_RDWR, 0o644);
		const d = u.sys("dup", fd);
		t.equal(u.sys("write", fd, u.bytes(new Uint8Array(5)), 5), 5);
		t.equal(u.sys("lseek", d, 0, SEEK_CUR), 5, "one offset");
		t.equal(u.sys("fcntl", d, F_SETFL, O_APPEND), 0);
		t.equal(u.sys("fcntl", fd, F_GETFL) & O_APPEND, O_APPEND, "one set of status flags");
		t.equal(u.sys("close", fd), 0);
		t.equal(u.sys("close", fd), -EBADF);
		t.equal(u.sys("write", d, u.bytes(new Uint8Array(1)), 1), 1, "the description lives on through the dup");
		t.equal(u.sys("close", -1), -EBADF);
	});
});

t.test("dup2 and dup3: replace the target, keep close-on-exec apart, their errnos", async (t) => {
	await inProcess((u) => {
		const a = u.sys("openat", -100, "/dev/null", O_RDONLY | O_CLOEXEC, 0);
		const b = u.sys("openat", -100, "/dev/zero", O_RDONLY, 0);
		t.equal(u.sys("dup2", a, b), b);
		t.equal(u.p.files.get(b), u.p.files.get(a), "b now names a's file");
		t.equal(u.sys("fcntl", b, F_GETFD), 0, "dup2 clears FD_CLOEXEC on the new fd");
		t.equal(u.sys("fcntl", a, F_GETFD), FD_CLOEXEC);
		t.equal(u.sys("dup2", a, a), a);
		t.equal(u.sys("dup2", 50, 50), -EBADF, "onto itself, but closed");
		t.equal(u.sys("dup2", a, 1024), -EBADF, "at RLIMIT_NOFILE");
		t.equal(u.sys("dup2", a, -1), -EBADF);
		t.equal(u.sys("dup3", a, 7, O_CLOEXEC), 7);
		t.equal(u.sys("fcntl", 7, F_GETFD), FD_CLOEXEC);
		t.equal(u.sys("dup3", a, a, 0), -EINVAL);
		t.equal(u.sys("dup3", a, 8, O_NONBLOCK), -EINVAL);
		t.equal(u.sys("dup3", 60, 8, 0), -EBADF);
	});
});

t.test("fcntl: F_DUPFD from arg, FD_CLOEXEC, F_GETFL/F_SETFL change only the status flags", async (t) => {
	await inProcess((u) => {
		const fd = u.sys("openat", -100, "/tmp/f", O_CREAT | O_RDWR, 0o644);
		t.equal(u.sys("fcntl", fd, F_DUPFD, 10), 10);
		t.equal(u.sys("fcntl", fd, F_DUPFD_CLOEXEC, 10), 11);
		t.equal(u.sys("fcntl", 11, F_GETFD), FD_CLOEXEC);
		t.equal(u.sys("fcntl", fd, F_DUPFD, 1024), -EINVAL, "arg at RLIMIT_NOFILE");
		t.equal(u.sys("fcntl", fd, F_DUPFD, -1), -EINVAL);
		t.equal(u.sys("fcntl", fd, F_SETFD, FD_CLOEXEC), 0);
		t.equal(u.sys("fcntl", fd, F_GETFD), FD_CLOEXEC);
		t.equal(u.sys("fcntl", fd, F_GETFL) & O_ACCMODE, O_RDWR);
		t.equal(u.sys("fcntl", fd, F_SETFL, O_WRONLY | O_NONBLOCK | O_ASYNC | O_CREAT), 0);
		const fl = u.sys("fcntl", fd, F_GETFL);
		t.equal(fl & O_ACCMODE, O_RDWR, "the access mode stays");
		t.equal(fl & (O_NONBLOCK | O_ASYNC), O_NONBLOCK | O_ASYNC);
		t.equal(fl & O_CREAT, 0, "O_CREAT is not a status flag");
		t.equal(u.sys("fcntl", fd, F_SETFL, 0), 0);
		t.equal(u.sys("fcntl", fd, F_GETFL) & O_NONBLOCK, 0);
		t.equal(u.sys("fcntl", fd, 0x7fff), -EINVAL, "unknown command");
		t.equal(u.sys("fcntl", 99, F_GETFD), -EBADF);
	});
});

t.test("fcntl F_SETFL O_NOATIME needs the owner", async (t) => {
	await inProcess((u) => {
		const fd = u.sys("openat", -100, "/dev/null", O_RDONLY, 0);
		t.equal(u.sys("fcntl", fd, F_SETFL, O_NOATIME), -EPERM);
	}, { uid: 1000 });
});

t.test("fcntl commands registered by other modules get the file; O_PATH fds allow only the fd-level ones", async (t) => {
	const CMD = 0x4242;
	registerFcntl(CMD, (_p, file, arg) => file.f_flags + arg);
	await inProcess((u) => {
		const fd = u.sys("openat", -100, "/dev/null", O_RDONLY, 0);
		t.equal(u.sys("fcntl", fd, CMD, 1), u.p.files.get(fd).f_flags + 1);
		const pfd = u.sys("openat", -100, "/tmp", O_PATH, 0);
		t.equal(u.sys("fcntl", pfd, CMD, 0), -EBADF);
		t.equal(u.sys("fcntl", pfd, F_SETFL, 0), -EBADF);
		t.ok(u.sys("fcntl", pfd, F_GETFL) & O_PATH, "F_GETFL works");
		t.equal(u.sys("fcntl", pfd, F_DUPFD, 0), pfd + 1);
	});
});

t.test("ioctl: FIOCLEX/FIONCLEX, FIONBIO, FIONREAD on a file; ENOTTY without a driver ioctl; EBADF", async (t) => {
	await inProcess((u) => {
		const fd = u.sys("openat", -100, "/tmp/f", O_CREAT | O_RDWR, 0o644);
		t.equal(u.sys("ioctl", fd, FIOCLEX, 0), 0);
		t.equal(u.sys("fcntl", fd, F_GETFD), FD_CLOEXEC);
		t.equal(u.sys("ioctl", fd, FIONCLEX, 0), 0);
		t.equal(u.sys("fcntl", fd, F_GETFD), 0);
		const one = u.alloc(4);
		u.p.mm.putUser(one, 4, 1);
		t.equal(u.sys("ioctl", fd, FIONBIO, one), 0);
		t.equal(u.sys("fcntl", fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
		u.p.mm.putUser(one, 4, 0);
		t.equal(u.sys("ioctl", fd, FIONBIO, one), 0);
		t.equal(u.sys("fcntl", fd, F_GETFL) & O_NONBLOCK, 0);
		t.equal(u.sys("ioctl", fd, FIONBIO, 0), -EFAULT);
		u.sys("write", fd, u.bytes(new Uint8Array(10)), 10);
		u.sys("lseek", fd, 3, 0);
		t.equal(u.sys("ioctl", fd, FIONREAD, one), 0);
		t.equal(u.p.mm.getUser(one, 4), 7, "bytes left to read");
		t.equal(u.sys("ioctl", fd, 0x1234, 0), -ENOTTY, "tmpfs has no ioctl");
		t.equal(u.sys("ioctl", 77, FIOCLEX, 0), -EBADF);
		const pfd = u.sys("openat", -100, "/tmp/f", O_PATH, 0);
		t.equal(u.sys("ioctl", pfd, FIOCLEX, 0), -EBADF, "O_PATH");
	});
});

t.test("ioctl goes to the driver with cmd and arg; its ENOIOCTLCMD becomes ENOTTY", async (t) => {
	await inProcess((u) => {
		const fd = u.sys("openat", -100, "/dev/null", O_RDWR, 0);
		u.p.files.get(fd).f_op = {
			ioctl: (_f, cmd, arg) => {
				if (cmd === 0xc0105500) return arg * 2;
				throw new Errno(ENOIOCTLCMD);
			},
		};
		t.equal(u.sys("ioctl", fd, 0xc0105500, 21), 42, "the command as an unsigned int");
		t.equal(u.sys("ioctl", fd, -0x3fefab00, 21), 42, "a sign-extended command is the same");
		t.equal(u.sys("ioctl", fd, 2, 0), -ENOTTY);
	});
});
