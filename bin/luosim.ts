/** Entry point of the `luosim` command (see lib/cli/main.ts). */
import { createInterface } from "node:readline";
import { cliMain } from "../lib/cli/main.ts";

const chunks: Buffer[] = [];
if (!process.stdin.isTTY && process.argv[2] === "run") {
	for await (const c of process.stdin) chunks.push(c as Buffer);
}
const code = await cliMain(process.argv.slice(2), {
	stdout: (t) => void process.stdout.write(t),
	stderr: (t) => void process.stderr.write(t),
	stdin: chunks.length ? new Uint8Array(Buffer.concat(chunks)) : undefined,
	lines: process.argv[2] === "sh" ? createInterface({ input: process.stdin, terminal: false }) : undefined,
	interactive: process.argv[2] === "sh" && process.stdin.isTTY === true,
});
process.exitCode = code;
