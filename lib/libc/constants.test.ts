import t from "tap";
import * as libc from "./mod.ts";
import { ccSkipReason, compileC } from "./cc-oracle.ts";

/** Exported constants that are luosim's own, not C macros. */
const NOT_IN_C = new Set(["SIZEOF_STAT", "SIZEOF_POLLFD", "SIZEOF_TIMESPEC", "NULL"]);
/**
 * Not in the headers a C program of the host sees: newer than its kernel
 * headers (Debian 12: linux 6.1), or only in <linux/fcntl.h>.
 */
const NOT_IN_HOST_HEADERS = new Set(["MFD_NOEXEC_SEAL", "MFD_EXEC", "F_SEAL_EXEC", "KEXEC_FILE_DEBUG", "F_LINUX_SPECIFIC_BASE"]);

const names = Object.entries(libc)
	.filter(([n, v]) => /^_?_?[A-Z][A-Z0-9_]*$/.test(n) && (typeof v === "number" || typeof v === "bigint"))
	.map(([n]) => n)
	.filter((n) => !NOT_IN_C.has(n));

t.test("every exported constant has the value of the glibc 2.36 / Linux header macro", { skip: ccSkipReason() }, async (t) => {
	const headers = [
		"errno.h", "fcntl.h", "unistd.h", "stdio.h", "stdlib.h", "poll.h", "sys/mman.h", "sys/wait.h", "sys/stat.h",
		"sys/resource.h", "sys/mount.h", "sys/reboot.h", "linux/reboot.h", "linux/kexec.h", "time.h", "dirent.h",
		"signal.h", "limits.h", "getopt.h", "sys/syscall.h",
	];
	const body = names.map((n) => `#ifdef ${n}\n\tprintf("%s %llu\\n", "${n}", (unsigned long long)(${n}));\n#else\n\tprintf("%s undefined\\n", "${n}");\n#endif`).join("\n");
	const src = `#define _GNU_SOURCE\n${headers.map((h) => `#include <${h}>`).join("\n")}\nint main(void)\n{\n${body}\n\treturn 0;\n}\n`;
	const prog = compileC(src);
	try {
		const out = prog.run([]).stdout.toString("utf8");
		const got = new Map(out.trim().split("\n").map((l) => l.split(" ") as [string, string]));
		t.ok(names.length > 300, `${names.length} constants checked`);
		for (const n of names) {
			const c = got.get(n);
			if (c === "undefined") {
				t.ok(NOT_IN_HOST_HEADERS.has(n), `${n} is defined by the C headers`);
				continue;
			}
			const v = (libc as Record<string, unknown>)[n] as number | bigint;
			t.equal(BigInt.asUintN(64, BigInt(v)).toString(), c, n);
		}
	} finally {
		prog.dispose();
	}
});
