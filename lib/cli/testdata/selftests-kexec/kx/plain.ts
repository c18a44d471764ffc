/** A one-stage program: prints /proc/cmdline, so the tests see tests.json's `cmdline` reach it. */
import { close, open, printf, read, O_RDONLY } from "../../../../libc/mod.ts";

export function main(): number {
	const fd = open("/proc/cmdline", O_RDONLY);
	const buf = new Uint8Array(1024);
	const n = read(fd, buf, buf.length);
	close(fd);
	printf("cmdline: %s", new TextDecoder().decode(buf.subarray(0, n)));
	return 0;
}
