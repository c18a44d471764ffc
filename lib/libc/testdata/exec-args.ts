/**
 * A luosim program for libc's execve test: prints its arguments, one
 * printf each, says whether fd 3 survived the exec (it was opened
 * O_CLOEXEC) and exits with argc.
 */
import { printf, fcntl, errno, strerrorname_np, F_GETFD } from "../mod.ts";

export function main(argc: number, argv: string[]): number {
	for (let i = 0; i < argc; i++) printf("argv[%d] = %s\n", i, argv[i]!);
	const r = fcntl(3, F_GETFD);
	printf("fcntl(3, F_GETFD) = %d%s\n", r, r < 0 ? ` ${strerrorname_np(errno)}` : "");
	return argc;
}
