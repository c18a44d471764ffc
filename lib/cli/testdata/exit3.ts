// A program for the CLI tests: prints its argv and uid, exits 3.
import { printf, getuid } from "luosim/libc";

export function main(argc: number, argv: string[]): number {
	printf("argc=%d argv1=%s uid=%d\n", argc, argv[1] ?? "(none)", getuid());
	return 3;
}
