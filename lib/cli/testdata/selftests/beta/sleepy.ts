import { printf, sleep } from "luosim/libc";

export async function main(): Promise<number> {
	printf("going to sleep\n");
	await sleep(10);
	printf("woke up\n");
	return 0;
}
