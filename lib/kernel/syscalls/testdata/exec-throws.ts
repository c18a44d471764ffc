/** A module that fails while loading (execve: ENOEXEC, the reason in the kernel log). */
export {};
throw new Error("exec-throws: broken at load");
