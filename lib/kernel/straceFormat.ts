/**
 * How strace prints each kind of syscall argument (strace src/*.c decoders,
 * default options: `-s 32`, abbreviated structs). One formatter per
 * `SyscallArgKind`; a formatter reads user memory of the traced process
 * and prints the address instead when it cannot.
 */
import { Errno, errnoName, strerror, EINTR } from "./errno.ts";
import { signalName } from "./signal.ts";
import {
	AT_FLAGS, CLOCK_NAMES, F_SEALS, FALLOC_FLAGS, FCNTL_CMDS, FD_FLAGS, IOCTL_DIRS, KEXEC_FILE_FLAGS, MEMFD_FLAGS, MMAP_PROT,
	MOUNT_FLAGS, MSYNC_FLAGS, POLL_FLAGS, REBOOT_CMDS, REBOOT_MAGIC, RLIMIT_NAMES, S_IF_NAMES, TIMER_FLAGS, WAIT4_OPTIONS,
	WHENCE, flags, hex, mmapFlags, openModes, xlookup, xval,
} from "./straceXlat.ts";
import type { Process } from "./process.ts";
import type { SyscallArgKind, SyscallDef } from "./syscallTable.ts";

/** strace's default `-s`: strings are cut after this many bytes. */
export const MAX_STRLEN = 32;
const PATH_MAX = 4096;

/** What a formatter sees: the call, which argument, and the return value (undefined on entry). */
export interface ArgContext {
	readonly p: Process;
	readonly def: SyscallDef;
	readonly args: readonly number[];
	readonly i: number;
	readonly ret: number | undefined;
}

/** Prints one argument, or null to leave it out (open's mode without O_CREAT, fcntl's unused arg). */
export type ArgFormatter = (v: number, c: ArgContext) => string | null;

/** Arguments the kernel writes: strace prints them (and everything after them) when the call returns. */
export const EXIT_KINDS: ReadonlySet<SyscallArgKind> = new Set<SyscallArgKind>([
	"buf_out", "wstatus", "rlimit_out", "timespec_out", "timespec_rem", "stat_out", "fd_pair", "dirents", "timeval_out",
	"timezone_out", "time_out", "utsname_out", "rusage_out",
]);

const ioctlNames = new Map<number, string>([
	[0x5401, "TCGETS"], [0x5402, "TCSETS"], [0x5413, "TIOCGWINSZ"], [0x541b, "FIONREAD"], [0x5421, "FIONBIO"],
	[0x5450, "FIONCLEX"], [0x5451, "FIOCLEX"],
]);

/** Gives an ioctl command a name in strace output (what strace's ioctlent tables do); later names win. */
export function registerIoctlName(cmd: number, name: string): void {
	ioctlNames.set(cmd >>> 0, name);
}

/** An ioctl command as strace prints it: its name, or `_IOC(dir, type, nr, size)`. */
export function ioctlCmd(cmd: number): string {
	cmd = cmd >>> 0;
	const name = ioctlNames.get(cmd);
	if (name !== undefined) return name;
	return `_IOC(${flags(IOCTL_DIRS, cmd >>> 30, "_IOC_NONE")}, ${hex((cmd >>> 8) & 0xff)}, ${hex(cmd & 0xff)}, ${hex((cmd >>> 16) & 0x3fff)})`;
}

/** printaddr(): NULL or the hex address. */
export function addr(v: number): string {
	return v === 0 ? "NULL" : hex(v);
}

function read(p: Process, a: number, len: number): Uint8Array | null {
	try {
		return p.mm.copyFromUser(a, len);
	} catch (e) {
		if (e instanceof Errno) return null;
		throw e;
	}
}

/** umovestr(): up to `max` bytes of a C string; null on a fault before its end or the limit. */
function readCString(p: Process, a: number, max: number): { bytes: Uint8Array; terminated: boolean } | null {
	const out: number[] = [];
	while (out.length < max) {
		const n = Math.min(max - out.length, 4096 - ((a + out.length) % 4096));
		const chunk = read(p, a + out.length, n);
		if (!chunk) return null;
		const nul = chunk.indexOf(0);
		if (nul >= 0) {
			out.push(...chunk.subarray(0, nul));
			return { bytes: Uint8Array.from(out), terminated: true };
		}
		out.push(...chunk);
	}
	return { bytes: Uint8Array.from(out), terminated: false };
}

/** string_quote(): C escapes, octal for the rest (3 digits when an octal digit follows). */
export function quote(b: Uint8Array): string {
	let s = '"';
	for (let i = 0; i < b.length; i++) {
		const c = b[i]!;
		if (c === 0x22 || c === 0x5c) s += `\\${String.fromCharCode(c)}`;
		else if (c === 0x0c) s += "\\f";
		else if (c === 0x0a) s += "\\n";
		else if (c === 0x0d) s += "\\r";
		else if (c === 0x09) s += "\\t";
		else if (c === 0x0b) s += "\\v";
		else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
		else {
			const next = b[i + 1];
			const full = next !== undefined && next >= 0x30 && next <= 0x37;
			s += `\\${full ? c.toString(8).padStart(3, "0") : c.toString(8)}`;
		}
	}
	return `${s}"`;
}

/** printstr(): a C string cut at MAX_STRLEN bytes with `...`. */
export function cstr(p: Process, a: number): string {
	if (a === 0) return "NULL";
	const r = readCString(p, a, MAX_STRLEN + 1);
	if (!r) return hex(a);
	if (r.terminated) return quote(r.bytes);
	return `${quote(r.bytes.subarray(0, MAX_STRLEN))}${r.bytes.length > MAX_STRLEN ? "..." : ""}`;
}

/** printstrn(): `len` bytes at `a`, the first MAX_STRLEN of them, `...` if there were more. */
export function strn(p: Process, a: number, len: number): string {
	if (a === 0) return "NULL";
	const b = read(p, a, Math.min(len, MAX_STRLEN));
	if (!b) return hex(a);
	return `${quote(b)}${len > MAX_STRLEN ? "..." : ""}`;
}

function path(p: Process, a: number): string {
	if (a === 0) return "NULL";
	const r = readCString(p, a, PATH_MAX);
	if (!r) return hex(a);
	return `${quote(r.bytes)}${r.terminated ? "" : "..."}`;
}

function view(b: Uint8Array): DataView {
	return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A struct read at `a` and printed by `fn`, NULL, or the address if unreadable. */
function struct(p: Process, a: number, size: number, fn: (v: DataView, b: Uint8Array) => string): string {
	if (a === 0) return "NULL";
	const b = read(p, a, size);
	return b ? fn(view(b), b) : hex(a);
}

function s64(v: DataView, off: number): string {
	return v.getBigInt64(off, true).toString();
}

/** print_rlim64_t(). */
function rlim(v: bigint): string {
	if (v === 0xffffffffffffffffn) return "RLIM64_INFINITY";
	return v > 1024n && v % 1024n === 0n ? `${v / 1024n}*1024` : `${v}`;
}

/** print_symbolic_mode_t(): `S_IFREG|0644`. */
function symbolicMode(mode: number): string {
	const parts: string[] = [];
	const type = xlookup(S_IF_NAMES, mode & 0o170000);
	if (type) parts.push(type);
	if (mode & 0o4000) parts.push("S_ISUID");
	if (mode & 0o2000) parts.push("S_ISGID");
	if (mode & 0o1000) parts.push("S_ISVTX");
	parts.push(octal(mode & 0o777));
	return parts.join("|");
}

/** `%#03o`. */
function octal(v: number): string {
	return (v === 0 ? "0" : `0${v.toString(8)}`).padStart(3, "0");
}

function timespec(v: DataView): string {
	return `{tv_sec=${s64(v, 0)}, tv_nsec=${s64(v, 8)}}`;
}

function timeval(v: DataView): string {
	return `{tv_sec=${s64(v, 0)}, tv_usec=${s64(v, 8)}}`;
}

/** A `char *const []`: at most MAX_STRLEN strings, then `...`. */
function argv(p: Process, a: number): string {
	if (a === 0) return "NULL";
	const items: string[] = [];
	for (let n = 0; ; n++) {
		const w = read(p, a + n * 8, 8);
		if (!w) {
			if (n === 0) return hex(a);
			items.push(`... /* ${hex(a + n * 8)} */`);
			break;
		}
		const ptr = Number(view(w).getBigUint64(0, true));
		if (ptr === 0) break;
		if (n + 1 > MAX_STRLEN) {
			items.push("...");
			break;
		}
		items.push(cstr(p, ptr));
	}
	return `[${items.join(", ")}]`;
}

/** printargc(): `0x... /* N vars *\/`. */
function envp(p: Process, a: number): string {
	if (a === 0) return "NULL";
	let n = 0;
	for (;; n++) {
		const w = read(p, a + n * 8, 8);
		if (!w) {
			if (n === 0) return hex(a);
			break;
		}
		if (view(w).getBigUint64(0, true) === 0n) break;
	}
	return `${hex(a)} /* ${n} var${n === 1 ? "" : "s"} */`;
}

/** A signal set as `[CHLD USR1]`, or `~[...]` when more than half the signals are in it. */
function sigset(v: bigint): string {
	const inSet: number[] = [];
	const outSet: number[] = [];
	for (let sig = 1; sig <= 64; sig++) ((v >> BigInt(sig - 1)) & 1n ? inSet : outSet).push(sig);
	const names = (list: number[]): string => list.map((s) => signalName(s).replace(/^SIG/, "")).join(" ");
	return inSet.length > 32 ? `~[${names(outSet)}]` : `[${names(inSet)}]`;
}

/** print_wait_status(). */
export function waitStatus(s: number): string {
	if ((s & 0xff) === 0x7f) return `[{WIFSTOPPED(s) && WSTOPSIG(s) == ${signalName((s >> 8) & 0x7f)}}]`;
	if ((s & 0x7f) !== 0 && s !== 0xffff) return `[{WIFSIGNALED(s) && WTERMSIG(s) == ${signalName(s & 0x7f)}${s & 0x80 ? " && WCOREDUMP(s)" : ""}}]`;
	if ((s & 0x7f) === 0) return `[{WIFEXITED(s) && WEXITSTATUS(s) == ${(s >> 8) & 0xff}}]`;
	return "[{WIFCONTINUED(s)}]";
}

function failed(c: ArgContext): boolean {
	return c.ret !== undefined && c.ret < 0;
}

/** The value of the argument after this one (the length of a buffer, the count of an array). */
function nextArg(c: ArgContext): number {
	return c.args[c.i + 1] ?? 0;
}

function argIndex(c: ArgContext, kind: SyscallArgKind): number {
	return c.def.args.indexOf(kind);
}

/** Whether open's mode argument is printed: only with O_CREAT or O_TMPFILE, as strace does. */
function openHasMode(c: ArgContext): boolean {
	const fi = argIndex(c, "open_flags");
	return fi < 0 || ((c.args[fi] ?? 0) & (0o100 | 0o20000000)) !== 0;
}

function fcntlArg(v: number, c: ArgContext): string | null {
	const cmd = c.args[argIndex(c, "fcntl_cmd")] ?? -1;
	switch (cmd) {
		case 1: case 3: case 9: case 11: case 1025: case 1032: case 1034:
			return null;
		case 2:
			return flags(FD_FLAGS, v);
		case 4:
			return openModes(v);
		case 1033:
			return flags(F_SEALS, v);
		case 10:
			return signalName(v);
		case 0: case 1030: case 1031: case 8:
			return String(v | 0);
		default:
			return hex(v);
	}
}

function pollfds(p: Process, a: number, nfds: number): string {
	if (a === 0) return "NULL";
	const items: string[] = [];
	for (let i = 0; i < nfds; i++) {
		if (i >= MAX_STRLEN) {
			items.push("...");
			break;
		}
		const b = read(p, a + i * 8, 8);
		if (!b) {
			if (i === 0) return hex(a);
			items.push(`... /* ${hex(a + i * 8)} */`);
			break;
		}
		const v = view(b);
		const fd = v.getInt32(0, true);
		items.push(fd < 0 ? `{fd=${fd}}` : `{fd=${fd}, events=${flags(POLL_FLAGS, v.getUint16(4, true))}}`);
	}
	return `[${items.join(", ")}]`;
}

const FORMATTERS: Record<SyscallArgKind, ArgFormatter> = {
	int: (v) => String(Number.isSafeInteger(v) && Math.abs(v) < 2 ** 32 ? v | 0 : v),
	uint: (v) => String(v >>> 0),
	hex: (v) => hex(v),
	fd: (v) => String(v | 0),
	dirfd: (v) => ((v | 0) === -100 ? "AT_FDCWD" : String(v | 0)),
	ptr: (v) => addr(v),
	path: (v, c) => path(c.p, v),
	str: (v, c) => cstr(c.p, v),
	size: (v) => String(v < 0 ? BigInt.asUintN(64, BigInt(v)) : v),
	off: (v) => String(v),
	buf_in: (v, c) => strn(c.p, v, nextArg(c)),
	buf_out: (v, c) => (failed(c) ? hex(v) : strn(c.p, v, c.ret ?? 0)),
	open_flags: (v) => openModes(v),
	mode: (v, c) => (openHasMode(c) ? octal(v) : null),
	whence: (v) => xval(WHENCE, v, "SEEK_???"),
	ioctl_cmd: (v) => ioctlCmd(v),
	ioctl_arg: (v) => hex(v),
	pollfds: (v, c) => pollfds(c.p, v, nextArg(c) >>> 0),
	signal: (v) => (v > 0 && v <= 64 ? signalName(v) : String(v | 0)),
	wstatus: (v, c) => (c.ret === 0 || failed(c) ? addr(v) : struct(c.p, v, 4, (d) => waitStatus(d.getInt32(0, true)))),
	wait_options: (v) => flags(WAIT4_OPTIONS, v),
	prot: (v) => flags(MMAP_PROT, v, "PROT_NONE"),
	mmap_flags: (v) => mmapFlags(v),
	fcntl_cmd: (v) => xval(FCNTL_CMDS, v, "F_???"),
	fcntl_arg: fcntlArg,
	rlimit_res: (v) => xval(RLIMIT_NAMES, v, "RLIMIT_???"),
	rlimit_in: (v, c) => struct(c.p, v, 16, (d) => `{rlim_cur=${rlim(d.getBigUint64(0, true))}, rlim_max=${rlim(d.getBigUint64(8, true))}}`),
	rlimit_out: (v, c) => (failed(c) ? hex(v) : FORMATTERS.rlimit_in(v, c)),
	clockid: (v) => ((v | 0) < 0 ? String(v | 0) : xval(CLOCK_NAMES, v, "CLOCK_???")),
	timer_flags: (v) => flags(TIMER_FLAGS, v),
	timespec_in: (v, c) => struct(c.p, v, 16, timespec),
	timespec_out: (v, c) => (failed(c) ? hex(v) : struct(c.p, v, 16, timespec)),
	timespec_rem: (v, c) => (c.ret === -EINTR ? struct(c.p, v, 16, timespec) : addr(v)),
	timeval_out: (v, c) => (failed(c) ? hex(v) : struct(c.p, v, 16, timeval)),
	timezone_out: (v, c) => (failed(c) ? hex(v) : struct(c.p, v, 8, (d) => `{tz_minuteswest=${d.getInt32(0, true)}, tz_dsttime=${d.getInt32(4, true)}}`)),
	time_out: (v, c) => (failed(c) ? hex(v) : struct(c.p, v, 8, (d) => `[${s64(d, 0)}]`)),
	stat_out: (v, c) => (failed(c) ? hex(v) : struct(c.p, v, 144, (d) => {
		const mode = d.getUint32(24, true);
		const t = mode & 0o170000;
		const rdev = d.getBigUint64(40, true);
		const tail = t === 0o020000 || t === 0o060000
			? `st_rdev=makedev(${hex(Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)))}, ${hex(Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)))})`
			: `st_size=${s64(d, 48)}`;
		return `{st_mode=${symbolicMode(mode)}, ${tail}, ...}`;
	})),
	fd_pair: (v, c) => (failed(c) ? hex(v) : struct(c.p, v, 8, (d) => `[${d.getInt32(0, true)}, ${d.getInt32(4, true)}]`)),
	argv: (v, c) => argv(c.p, v),
	envp: (v, c) => envp(c.p, v),
	mount_flags: (v) => ((v >>> 16) === 0xc0ed ? `MS_MGC_VAL${(v & 0xffff) !== 0 ? `|${flags(MOUNT_FLAGS, v & 0xffff)}` : ""}` : flags(MOUNT_FLAGS, v)),
	at_flags: (v) => flags(AT_FLAGS, v),
	reboot_magic: (v) => xval(REBOOT_MAGIC, v >>> 0, "LINUX_REBOOT_MAGIC_???"),
	reboot_cmd: (v) => xval(REBOOT_CMDS, v >>> 0, "LINUX_REBOOT_CMD_???"),
	memfd_flags: (v) => flags(MEMFD_FLAGS, v),
	kexec_flags: (v) => flags(KEXEC_FILE_FLAGS, v),
	sigset: (v, c) => struct(c.p, v, 8, (d) => sigset(d.getBigUint64(0, true))),
	dirents: (v, c) => {
		if (failed(c)) return hex(v);
		const len = c.ret ?? 0;
		const b = read(c.p, v, len);
		if (!b) return hex(v);
		let n = 0;
		for (let off = 0; off + 19 <= len; n++) {
			const reclen = view(b).getUint16(off + 16, true);
			if (reclen === 0) break;
			off += reclen;
		}
		return `${hex(v)} /* ${n} entries */`;
	},
	msync_flags: (v) => flags(MSYNC_FLAGS, v),
	seal_flags: (v) => flags(F_SEALS, v),
	falloc_mode: (v) => flags(FALLOC_FLAGS, v),
	uid: (v) => ((v >>> 0) === 0xffffffff ? "-1" : String(v >>> 0)),
	utsname_out: (v, c) => (failed(c) ? hex(v) : struct(c.p, v, 390, (_d, b) => {
		const field = (i: number): string => {
			const f = b.subarray(i * 65, i * 65 + 65);
			const nul = f.indexOf(0);
			return quote(f.subarray(0, nul < 0 ? 65 : nul));
		};
		return `{sysname=${field(0)}, nodename=${field(1)}, ...}`;
	})),
	rusage_out: (v, c) => (failed(c) || (c.def.name === "wait4" && c.ret === 0) ? addr(v) : struct(c.p, v, 144, (d) => `{ru_utime=${timeval(new DataView(d.buffer, d.byteOffset, 16))}, ru_stime=${timeval(new DataView(d.buffer, d.byteOffset + 16, 16))}, ...}`)),
};

/** Formats argument `i` of a call. */
export function formatArg(kind: SyscallArgKind, c: ArgContext): string | null {
	return FORMATTERS[kind](c.args[c.i] ?? 0, c);
}

/** The return value as strace prints it after `= `, with the errno name and text, and what some calls add. */
export function formatReturn(p: Process, def: SyscallDef, args: readonly number[], ret: number): string {
	if (ret < 0 && ret >= -4095) return `-1 ${errnoName(-ret)} (${strerror(-ret)})`;
	const pi = def.args.indexOf("pollfds");
	if (pi >= 0) return pollReturn(p, def, args, pi, ret);
	const ci = def.args.indexOf("fcntl_cmd");
	if (ci >= 0) {
		switch (args[ci]) {
			case 1:
				return ret === 0 ? "0" : `${hex(ret)} (flags ${flags(FD_FLAGS, ret)})`;
			case 3:
				return `${hex(ret)} (flags ${openModes(ret)})`;
			case 1034:
				return ret === 0 ? "0" : `${hex(ret)} (seals ${flags(F_SEALS, ret)})`;
		}
	}
	return def.ret === "hex" || def.ret === "ptr" ? hex(ret) : String(ret);
}

/** poll/ppoll: `N ([{fd=3, revents=POLLIN}])` (and the time left for ppoll), or `0 (Timeout)`. */
function pollReturn(p: Process, def: SyscallDef, args: readonly number[], pi: number, ret: number): string {
	if (ret === 0) return "0 (Timeout)";
	const a = args[pi] ?? 0;
	const nfds = (args[pi + 1] ?? 0) >>> 0;
	const items: string[] = [];
	for (let i = 0; i < nfds && a !== 0; i++) {
		const b = read(p, a + i * 8, 8);
		if (!b) {
			items.push(hex(a + i * 8));
			break;
		}
		const v = view(b);
		const revents = v.getUint16(6, true);
		if (revents === 0) continue;
		if (items.length >= MAX_STRLEN) {
			items.push("...");
			break;
		}
		items.push(`{fd=${v.getInt32(0, true)}, revents=${flags(POLL_FLAGS, revents)}}`);
	}
	let aux = items.length > 0 ? `[${items.join(", ")}]` : "";
	const ti = def.args.indexOf("timespec_in");
	if (ti >= 0 && (args[ti] ?? 0) !== 0) {
		const left = struct(p, args[ti]!, 16, timespec);
		aux += aux ? `, left ${left}` : `left ${left}`;
	}
	return aux ? `${ret} (${aux})` : String(ret);
}
