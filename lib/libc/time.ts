/**
 * <time.h>: clocks and sleeping (glibc sysdeps/unix/sysv/linux/clock_gettime.c,
 * clock_nanosleep.c, nanosleep.c). Time is the kernel's virtual clock: a
 * sleep returns after exactly the requested virtual time, at once in real
 * time when nothing else can run.
 */
import { callAsync, call, rawSyscall, rawSyscallAsync, hasSyscall, view, type Scratch } from "./sys.ts";
import { CLOCK_REALTIME } from "../kernel/syscalls/time.ts";

/* The clock ids and TIMER_ABSTIME are the kernel's (lib/kernel/syscalls/time.ts), glibc's values too. */
export {
	CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW,
	CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME, CLOCK_TAI, TIMER_ABSTIME,
} from "../kernel/syscalls/time.ts";
/** The alarm clocks (CLOCK_*_ALARM): luosim's kernel has no RTC and refuses them with EINVAL. */
export const CLOCK_REALTIME_ALARM = 8;
export const CLOCK_BOOTTIME_ALARM = 9;

/** struct timespec (16 bytes: two longs). */
export interface Timespec {
	tv_sec: number;
	tv_nsec: number;
}

/** sizeof(struct timespec). */
export const SIZEOF_TIMESPEC = 16;

/** The bytes of a struct timespec. */
export function timespecBytes(ts: Timespec): Uint8Array {
	const b = new Uint8Array(SIZEOF_TIMESPEC);
	const v = view(b);
	v.setBigInt64(0, BigInt(Math.trunc(ts.tv_sec)), true);
	v.setBigInt64(8, BigInt(Math.trunc(ts.tv_nsec)), true);
	return b;
}

/** A struct timespec read from its bytes. */
export function timespecFrom(b: Uint8Array): Timespec {
	const v = view(b);
	return { tv_sec: Number(v.getBigInt64(0, true)), tv_nsec: Number(v.getBigInt64(8, true)) };
}

/** A `struct timespec *` argument: the object's bytes in scratch memory, or a user address (NULL is 0). */
export function timespecArg(s: Scratch, ts: Timespec | number | null): number {
	if (ts === null) return 0;
	return typeof ts === "number" ? ts : s.bytes(timespecBytes(ts));
}

/** Copies a struct timespec the kernel wrote at `addr` into `ts` (when it is an object). */
function timespecBack(s: Scratch, ts: Timespec | number | null, addr: number): void {
	if (ts === null || typeof ts === "number") return;
	Object.assign(ts, timespecFrom(s.read(addr, SIZEOF_TIMESPEC)));
}

/** clock_gettime(2): the time of `clockid` into `tp`; EINVAL for an unknown clock. */
export function clock_gettime(clockid: number, tp: Timespec | number): number {
	return call((s) => {
		const addr = typeof tp === "number" ? tp : s.alloc(SIZEOF_TIMESPEC);
		const ret = rawSyscall(s.p, "clock_gettime", [clockid, addr]);
		if (ret === 0) timespecBack(s, tp, addr);
		return ret;
	});
}

/** clock_getres(2). */
export function clock_getres(clockid: number, res: Timespec | number | null): number {
	return call((s) => {
		const addr = res === null ? 0 : typeof res === "number" ? res : s.alloc(SIZEOF_TIMESPEC);
		const ret = rawSyscall(s.p, "clock_getres", [clockid, addr]);
		if (ret === 0) timespecBack(s, res, addr);
		return ret;
	});
}

/** The raw sleep: clock_nanosleep(2) as glibc 2.36 calls it, or nanosleep(2) on a kernel without it. */
async function rawSleep(s: Scratch, clockid: number, flags: number, req: Timespec | number, rem: Timespec | number | null): Promise<number> {
	const reqAddr = timespecArg(s, req);
	const remAddr = rem === null ? 0 : typeof rem === "number" ? rem : s.alloc(SIZEOF_TIMESPEC);
	const ret = hasSyscall("clock_nanosleep") || clockid !== CLOCK_REALTIME || flags !== 0
		? await rawSyscallAsync(s.p, "clock_nanosleep", [clockid, flags, reqAddr, remAddr])
		: await rawSyscallAsync(s.p, "nanosleep", [reqAddr, remAddr]);
	if (ret < 0 && remAddr !== 0) timespecBack(s, rem, remAddr);
	return ret;
}

/**
 * nanosleep(2): sleeps for `req` on the virtual clock. EINVAL when
 * `tv_nsec` is outside 0..999999999 or `tv_sec` is negative; `rem` gets the
 * time left if the sleep is interrupted.
 */
export function nanosleep(req: Timespec | number, rem: Timespec | number | null = null): Promise<number> {
	return callAsync((s) => rawSleep(s, CLOCK_REALTIME, 0, req, rem));
}

/**
 * clock_nanosleep(2). As in C it returns 0 or a positive error number and
 * leaves errno alone.
 */
export async function clock_nanosleep(clockid: number, flags: number, req: Timespec | number, rem: Timespec | number | null = null): Promise<number> {
	let err = 0;
	await callAsync(async (s) => {
		const ret = await rawSleep(s, clockid, flags, req, rem);
		err = ret < 0 ? -ret : 0;
		return 0;
	});
	return err;
}
