/**
 * The assembled syscall table: importing this module registers every
 * syscall luosim has (each subsystem registers its own entries when its
 * module loads). Kernel imports it, so a booted kernel always has them all.
 */
import "./fs/syscalls/index.ts";
import "./fs/poll.ts";
import "./fs/pipe.ts";
import "./kernel/syscalls/process.ts";
import "./kernel/syscalls/execve.ts";
import "./kernel/syscalls/memory.ts";
import "./kernel/syscalls/time.ts";
import "./kernel/syscalls/rlimit.ts";
import "./kexec/kexec_file.ts";
import "./kexec/reboot.ts";
