/**
 * strace's symbolic tables (strace src/xlat/*.in, x86_64 values) and the
 * two ways it prints them: `printxval` (one value) and `printflags` (a bit
 * set, names in table order, the rest as `|0x..`).
 */

/** One xlat table: [value, name] in strace's order. */
export type Xlat = readonly (readonly [number, string])[];

/** `%#x`: "0" for zero, else 0x + hex (u64 for negative numbers). */
export function hex(v: number): string {
	if (v === 0) return "0";
	return `0x${(v < 0 ? BigInt.asUintN(64, BigInt(Math.trunc(v))) : BigInt(Math.trunc(v))).toString(16)}`;
}

/** printxval(): the name of `v`, or `0x.. /* PREFIX??? *\/` for an unknown value. */
export function xval(table: Xlat, v: number, unknown: string): string {
	for (const [val, name] of table) if (val === v) return name;
	return `${hex(v)} /* ${unknown} */`;
}

/** The name of `v` in `table`, or undefined. */
export function xlookup(table: Xlat, v: number): string | undefined {
	for (const [val, name] of table) if (val === v) return name;
	return undefined;
}

/**
 * printflags(): the names of the bits of `v` joined by `|` (a multi-bit
 * entry needs all its bits), leftovers as hex; `zero` (or "0") for 0.
 */
export function flags(table: Xlat, v: number, zero = "0"): string {
	let rest = v >>> 0;
	if (rest === 0) return zero;
	const parts: string[] = [];
	for (const [val, name] of table) {
		if (val !== 0 && (rest & val) >>> 0 === val >>> 0) {
			parts.push(name);
			rest = (rest & ~val) >>> 0;
		}
	}
	if (rest !== 0) parts.push(hex(rest));
	return parts.join("|");
}

export const OPEN_ACCESS_MODES: Xlat = [[0, "O_RDONLY"], [1, "O_WRONLY"], [2, "O_RDWR"], [3, "O_ACCMODE"]];

/** open_mode_flags.in (O_SYNC before O_DSYNC, O_TMPFILE before O_DIRECTORY). */
export const OPEN_MODE_FLAGS: Xlat = [
	[0o100, "O_CREAT"], [0o200, "O_EXCL"], [0o400, "O_NOCTTY"], [0o1000, "O_TRUNC"], [0o2000, "O_APPEND"],
	[0o4000, "O_NONBLOCK"], [0o4010000, "O_SYNC"], [0o4000000, "__O_SYNC"], [0o10000, "O_DSYNC"], [0o40000, "O_DIRECT"],
	[0o100000, "O_LARGEFILE"], [0o400000, "O_NOFOLLOW"], [0o1000000, "O_NOATIME"], [0o2000000, "O_CLOEXEC"],
	[0o10000000, "O_PATH"], [0o20200000, "O_TMPFILE"], [0o20000000, "__O_TMPFILE"], [0o200000, "O_DIRECTORY"],
	[0o20000, "FASYNC"],
];

/** sprint_open_modes(): the access mode, then the other flags. */
export function openModes(v: number): string {
	const acc = xlookup(OPEN_ACCESS_MODES, v & 3)!;
	const rest = (v >>> 0) & ~3;
	return rest === 0 ? acc : `${acc}|${flags(OPEN_MODE_FLAGS, rest)}`;
}

export const MMAP_PROT: Xlat = [
	[0x1, "PROT_READ"], [0x2, "PROT_WRITE"], [0x4, "PROT_EXEC"], [0x8, "PROT_SEM"], [0x01000000, "PROT_GROWSDOWN"],
	[0x02000000, "PROT_GROWSUP"],
];

export const MMAP_TYPES: Xlat = [[0x1, "MAP_SHARED"], [0x2, "MAP_PRIVATE"], [0x3, "MAP_SHARED_VALIDATE"], [0x8, "MAP_DROPPABLE"]];

/** mmap_flags.in order, x86_64 values, without the type and MAP_HUGE_* bits. */
export const MMAP_FLAGS: Xlat = [
	[0x10, "MAP_FIXED"], [0x20, "MAP_ANONYMOUS"], [0x40, "MAP_32BIT"], [0x4000, "MAP_NORESERVE"], [0x8000, "MAP_POPULATE"],
	[0x10000, "MAP_NONBLOCK"], [0x100, "MAP_GROWSDOWN"], [0x800, "MAP_DENYWRITE"], [0x1000, "MAP_EXECUTABLE"],
	[0x2000, "MAP_LOCKED"], [0x20000, "MAP_STACK"], [0x40000, "MAP_HUGETLB"], [0x80000, "MAP_SYNC"],
	[0x4000000, "MAP_UNINITIALIZED"], [0x100000, "MAP_FIXED_NOREPLACE"],
];

/** print_mmap_flags(): the mapping type, the flags, then `N<<MAP_HUGE_SHIFT`. */
export function mmapFlags(v: number): string {
	v = v >>> 0;
	let s = xval(MMAP_TYPES, v & 0xf, "MAP_???");
	const huge = (v >>> 26) & 0x3f;
	const rest = v & ~0xf & ~(0x3f << 26);
	if (rest !== 0) s += `|${flags(MMAP_FLAGS, rest)}`;
	if (huge !== 0) s += `|${huge}<<MAP_HUGE_SHIFT`;
	return s;
}

export const POLL_FLAGS: Xlat = [
	[0x1, "POLLIN"], [0x2, "POLLPRI"], [0x4, "POLLOUT"], [0x8, "POLLERR"], [0x10, "POLLHUP"], [0x20, "POLLNVAL"],
	[0x40, "POLLRDNORM"], [0x80, "POLLRDBAND"], [0x100, "POLLWRNORM"], [0x200, "POLLWRBAND"], [0x400, "POLLMSG"],
	[0x1000, "POLLREMOVE"], [0x2000, "POLLRDHUP"], [0x8000, "POLL_BUSY_LOOP"],
];

export const MOUNT_FLAGS: Xlat = [
	"MS_RDONLY", "MS_NOSUID", "MS_NODEV", "MS_NOEXEC", "MS_SYNCHRONOUS", "MS_REMOUNT", "MS_MANDLOCK", "MS_DIRSYNC",
	"MS_NOSYMFOLLOW", "", "MS_NOATIME", "MS_NODIRATIME", "MS_BIND", "MS_MOVE", "MS_REC", "MS_SILENT", "MS_POSIXACL",
	"MS_UNBINDABLE", "MS_PRIVATE", "MS_SLAVE", "MS_SHARED", "MS_RELATIME", "MS_KERNMOUNT", "MS_I_VERSION",
	"MS_STRICTATIME", "MS_LAZYTIME", "MS_SUBMOUNT", "MS_NOREMOTELOCK", "MS_NOSEC", "MS_BORN", "MS_ACTIVE", "MS_NOUSER",
].flatMap((name, bit) => (name ? [[(1 << bit) >>> 0, name] as const] : []));

export const FCNTL_CMDS: Xlat = [
	[0, "F_DUPFD"], [1, "F_GETFD"], [2, "F_SETFD"], [3, "F_GETFL"], [4, "F_SETFL"], [5, "F_GETLK"], [6, "F_SETLK"],
	[7, "F_SETLKW"], [8, "F_SETOWN"], [9, "F_GETOWN"], [10, "F_SETSIG"], [11, "F_GETSIG"], [15, "F_SETOWN_EX"],
	[16, "F_GETOWN_EX"], [36, "F_OFD_GETLK"], [37, "F_OFD_SETLK"], [38, "F_OFD_SETLKW"], [1024, "F_SETLEASE"],
	[1025, "F_GETLEASE"], [1026, "F_NOTIFY"], [1027, "F_DUPFD_QUERY"], [1028, "F_CREATED_QUERY"], [1029, "F_CANCELLK"],
	[1030, "F_DUPFD_CLOEXEC"], [1031, "F_SETPIPE_SZ"], [1032, "F_GETPIPE_SZ"], [1033, "F_ADD_SEALS"], [1034, "F_GET_SEALS"],
];

export const FD_FLAGS: Xlat = [[1, "FD_CLOEXEC"]];

export const CLOCK_NAMES: Xlat = [
	[0, "CLOCK_REALTIME"], [1, "CLOCK_MONOTONIC"], [2, "CLOCK_PROCESS_CPUTIME_ID"], [3, "CLOCK_THREAD_CPUTIME_ID"],
	[4, "CLOCK_MONOTONIC_RAW"], [5, "CLOCK_REALTIME_COARSE"], [6, "CLOCK_MONOTONIC_COARSE"], [7, "CLOCK_BOOTTIME"],
	[8, "CLOCK_REALTIME_ALARM"], [9, "CLOCK_BOOTTIME_ALARM"], [10, "CLOCK_SGI_CYCLE"], [11, "CLOCK_TAI"],
];

export const TIMER_FLAGS: Xlat = [[1, "TIMER_ABSTIME"]];

export const RLIMIT_NAMES: Xlat = [
	"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC",
	"RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE",
	"RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
].map((name, i) => [i, name] as const);

export const IOCTL_DIRS: Xlat = [[0, "_IOC_NONE"], [2, "_IOC_READ"], [1, "_IOC_WRITE"]];

export const WAIT4_OPTIONS: Xlat = [
	[1, "WNOHANG"], [2, "WUNTRACED"], [4, "WEXITED"], [8, "WCONTINUED"], [0x1000000, "WNOWAIT"],
	[0x80000000, "__WCLONE"], [0x40000000, "__WALL"], [0x20000000, "__WNOTHREAD"],
];

export const AT_FLAGS: Xlat = [
	[0x100, "AT_SYMLINK_NOFOLLOW"], [0x200, "AT_REMOVEDIR"], [0x400, "AT_SYMLINK_FOLLOW"], [0x800, "AT_NO_AUTOMOUNT"],
	[0x1000, "AT_EMPTY_PATH"], [0x8000, "AT_RECURSIVE"],
];

export const MEMFD_FLAGS: Xlat = [[1, "MFD_CLOEXEC"], [2, "MFD_ALLOW_SEALING"], [4, "MFD_HUGETLB"], [8, "MFD_NOEXEC_SEAL"], [0x10, "MFD_EXEC"]];

export const KEXEC_FILE_FLAGS: Xlat = [
	[1, "KEXEC_FILE_UNLOAD"], [2, "KEXEC_FILE_ON_CRASH"], [4, "KEXEC_FILE_NO_INITRAMFS"], [8, "KEXEC_FILE_DEBUG"],
	[0x10, "KEXEC_FILE_NO_CMA"], [0x20, "KEXEC_FILE_FORCE_DTB"],
];

export const MSYNC_FLAGS: Xlat = [[1, "MS_ASYNC"], [2, "MS_INVALIDATE"], [4, "MS_SYNC"]];

export const F_SEALS: Xlat = [
	[1, "F_SEAL_SEAL"], [2, "F_SEAL_SHRINK"], [4, "F_SEAL_GROW"], [8, "F_SEAL_WRITE"], [0x10, "F_SEAL_FUTURE_WRITE"],
	[0x20, "F_SEAL_EXEC"],
];

export const FALLOC_FLAGS: Xlat = [
	[1, "FALLOC_FL_KEEP_SIZE"], [2, "FALLOC_FL_PUNCH_HOLE"], [4, "FALLOC_FL_NO_HIDE_STALE"], [8, "FALLOC_FL_COLLAPSE_RANGE"],
	[0x10, "FALLOC_FL_ZERO_RANGE"], [0x20, "FALLOC_FL_INSERT_RANGE"], [0x40, "FALLOC_FL_UNSHARE_RANGE"],
	[0x80, "FALLOC_FL_WRITE_ZEROES"],
];

export const WHENCE: Xlat = [[0, "SEEK_SET"], [1, "SEEK_CUR"], [2, "SEEK_END"], [3, "SEEK_DATA"], [4, "SEEK_HOLE"]];

export const REBOOT_MAGIC: Xlat = [
	[0xfee1dead, "LINUX_REBOOT_MAGIC1"], [672274793, "LINUX_REBOOT_MAGIC2"], [85072278, "LINUX_REBOOT_MAGIC2A"],
	[369367448, "LINUX_REBOOT_MAGIC2B"], [537993216, "LINUX_REBOOT_MAGIC2C"],
];

export const REBOOT_CMDS: Xlat = [
	[0x01234567, "LINUX_REBOOT_CMD_RESTART"], [0xcdef0123, "LINUX_REBOOT_CMD_HALT"], [0x89abcdef, "LINUX_REBOOT_CMD_CAD_ON"],
	[0, "LINUX_REBOOT_CMD_CAD_OFF"], [0x4321fedc, "LINUX_REBOOT_CMD_POWER_OFF"], [0xa1b2c3d4, "LINUX_REBOOT_CMD_RESTART2"],
	[0xd000fce2, "LINUX_REBOOT_CMD_SW_SUSPEND"], [0x45584543, "LINUX_REBOOT_CMD_KEXEC"],
];

/** File types for st_mode (print_symbolic_mode_t). */
export const S_IF_NAMES: Xlat = [
	[0o140000, "S_IFSOCK"], [0o120000, "S_IFLNK"], [0o100000, "S_IFREG"], [0o060000, "S_IFBLK"], [0o040000, "S_IFDIR"],
	[0o020000, "S_IFCHR"], [0o010000, "S_IFIFO"],
];
