/** A luosim program that sleeps `argv[1]` seconds of virtual time, then exits 0. */
import { current } from "../../current.ts";

export async function main(_argc: number, argv: string[]): Promise<number> {
	const p = current();
	await p.kernel.sched.waitEvent(p, [], () => false, Number(argv[1] ?? 1) * 1e9);
	return 0;
}
