/**
 * One hop of a test_kho kexec chain through files, run in a Node process
 * of its own by test_kho.test.ts: `hop.ts IN [OUT]` boots the kernel in the
 * kexec dump IN, prints `pid <host pid>` and its test_kho dmesg lines, and,
 * given OUT, finalizes KHO as init.c does and kexecs into the file OUT.
 */
import { bootFromDump, kexecViaFile } from "../../kexec/kexec_dump.ts";
import { loadBootImage, runOutcome } from "../../kexec/testing.ts";
import { writeText } from "../../kho/testing.ts";
import { testKhoLines } from "../testing.ts";

const [input, output] = process.argv.slice(2);
if (input === undefined) throw new Error("usage: hop.ts IN [OUT]");
const { kernel } = bootFromDump(input);
if (!kernel) throw new Error("the kernel in the dump did not boot");
process.stdout.write(`pid ${process.pid}\n`);
for (const line of testKhoLines(kernel)) process.stdout.write(`${line}\n`);
if (output !== undefined) {
	writeText(kernel, "/sys/kernel/debug/kho/out/finalize", "1");
	await runOutcome(kernel, (u) => void loadBootImage(u, kernel.cmdline.text));
	kexecViaFile(kernel, output);
}
