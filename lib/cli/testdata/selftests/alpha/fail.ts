import { fprintf, stderr } from "luosim/libc";

export function main(): number {
	fprintf(stderr, "broken\n");
	return 2;
}
