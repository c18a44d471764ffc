/**
 * A luosim program for the execve tests: records what it finds about its
 * process and exits with the number in argv[1] (0 if none).
 */
import { current } from "../../current.ts";

/** What one run of the probe saw. */
export interface ProbeRecord {
	argc: number;
	argv: string[];
	pid: number;
	comm: string;
	errno: number;
	fds: number[];
	vmas: number;
	uid: number;
	euid: number;
	suid: number;
	capEffective: bigint;
}

/** One record per run, in order (the module is shared with the test that imports it). */
export const runs: ProbeRecord[] = [];

export function main(argc: number, argv: string[]): number {
	const p = current();
	runs.push({
		argc,
		argv,
		pid: p.pid,
		comm: p.comm,
		errno: p.errno,
		fds: p.files.fds(),
		vmas: p.mm.vmas().length,
		uid: p.cred.uid,
		euid: p.cred.euid,
		suid: p.cred.suid,
		capEffective: p.cred.capEffective,
	});
	return Number(argv[1] ?? 0);
}
