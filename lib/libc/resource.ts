/**
 * <sys/resource.h>: RLIMIT_*, getrlimit, setrlimit, prlimit (glibc
 * sysdeps/unix/sysv/linux/getrlimit64.c, setrlimit64.c: both are
 * prlimit64(0, ...) system calls). `rlim_t` is a u64, so the fields are
 * bigints and RLIM_INFINITY is 2^64-1.
 */
import { call, rawSyscall, view, type Scratch } from "./sys.ts";

export {
	RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_DATA, RLIMIT_STACK, RLIMIT_CORE, RLIMIT_RSS, RLIMIT_NPROC,
	RLIMIT_NOFILE, RLIMIT_MEMLOCK, RLIMIT_AS, RLIMIT_LOCKS, RLIMIT_SIGPENDING, RLIMIT_MSGQUEUE,
	RLIMIT_NICE, RLIMIT_RTPRIO, RLIMIT_RTTIME, RLIM_NLIMITS, RLIM_INFINITY,
} from "../kernel/process.ts";
/** RLIMIT_NOFILE's old name. */
export const RLIMIT_OFILE = 7;
export const RLIM_SAVED_MAX = 0xffffffffffffffffn;
export const RLIM_SAVED_CUR = 0xffffffffffffffffn;

/** struct rlimit. */
export interface Rlimit {
	rlim_cur: bigint;
	rlim_max: bigint;
}

/** A `struct rlimit *`: an object or a user address (NULL is 0). */
export type RlimitArg = Rlimit | number | null;

function rlimitIn(s: Scratch, r: RlimitArg): number {
	if (r === null) return 0;
	if (typeof r === "number") return r;
	const b = new Uint8Array(16);
	const v = view(b);
	v.setBigUint64(0, BigInt.asUintN(64, r.rlim_cur), true);
	v.setBigUint64(8, BigInt.asUintN(64, r.rlim_max), true);
	return s.bytes(b);
}

/**
 * prlimit(2) (prlimit64): sets `new_limit` if given and returns the old
 * limits in `old_limit` if given, for `pid` (0 = the caller).
 */
export function prlimit(pid: number, resource: number, new_limit: RlimitArg, old_limit: RlimitArg): number {
	return call((s) => {
		const newAddr = rlimitIn(s, new_limit);
		const oldAddr = old_limit === null ? 0 : typeof old_limit === "number" ? old_limit : s.alloc(16);
		const ret = rawSyscall(s.p, "prlimit64", [pid, resource, newAddr, oldAddr]);
		if (ret === 0 && old_limit !== null && typeof old_limit !== "number") {
			const v = view(s.read(oldAddr, 16));
			old_limit.rlim_cur = v.getBigUint64(0, true);
			old_limit.rlim_max = v.getBigUint64(8, true);
		}
		return ret;
	});
}

/** getrlimit(2): EINVAL for an unknown resource. */
export function getrlimit(resource: number, rlim: Rlimit | number): number {
	return prlimit(0, resource, null, rlim);
}

/**
 * setrlimit(2): EINVAL when `rlim_cur > rlim_max` or the resource is
 * unknown; EPERM when raising the hard limit without CAP_SYS_RESOURCE.
 */
export function setrlimit(resource: number, rlim: Rlimit | number): number {
	return prlimit(0, resource, rlim, null);
}
