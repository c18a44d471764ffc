/**
 * Resource limits (kernel/sys.c: prlimit64, getrlimit, setrlimit,
 * do_prlimit, check_prlimit_permission). struct rlimit and struct
 * rlimit64 are both two u64 on x86_64 (RLIM_INFINITY = 2^64-1). luosim
 * enforces RLIMIT_NOFILE (fd numbers) and RLIMIT_NPROC (fork); the others
 * are stored and reported only.
 */
import { Errno, EINVAL, EPERM, ESRCH } from "../errno.ts";
import { CAP_SYS_RESOURCE } from "../cred.ts";
import { NR_OPEN, RLIMIT_NOFILE, RLIM_NLIMITS, type Process, type Rlimit } from "../process.ts";
import { registerSyscall } from "../syscallTable.ts";

/** sizeof(struct rlimit64). */
export const SIZEOF_RLIMIT = 16;

function readRlimit(p: Process, addr: number): Rlimit {
	const b = p.mm.copyFromUser(addr, SIZEOF_RLIMIT);
	const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
	return { cur: v.getBigUint64(0, true), max: v.getBigUint64(8, true) };
}

function writeRlimit(p: Process, addr: number, r: Rlimit): void {
	const b = new Uint8Array(SIZEOF_RLIMIT);
	const v = new DataView(b.buffer);
	v.setBigUint64(0, r.cur, true);
	v.setBigUint64(8, r.max, true);
	p.mm.copyToUser(addr, b);
}

/**
 * do_prlimit(): EINVAL for an unknown resource or cur > max; EPERM for
 * RLIMIT_NOFILE above fs.nr_open or a raised hard limit without
 * CAP_SYS_RESOURCE (of the caller). Returns the old limit; sets the new one.
 */
export function doPrlimit(p: Process, t: Process, resource: number, next: Rlimit | null): Rlimit {
	if (!Number.isInteger(resource) || resource < 0 || resource >= RLIM_NLIMITS) throw new Errno(EINVAL);
	const cur = t.rlimits[resource]!;
	if (next) {
		if (next.cur > next.max) throw new Errno(EINVAL);
		if (resource === RLIMIT_NOFILE && next.max > BigInt(NR_OPEN)) throw new Errno(EPERM);
		if (next.max > cur.max && !p.cred.capable(CAP_SYS_RESOURCE)) throw new Errno(EPERM);
	}
	const old = { ...cur };
	if (next) t.rlimits[resource] = { cur: next.cur, max: next.max };
	return old;
}

/** check_prlimit_permission(): another process only with all its uids and gids equal to the caller's real ones, or CAP_SYS_RESOURCE. */
function checkPrlimitPermission(p: Process, t: Process): void {
	if (t === p) return;
	const c = p.cred;
	const tc = t.cred;
	const same = c.uid === tc.uid && c.uid === tc.euid && c.uid === tc.suid && c.gid === tc.gid && c.gid === tc.egid && c.gid === tc.sgid;
	if (!same && !c.capable(CAP_SYS_RESOURCE)) throw new Errno(EPERM);
}

/**
 * prlimit64(2): reads the new limit (EFAULT), finds the process (ESRCH),
 * checks permission (EPERM), applies do_prlimit, then writes the old limit
 * (EFAULT then, with the new limit already in force, as in Linux).
 */
function sysPrlimit64(p: Process, args: number[]): number {
	const [pid = 0, resource = 0, newAddr = 0, oldAddr = 0] = args;
	const next = newAddr !== 0 ? readRlimit(p, newAddr) : null;
	const t = pid === 0 ? p : p.kernel.processes.get(pid | 0);
	if (!t) throw new Errno(ESRCH);
	checkPrlimitPermission(p, t);
	const old = doPrlimit(p, t, resource >>> 0, next);
	if (oldAddr !== 0) writeRlimit(p, oldAddr, old);
	return 0;
}

registerSyscall({
	nr: 302, name: "prlimit64", args: ["int", "rlimit_res", "rlimit_in", "rlimit_out"], status: "supported",
	note: "RLIMIT_NOFILE and RLIMIT_NPROC are enforced; the other limits are kept and reported only.",
	impl: sysPrlimit64,
});
registerSyscall({
	nr: 97, name: "getrlimit", args: ["rlimit_res", "rlimit_out"], status: "supported", note: "Through prlimit64 on the caller; EINVAL for a bad resource, EFAULT for a bad pointer.",
	impl: (p, a) => {
		const old = doPrlimit(p, p, (a[0] ?? 0) >>> 0, null);
		writeRlimit(p, a[1] ?? 0, old);
		return 0;
	},
});
registerSyscall({
	nr: 160, name: "setrlimit", args: ["rlimit_res", "rlimit_in"], status: "supported", note: "As prlimit64 on the caller.",
	impl: (p, a) => {
		const next = readRlimit(p, a[1] ?? 0);
		doPrlimit(p, p, (a[0] ?? 0) >>> 0, next);
		return 0;
	},
});
