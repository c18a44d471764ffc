/**
 * Time syscalls (kernel/time/posix-timers.c, posix-stubs.c, hrtimer.c,
 * time.c) on the virtual clock (lib/kernel/clock.ts).
 *
 * CLOCK_MONOTONIC, MONOTONIC_RAW and BOOTTIME are the virtual clock (ns
 * since boot; nothing suspends). CLOCK_REALTIME and TAI are the boot epoch
 * (BOOT_EPOCH_NS, 2025-05-15T00:00:00Z; the TAI offset is 0 as on an
 * unsynchronised Linux) plus monotonic time. The COARSE clocks are the last
 * tick of HZ=250 (4 ms). The CPU-time clocks read 0: time only passes here
 * while every process sleeps, so no process ever uses CPU time. The alarm
 * clocks are EINVAL (no RTC), as are other ids; per-process CPU clocks
 * (clock_getcpuclockid) are not modelled (EINVAL).
 *
 * A sleep is a timer on the virtual clock: it returns after exactly the
 * time asked for. Nothing but a fatal signal (which ends the process) can
 * interrupt it, so EINTR never happens and `rem` is never written.
 */
import { Errno, EINVAL, EOPNOTSUPP } from "../errno.ts";
import { NSEC_PER_SEC } from "../clock.ts";
import { registerSyscall } from "../syscallTable.ts";
import type { Kernel } from "../kernel.ts";
import type { Process } from "../process.ts";

export const CLOCK_REALTIME = 0;
export const CLOCK_MONOTONIC = 1;
export const CLOCK_PROCESS_CPUTIME_ID = 2;
export const CLOCK_THREAD_CPUTIME_ID = 3;
export const CLOCK_MONOTONIC_RAW = 4;
export const CLOCK_REALTIME_COARSE = 5;
export const CLOCK_MONOTONIC_COARSE = 6;
export const CLOCK_BOOTTIME = 7;
export const CLOCK_TAI = 11;
/** clock_nanosleep flag: `req` is an absolute time on the clock. */
export const TIMER_ABSTIME = 1;
/** TICK_NSEC with HZ=250: the resolution of the COARSE clocks. */
export const TICK_NSEC = 4_000_000;
/** KTIME_MAX: sleeps longer than this are cut to it (ktime_set saturates). */
const KTIME_MAX = 2n ** 63n - 1n;
const NS = BigInt(NSEC_PER_SEC);

/** The value of `clockid` in ns (bigint: REALTIME does not fit a double exactly); EINVAL for an unknown clock. */
export function clockNowNs(k: Kernel, clockid: number): bigint {
	const mono = BigInt(k.clock.nowNs());
	switch (clockid) {
		case CLOCK_MONOTONIC:
		case CLOCK_MONOTONIC_RAW:
		case CLOCK_BOOTTIME:
			return mono;
		case CLOCK_REALTIME:
		case CLOCK_TAI:
			return BigInt(k.clock.realtimeBaseNs) + mono;
		case CLOCK_REALTIME_COARSE:
			return BigInt(k.clock.realtimeBaseNs) + mono - (mono % BigInt(TICK_NSEC));
		case CLOCK_MONOTONIC_COARSE:
			return mono - (mono % BigInt(TICK_NSEC));
		case CLOCK_PROCESS_CPUTIME_ID:
		case CLOCK_THREAD_CPUTIME_ID:
			return 0n;
		default:
			throw new Errno(EINVAL);
	}
}

function putTimespec(p: Process, addr: number, ns: bigint): void {
	const b = new Uint8Array(16);
	const v = new DataView(b.buffer);
	v.setBigInt64(0, ns / NS, true);
	v.setBigInt64(8, ns % NS, true);
	p.mm.copyToUser(addr, b);
}

/** get_timespec64() + timespec64_valid(): EFAULT, then EINVAL for tv_sec < 0 or tv_nsec outside 0..999999999. */
function getTimespec(p: Process, addr: number): bigint {
	const b = p.mm.copyFromUser(addr, 16);
	const v = new DataView(b.buffer, b.byteOffset, 16);
	const sec = v.getBigInt64(0, true);
	const nsec = v.getBigInt64(8, true);
	if (sec < 0n || nsec < 0n || nsec >= NS) throw new Errno(EINVAL);
	const ns = sec * NS + nsec;
	return ns > KTIME_MAX ? KTIME_MAX : ns;
}

/** clock_gettime(2). */
function sysClockGettime(p: Process, args: number[]): number {
	const ns = clockNowNs(p.kernel, (args[0] ?? 0) | 0);
	putTimespec(p, args[1] ?? 0, ns);
	return 0;
}

/** clock_getres(2): 1 ns (hrtimers), 4 ms for the COARSE clocks; `res` may be NULL. */
function sysClockGetres(p: Process, args: number[]): number {
	const clockid = (args[0] ?? 0) | 0;
	clockNowNs(p.kernel, clockid);
	const res = clockid === CLOCK_REALTIME_COARSE || clockid === CLOCK_MONOTONIC_COARSE ? BigInt(TICK_NSEC) : 1n;
	if ((args[1] ?? 0) !== 0) putTimespec(p, args[1]!, res);
	return 0;
}

/** gettimeofday(2): CLOCK_REALTIME in µs; the timezone (if asked for) is UTC, no DST. */
function sysGettimeofday(p: Process, args: number[]): number {
	const [tv = 0, tz = 0] = args;
	if (tv !== 0) {
		const ns = clockNowNs(p.kernel, CLOCK_REALTIME);
		const b = new Uint8Array(16);
		const v = new DataView(b.buffer);
		v.setBigInt64(0, ns / NS, true);
		v.setBigInt64(8, (ns % NS) / 1000n, true);
		p.mm.copyToUser(tv, b);
	}
	if (tz !== 0) p.mm.copyToUser(tz, new Uint8Array(8));
	return 0;
}

/** time(2): seconds of CLOCK_REALTIME, also stored at `tloc` unless NULL (EFAULT). */
function sysTime(p: Process, args: number[]): number {
	const sec = clockNowNs(p.kernel, CLOCK_REALTIME) / NS;
	if ((args[0] ?? 0) !== 0) p.mm.putUser(args[0]!, 8, sec);
	return Number(sec);
}

/** Sleeps `ns` of virtual time (a timer; no wait queue can end it early). */
async function sleepNs(p: Process, ns: bigint): Promise<void> {
	if (ns <= 0n) return;
	await p.kernel.sched.waitEvent(p, [], () => false, Number(ns));
}

/** nanosleep(2): EFAULT, EINVAL for a bad timespec; sleeps on CLOCK_MONOTONIC. */
async function sysNanosleep(p: Process, args: number[]): Promise<number> {
	await sleepNs(p, getTimespec(p, args[0] ?? 0));
	return 0;
}

/**
 * clock_nanosleep(2): REALTIME, MONOTONIC, BOOTTIME and TAI; TIMER_ABSTIME
 * sleeps until the clock reaches `req` (at once if it has). The clocks
 * without nsleep (MONOTONIC_RAW, the COARSE ones, the thread CPU clock) are
 * EOPNOTSUPP as in Linux (glibc turns the thread clock into EINVAL before
 * the call); the process CPU clock is EOPNOTSUPP here because luosim's CPU
 * time never advances. The clock is checked before `req` is read (EFAULT,
 * then EINVAL).
 */
async function sysClockNanosleep(p: Process, args: number[]): Promise<number> {
	const clockid = (args[0] ?? 0) | 0;
	const flags = args[1] ?? 0;
	switch (clockid) {
		case CLOCK_REALTIME:
		case CLOCK_MONOTONIC:
		case CLOCK_BOOTTIME:
		case CLOCK_TAI:
			break;
		case CLOCK_MONOTONIC_RAW:
		case CLOCK_REALTIME_COARSE:
		case CLOCK_MONOTONIC_COARSE:
		case CLOCK_PROCESS_CPUTIME_ID:
		case CLOCK_THREAD_CPUTIME_ID:
			throw new Errno(EOPNOTSUPP);
		default:
			throw new Errno(EINVAL);
	}
	const req = getTimespec(p, args[2] ?? 0);
	await sleepNs(p, flags & TIMER_ABSTIME ? req - clockNowNs(p.kernel, clockid) : req);
	return 0;
}

registerSyscall({
	nr: 228, name: "clock_gettime", args: ["clockid", "timespec_out"], status: "supported",
	note: "Virtual clock; REALTIME starts at 2025-05-15T00:00:00Z; CPU-time clocks read 0; alarm and per-process CPU clocks: EINVAL.",
	impl: sysClockGettime,
});
registerSyscall({ nr: 229, name: "clock_getres", args: ["clockid", "timespec_out"], status: "supported", note: "1 ns; COARSE clocks 4 ms (HZ=250).", impl: sysClockGetres });
registerSyscall({ nr: 96, name: "gettimeofday", args: ["timeval_out", "timezone_out"], status: "supported", note: "The timezone is UTC.", impl: sysGettimeofday });
registerSyscall({ nr: 201, name: "time", args: ["time_out"], status: "supported", note: "Seconds of CLOCK_REALTIME (the virtual clock from 2025-05-15T00:00:00Z); a NULL pointer is allowed.", impl: sysTime });
registerSyscall({
	nr: 35, name: "nanosleep", args: ["timespec_in", "timespec_rem"], status: "supported",
	note: "Exact virtual-time sleep; never EINTR (no signal handlers), so `rem` is never written.",
	implAsync: sysNanosleep,
});
registerSyscall({
	nr: 230, name: "clock_nanosleep", args: ["clockid", "timer_flags", "timespec_in", "timespec_rem"], status: "partial",
	note: "REALTIME/MONOTONIC/BOOTTIME/TAI, relative or TIMER_ABSTIME; CPU-clock sleeps are not modelled (EOPNOTSUPP); never EINTR.",
	implAsync: sysClockNanosleep,
});
