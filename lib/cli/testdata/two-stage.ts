/**
 * A two-stage program for the `luosim run --kexec` tests. Stage 1 (no
 * `-s`, or `-s 1`) forks a child that keeps fd 3 (a file in /run) open
 * and sleeps for good, then exits with `--exit1 N` (0). Stage 2 (`-s 2`)
 * prints its argv, its pid, /proc/cmdline, whether the stage-1 file is
 * still there (it is not: tmpfs dies with its kernel) and the host
 * process's pid, and exits with `--exit2 N` (0). `--panic` makes stage 2
 * panic the kernel instead.
 */
import { close, fork, getpid, open, printf, read, sleep, O_CREAT, O_RDONLY, O_WRONLY } from "../../libc/mod.ts";
import { current } from "../../kernel/current.ts";

function opt(argv: string[], name: string): number {
	const i = argv.indexOf(name);
	return i >= 0 ? Number(argv[i + 1]) : 0;
}

export async function main(_argc: number, argv: string[]): Promise<number> {
	const s = argv.indexOf("-s");
	const stage = s >= 0 ? argv[s + 1] : "1";
	if (stage !== "2") {
		const fd = open("/run/stage1", O_WRONLY | O_CREAT, 0o644);
		fork(async () => {
			for (;;) await sleep(60);
		});
		close(fd);
		printf("stage 1 done\n");
		return opt(argv, "--exit1");
	}
	printf("stage 2 argv: %s\n", argv.slice(1).join(" "));
	printf("stage 2 pid: %d\n", getpid());
	const fd = open("/proc/cmdline", O_RDONLY);
	const buf = new Uint8Array(512);
	const n = read(fd, buf, buf.length);
	printf("stage 2 cmdline: %s", new TextDecoder().decode(buf.subarray(0, n)));
	printf("stage 2 /run/stage1: %s\n", open("/run/stage1", O_RDONLY) < 0 ? "gone" : "there");
	printf("stage 2 host pid: %d\n", process.pid);
	if (argv.includes("--panic")) current().kernel.panic("stage 2 asked for it");
	return opt(argv, "--exit2");
}
