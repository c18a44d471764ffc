/**
 * <unistd.h> getopt and <getopt.h> getopt_long/getopt_long_only with C's
 * globals: `optind`, `optarg`, `opterr` and `optopt` are live bindings of
 * the calling process's values (each process has its own parser state, a
 * GetoptState from getopt.ts; the bindings switch with the process, like
 * errno). Assign them with `set_optind(0)` (restart a scan) and
 * `set_opterr(0)` (no diagnostics), since imports cannot be assigned.
 * Diagnostics go to stderr, one write(2) each, as glibc's fprintf does.
 *
 * `argc` must be `argv.length`; `argv` is permuted in place, as in C. A
 * fork child starts with a fresh parser state (optind 1), not a copy.
 */
import { GetoptState, getopt as getoptR, getopt_long as getoptLongR, getopt_long_only as getoptLongOnlyR, type option, type LongIndex } from "./getopt.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { Process } from "../kernel/process.ts";
import { self } from "./sys.ts";
import { fputs, stderr } from "./stdio.ts";

export { no_argument, required_argument, optional_argument, type option, type LongIndex } from "./getopt.ts";

/** Index of the next argv element to scan. */
export let optind = 1;
/** The argument of the option just returned, or null. */
export let optarg: string | null = null;
/** Nonzero: print diagnostics. */
export let opterr = 1;
/** The option character that caused the last error. */
export let optopt = 0x3f;

const states = new WeakMap<Process, GetoptState>();
const hooked = new WeakSet<Kernel>();

function show(d: GetoptState | undefined): void {
	optind = d?.optind ?? 1;
	optarg = d?.optarg ?? null;
	opterr = d?.opterr ?? 1;
	optopt = d?.optopt ?? 0x3f;
}

function stateOf(p: Process): GetoptState {
	if (!hooked.has(p.kernel)) {
		hooked.add(p.kernel);
		p.kernel.sched.onSwitch((next) => show(states.get(next)));
	}
	let d = states.get(p);
	if (!d) {
		d = new GetoptState({ stderr: (msg) => void fputs(msg, stderr), getenv: () => null });
		states.set(p, d);
	}
	return d;
}

function run(fn: (d: GetoptState) => number): number {
	const d = stateOf(self());
	const r = fn(d);
	show(d);
	return r;
}

/** `optind = v`. */
export function set_optind(v: number): void {
	stateOf(self()).optind = v;
	optind = v;
}

/** `opterr = v`. */
export function set_opterr(v: number): void {
	stateOf(self()).opterr = v;
	opterr = v;
}

/** getopt(3). */
export function getopt(argc: number, argv: string[], optstring: string): number {
	return run((d) => getoptR(d, argv, optstring));
}

/** getopt_long(3). */
export function getopt_long(argc: number, argv: string[], optstring: string, longopts: readonly option[], longindex: LongIndex): number {
	return run((d) => getoptLongR(d, argv, optstring, longopts, longindex));
}

/** getopt_long_only(3). */
export function getopt_long_only(argc: number, argv: string[], optstring: string, longopts: readonly option[], longindex: LongIndex): number {
	return run((d) => getoptLongOnlyR(d, argv, optstring, longopts, longindex));
}
