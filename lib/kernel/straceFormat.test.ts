import t from "tap";
import { run, type User } from "./testing.ts";
import { cstr, formatArg, formatReturn, ioctlCmd, quote, registerIoctlName, strn, waitStatus } from "./straceFormat.ts";
import { flags, hex, mmapFlags, openModes, MMAP_PROT } from "./straceXlat.ts";
import { EINTR, ENOENT } from "./errno.ts";
import type { SyscallArgKind, SyscallDef } from "./syscallTable.ts";

/** A syscall definition for formatting only (never registered). */
function def(name: string, args: SyscallArgKind[], ret?: SyscallDef["ret"]): SyscallDef {
	return { nr: 9999, name, args, status: "unsupported", note: "", ret };
}

/** Argument `i` of a call `d(args)` as printed, on entry (ret undefined) or exit. */
function fmt(u: User, d: SyscallDef, args: number[], i: number, ret?: number): string | null {
	return formatArg(d.args[i]!, { p: u.p, def: d, args, i, ret });
}

/** One argument of kind `kind` with value `v`. */
function one(u: User, kind: SyscallArgKind, v: number, ret?: number): string | null {
	return fmt(u, def("x", [kind]), [v], 0, ret);
}

t.test("quote: C escapes, octal for other bytes, three digits only before an octal digit", async (t) => {
	const b = Uint8Array.of(0x22, 0x5c, 0x0a, 0x09, 0x0d, 0x0b, 0x0c, 0x07, 0x00, 0x31, 0x00, 0x41, 0xff, 0x38, 0x7f, 0x37);
	t.equal(quote(b), '"\\"\\\\\\n\\t\\r\\v\\f\\7\\0001\\0A\\3778\\1777"');
	t.equal(quote(new TextEncoder().encode("é")), '"\\303\\251"', "UTF-8 bytes are not printable ASCII");
});

t.test("strings are cut at 32 bytes with ...; a buffer shows ... when longer than 32", async (t) => {
	await run((u) => {
		t.equal(cstr(u.p, u.str("a".repeat(32))), `"${"a".repeat(32)}"`);
		t.equal(cstr(u.p, u.str("a".repeat(33))), `"${"a".repeat(32)}"...`);
		t.equal(cstr(u.p, 0), "NULL");
		t.equal(cstr(u.p, 8), "0x8", "unreadable: the address");
		const buf = u.bytes(new Uint8Array(40));
		t.equal(strn(u.p, buf, 4), '"\\0\\0\\0\\0"');
		t.equal(strn(u.p, buf, 40), `"${"\\0".repeat(32)}"...`);
		t.equal(strn(u.p, buf, 0), '""');
		t.equal(one(u, "path", u.str("x".repeat(100))), `"${"x".repeat(100)}"`, "paths are not cut");
	});
});

t.test("flags: names in table order, leftovers in hex, a zero name", async (t) => {
	t.equal(openModes(0), "O_RDONLY");
	t.equal(openModes(0o2 | 0o2000000), "O_RDWR|O_CLOEXEC");
	t.equal(openModes(0o1 | 0o100 | 0o1000), "O_WRONLY|O_CREAT|O_TRUNC");
	t.equal(openModes(0o20200002), "O_RDWR|O_TMPFILE");
	t.equal(openModes(0o4010000), "O_RDONLY|O_SYNC");
	t.equal(openModes(0o100000), "O_RDONLY|O_LARGEFILE");
	t.equal(openModes(0x80000000), "O_RDONLY|0x80000000");
	t.equal(flags(MMAP_PROT, 0, "PROT_NONE"), "PROT_NONE");
	t.equal(flags(MMAP_PROT, 7), "PROT_READ|PROT_WRITE|PROT_EXEC");
	t.equal(mmapFlags(0x22), "MAP_PRIVATE|MAP_ANONYMOUS");
	t.equal(mmapFlags(0x13), "MAP_SHARED_VALIDATE|MAP_FIXED");
	t.equal(mmapFlags(0x100021), "MAP_SHARED|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE");
	t.equal(mmapFlags(0x40022 | (21 << 26)), "MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|21<<MAP_HUGE_SHIFT");
	t.equal(mmapFlags(0x20), "0 /* MAP_??? */|MAP_ANONYMOUS");
	t.equal(hex(0), "0");
	t.equal(hex(-1), "0xffffffffffffffff");
});

t.test("ioctl commands: a registered name, else _IOC(dir, type, nr, size)", async (t) => {
	t.equal(ioctlCmd(0xc010fe00), "_IOC(_IOC_READ|_IOC_WRITE, 0xfe, 0, 0x10)");
	t.equal(ioctlCmd(0x4010fe07), "_IOC(_IOC_WRITE, 0xfe, 0x7, 0x10)");
	t.equal(ioctlCmd(0x8004fe01), "_IOC(_IOC_READ, 0xfe, 0x1, 0x4)");
	t.equal(ioctlCmd(0xfe41), "_IOC(_IOC_NONE, 0xfe, 0x41, 0)");
	t.equal(ioctlCmd(0x5401), "TCGETS");
	registerIoctlName(0xc010fe00, "LUOSIM_TEST_IOCTL");
	t.equal(ioctlCmd(0xc010fe00), "LUOSIM_TEST_IOCTL");
});

t.test("wait statuses as strace prints them", async (t) => {
	t.equal(waitStatus(0x0300), "[{WIFEXITED(s) && WEXITSTATUS(s) == 3}]");
	t.equal(waitStatus(9), "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}]");
	t.equal(waitStatus(0x86), "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGABRT && WCOREDUMP(s)}]");
	t.equal(waitStatus(0x137f), "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}]");
	t.equal(waitStatus(0xffff), "[{WIFCONTINUED(s)}]");
});

t.test("one formatter per argument kind: integers, fds, symbolic values", async (t) => {
	await run((u) => {
		t.equal(one(u, "int", -5), "-5");
		t.equal(one(u, "int", 0xffffffff), "-1", "a C int");
		t.equal(one(u, "uint", -1), "4294967295");
		t.equal(one(u, "hex", 255), "0xff");
		t.equal(one(u, "fd", 3), "3");
		t.equal(one(u, "dirfd", -100), "AT_FDCWD");
		t.equal(one(u, "dirfd", 4), "4");
		t.equal(one(u, "ptr", 0), "NULL");
		t.equal(one(u, "ptr", 0x7f0000001000), "0x7f0000001000");
		t.equal(one(u, "size", 4096), "4096");
		t.equal(one(u, "off", -1), "-1");
		t.equal(one(u, "whence", 2), "SEEK_END");
		t.equal(one(u, "whence", 9), "0x9 /* SEEK_??? */");
		t.equal(one(u, "signal", 9), "SIGKILL");
		t.equal(one(u, "signal", 0), "0");
		t.equal(one(u, "signal", 99), "99");
		t.equal(one(u, "wait_options", 0), "0");
		t.equal(one(u, "wait_options", 1 | 0x40000000), "WNOHANG|__WALL");
		t.equal(one(u, "prot", 0), "PROT_NONE");
		t.equal(one(u, "fcntl_cmd", 1030), "F_DUPFD_CLOEXEC");
		t.equal(one(u, "rlimit_res", 7), "RLIMIT_NOFILE");
		t.equal(one(u, "rlimit_res", 16), "0x10 /* RLIMIT_??? */");
		t.equal(one(u, "clockid", 1), "CLOCK_MONOTONIC");
		t.equal(one(u, "clockid", 99), "0x63 /* CLOCK_??? */");
		t.equal(one(u, "timer_flags", 1), "TIMER_ABSTIME");
		t.equal(one(u, "mount_flags", 0), "0");
		t.equal(one(u, "mount_flags", 1 | 2 | 4 | 8), "MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC");
		t.equal(one(u, "mount_flags", 0xc0ed0001), "MS_MGC_VAL|MS_RDONLY");
		t.equal(one(u, "mount_flags", 1 << 12 | 1 << 14), "MS_BIND|MS_REC");
		t.equal(one(u, "at_flags", 0x100), "AT_SYMLINK_NOFOLLOW");
		t.equal(one(u, "at_flags", 0), "0");
		t.equal(one(u, "reboot_magic", 0xfee1dead), "LINUX_REBOOT_MAGIC1");
		t.equal(one(u, "reboot_magic", 672274793), "LINUX_REBOOT_MAGIC2");
		t.equal(one(u, "reboot_cmd", 0x45584543), "LINUX_REBOOT_CMD_KEXEC");
		t.equal(one(u, "reboot_cmd", 7), "0x7 /* LINUX_REBOOT_CMD_??? */");
		t.equal(one(u, "memfd_flags", 3), "MFD_CLOEXEC|MFD_ALLOW_SEALING");
		t.equal(one(u, "kexec_flags", 4), "KEXEC_FILE_NO_INITRAMFS");
		t.equal(one(u, "msync_flags", 4), "MS_SYNC");
		t.equal(one(u, "seal_flags", 1 | 8), "F_SEAL_SEAL|F_SEAL_WRITE");
		t.equal(one(u, "falloc_mode", 3), "FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE");
		t.equal(one(u, "uid", -1), "-1");
		t.equal(one(u, "uid", 1000), "1000");
		t.equal(one(u, "ioctl_arg", 0), "0");
		t.equal(one(u, "ioctl_arg", 0x7f0000000010), "0x7f0000000010");
	});
});

t.test("open's mode is printed only with O_CREAT or O_TMPFILE; mode is %#03o", async (t) => {
	await run((u) => {
		const openat = def("openat", ["dirfd", "path", "open_flags", "mode"]);
		t.equal(fmt(u, openat, [-100, 0, 0, 0o644], 3), null);
		t.equal(fmt(u, openat, [-100, 0, 0o100, 0o644], 3), "0644");
		t.equal(fmt(u, openat, [-100, 0, 0o20200002, 0o600], 3), "0600");
		t.equal(one(u, "mode", 0), "000");
		t.equal(one(u, "mode", 0o7), "007");
		t.equal(one(u, "mode", 0o1777), "01777");
	});
});

t.test("fcntl's third argument follows the command", async (t) => {
	await run((u) => {
		const fcntl = def("fcntl", ["fd", "fcntl_cmd", "fcntl_arg"]);
		t.equal(fmt(u, fcntl, [3, 1, 0], 2), null, "F_GETFD has none");
		t.equal(fmt(u, fcntl, [3, 2, 1], 2), "FD_CLOEXEC");
		t.equal(fmt(u, fcntl, [3, 4, 0o4000], 2), "O_RDONLY|O_NONBLOCK");
		t.equal(fmt(u, fcntl, [3, 1033, 2], 2), "F_SEAL_SHRINK");
		t.equal(fmt(u, fcntl, [3, 1030, 10], 2), "10");
		t.equal(fmt(u, fcntl, [3, 999, 10], 2), "0xa");
		t.equal(formatReturn(u.p, fcntl, [3, 1], 1), "0x1 (flags FD_CLOEXEC)");
		t.equal(formatReturn(u.p, fcntl, [3, 1], 0), "0");
		t.equal(formatReturn(u.p, fcntl, [3, 3], 0o100002), "0x8002 (flags O_RDWR|O_LARGEFILE)");
		t.equal(formatReturn(u.p, fcntl, [3, 1034], 8), "0x8 (seals F_SEAL_WRITE)");
		t.equal(formatReturn(u.p, fcntl, [3, 1034], -9), "-1 EBADF (Bad file descriptor)");
	});
});

t.test("structs the kernel writes print on success, the address on failure", async (t) => {
	await run((u) => {
		const ts = u.u64s(5n, 42n);
		t.equal(one(u, "timespec_in", ts), "{tv_sec=5, tv_nsec=42}");
		t.equal(one(u, "timespec_in", 0), "NULL");
		t.equal(one(u, "timespec_in", 8), "0x8");
		t.equal(one(u, "timespec_out", ts, 0), "{tv_sec=5, tv_nsec=42}");
		t.equal(one(u, "timespec_out", ts, -14), hex(ts));
		t.equal(one(u, "timespec_rem", ts, 0), hex(ts), "rem is only written on EINTR");
		t.equal(one(u, "timespec_rem", 0, 0), "NULL");
		t.equal(one(u, "timespec_rem", ts, -EINTR), "{tv_sec=5, tv_nsec=42}");
		t.equal(one(u, "timeval_out", ts, 0), "{tv_sec=5, tv_usec=42}");
		t.equal(one(u, "timezone_out", u.alloc(8), 0), "{tz_minuteswest=0, tz_dsttime=0}");
		t.equal(one(u, "time_out", ts, 5), "[5]");
		t.equal(one(u, "time_out", 0, 5), "NULL");
		const rl = u.u64s(1024n, 4096n);
		t.equal(one(u, "rlimit_in", rl), "{rlim_cur=1024, rlim_max=4*1024}");
		t.equal(one(u, "rlimit_out", u.u64s(8n << 20n, -1n), 0), "{rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}");
		t.equal(one(u, "rlimit_out", rl, -22), hex(rl));
		t.equal(one(u, "fd_pair", u.bytes(Uint8Array.of(3, 0, 0, 0, 4, 0, 0, 0)), 0), "[3, 4]");
		const st = u.alloc(4);
		u.p.mm.putUser(st, 4, 0x0200);
		const wait4 = def("wait4", ["int", "wstatus", "wait_options", "rusage_out"]);
		t.equal(fmt(u, wait4, [-1, st, 0, 0], 1, 5), "[{WIFEXITED(s) && WEXITSTATUS(s) == 2}]");
		t.equal(fmt(u, wait4, [-1, st, 1, 0], 1, 0), hex(st), "WNOHANG with nothing to report");
		t.equal(fmt(u, wait4, [-1, 0, 0, 0], 1, 5), "NULL");
		const ru = u.alloc(144);
		t.equal(fmt(u, wait4, [-1, 0, 0, ru], 3, 5), "{ru_utime={tv_sec=0, tv_usec=0}, ru_stime={tv_sec=0, tv_usec=0}, ...}");
		t.equal(fmt(u, wait4, [-1, 0, 0, ru], 3, 0), hex(ru));
		const uts = u.alloc(390);
		u.p.mm.copyToUser(uts, new TextEncoder().encode("Linux"));
		u.p.mm.copyToUser(uts + 65, new TextEncoder().encode("box"));
		t.equal(one(u, "utsname_out", uts, 0), '{sysname="Linux", nodename="box", ...}');
		t.equal(one(u, "sigset", u.u64s(1n << 16n)), "[CHLD]");
		t.equal(one(u, "sigset", u.u64s(0n)), "[]");
		t.equal(one(u, "sigset", u.u64s(~((1n << 8n) | (1n << 18n)))), "~[KILL STOP]");
	});
});

t.test("stat: the type and permission bits, then st_size or st_rdev", async (t) => {
	await run((u) => {
		const st = u.alloc(144);
		const v = new DataView(new ArrayBuffer(144));
		v.setUint32(24, 0o104755, true);
		v.setBigInt64(48, 1234n, true);
		u.p.mm.copyToUser(st, new Uint8Array(v.buffer));
		t.equal(one(u, "stat_out", st, 0), "{st_mode=S_IFREG|S_ISUID|0755, st_size=1234, ...}");
		v.setUint32(24, 0o020666, true);
		v.setBigUint64(40, BigInt((1 << 8) | 3), true);
		u.p.mm.copyToUser(st, new Uint8Array(v.buffer));
		t.equal(one(u, "stat_out", st, 0), "{st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}");
		t.equal(one(u, "stat_out", st, -2), hex(st));
	});
});

t.test("argv, envp and dirents", async (t) => {
	await run((u) => {
		t.equal(one(u, "argv", u.strArray(["a", "b c"])), '["a", "b c"]');
		t.equal(one(u, "argv", u.strArray([])), "[]");
		t.equal(one(u, "argv", 0), "NULL");
		t.equal(one(u, "argv", u.strArray(Array.from({ length: 33 }, () => "x"))), `[${new Array(32).fill('"x"').join(", ")}, ...]`);
		const env = u.strArray(["A=1"]);
		t.equal(one(u, "envp", env), `${hex(env)} /* 1 var */`);
		t.equal(one(u, "envp", u.strArray([]))!.replace(/^0x[0-9a-f]+/, "P"), "P /* 0 vars */");
		const d = new Uint8Array(48);
		const dv = new DataView(d.buffer);
		dv.setUint16(16, 24, true);
		dv.setUint16(24 + 16, 24, true);
		const dp = u.bytes(d);
		t.equal(one(u, "dirents", dp, 48), `${hex(dp)} /* 2 entries */`);
		t.equal(one(u, "dirents", dp, 0), `${hex(dp)} /* 0 entries */`);
	});
});

t.test("return values: errno name and text, hex for addresses, poll's revents and Timeout", async (t) => {
	await run((u) => {
		t.equal(formatReturn(u.p, def("open", ["path"]), [0], -ENOENT), "-1 ENOENT (No such file or directory)");
		t.equal(formatReturn(u.p, def("mmap", [], "hex"), [], 0x7f0000000000), "0x7f0000000000");
		t.equal(formatReturn(u.p, def("getpid", []), [], 7), "7");
		const poll = def("poll", ["pollfds", "uint", "int"]);
		const fds = u.bytes(Uint8Array.of(3, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0));
		t.equal(fmt(u, poll, [fds, 2, 5000], 0), "[{fd=3, events=POLLPRI}, {fd=4, events=POLLIN}]");
		t.equal(formatReturn(u.p, poll, [fds, 2, 5000], 0), "0 (Timeout)");
		u.p.mm.putUser(fds + 6, 2, 0x2 | 0x8);
		t.equal(formatReturn(u.p, poll, [fds, 2, 5000], 1), "1 ([{fd=3, revents=POLLPRI|POLLERR}])");
		const ppoll = def("ppoll", ["pollfds", "uint", "timespec_in", "sigset", "size"]);
		const tmo = u.u64s(0n, 500n);
		t.equal(formatReturn(u.p, ppoll, [fds, 2, tmo, 0, 8], 1), "1 ([{fd=3, revents=POLLPRI|POLLERR}], left {tv_sec=0, tv_nsec=500})");
		t.equal(fmt(u, poll, [u.bytes(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0)), 1, 0], 0), "[{fd=-1}]");
		t.equal(fmt(u, poll, [8, 1, 0], 0), "0x8");
	});
});
