/**
 * `luosim/libc`: the C library a luosim program imports, one module per C
 * header. Functions have their C names and C argument order; each returns
 * -1 (or NULL / MAP_FAILED) and sets `errno` on failure, changing nothing
 * else. Calls that can block return Promises (poll, ppoll, sleep, usleep,
 * nanosleep, clock_nanosleep, wait, waitpid, execve). docs/programs.md
 * lists where the TS spelling differs from C.
 */
export * from "./errno.ts";
export type { Buf } from "./sys.ts";
export * from "./fcntl.ts";
export * from "./unistd.ts";
export * from "./unistd-proc.ts";
export * from "./unistd-getopt.ts";
export * from "./stdio.ts";
export * from "./stdlib.ts";
export * from "./string.ts";
export * from "./ioctl.ts";
export * from "./poll.ts";
export * from "./wait.ts";
export * from "./signal.ts";
export * from "./mman.ts";
export * from "./memfd.ts";
export * from "./time.ts";
export * from "./resource.ts";
export * from "./dirent.ts";
export * from "./stat.ts";
export * from "./mount.ts";
export * from "./reboot.ts";
