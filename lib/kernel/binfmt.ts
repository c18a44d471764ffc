/**
 * luosim's executable format: what execve(2) runs (the role of
 * fs/binfmt_elf.c). A program file is a regular file in the VFS whose
 * contents are text:
 *
 *     #!luosim
 *     /abs/path/to/program.ts
 *
 * - line 1 is exactly `#!luosim`;
 * - line 2 is a module specifier: an absolute host path or a `file:` URL
 *   of a TS/JS module that exports `main(argc, argv)`;
 * - lines are separated by `\n`; anything after line 2 is ignored;
 * - the first BINPRM_BUF_SIZE bytes must hold both lines.
 *
 * Anything else is ENOEXEC (no binary handler recognises it). A module that
 * does not exist on the host is ENOENT (as a missing ELF interpreter is); one
 * that fails to load or has no `main` is ENOEXEC, with the reason in the
 * kernel log. Modules are imported once per host process (Node's module
 * cache), so module-level state is shared by every exec of the same program:
 * keep a program's state inside `main`, as C keeps it on the stack.
 */
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Errno, ENOENT, ENOEXEC } from "./errno.ts";
import { O_CREAT, O_TRUNC, O_WRONLY } from "../fs/fcntl.ts";
import type { Kernel, ProgramMain } from "./kernel.ts";

/** The first line of every luosim program file. */
export const LUOSIM_MAGIC = "#!luosim";
/** How much of the file execve reads to recognise it (a page, as luosim's binprm buffer). */
export const BINPRM_BUF_SIZE = 4096;

const encoder = new TextEncoder();

/** The module URL a program file names, or null if `data` is not a luosim program. */
export function parseProgramFile(data: Uint8Array): string | null {
	const text = new TextDecoder("utf-8", { fatal: false }).decode(data.subarray(0, BINPRM_BUF_SIZE));
	const lines = text.split("\n");
	if (lines[0] !== LUOSIM_MAGIC || lines.length < 2) return null;
	const spec = lines[1]!;
	if (lines.length === 2 && data.length >= BINPRM_BUF_SIZE) return null;
	if (spec === "" || spec.trim() !== spec) return null;
	if (spec.startsWith("file:")) {
		try {
			return new URL(spec).href;
		} catch {
			return null;
		}
	}
	return spec.startsWith("/") ? pathToFileURL(spec).href : null;
}

/** The bytes of a program file naming `module` (an absolute path or a file: URL). */
export function programFileBytes(module: string | URL): Uint8Array {
	const spec = typeof module === "string" ? module : module.href;
	return encoder.encode(`${LUOSIM_MAGIC}\n${spec}\n`);
}

/**
 * Creates (or truncates) the program file `path` in `kernel`'s VFS, acting
 * as the kernel, naming `module`; a new file gets `mode` (default 0755).
 */
export function writeProgramFile(kernel: Kernel, path: string, module: string | URL, mode = 0o755): void {
	const f = kernel.vfs.open(null, path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	try {
		kernel.vfs.kernelWrite(f, programFileBytes(module));
	} finally {
		f.put();
	}
}

/**
 * Imports the module at `url` and returns its `main`: ENOENT when the
 * module file does not exist, ENOEXEC when it cannot be loaded or exports
 * no `main` function (the reason is logged with pr_warn).
 */
export async function loadProgramModule(kernel: Kernel, url: string): Promise<ProgramMain> {
	let file: string;
	try {
		file = fileURLToPath(url);
	} catch {
		throw new Errno(ENOEXEC);
	}
	if (!existsSync(file)) throw new Errno(ENOENT);
	let mod: { main?: unknown };
	try {
		mod = (await import(url)) as { main?: unknown };
	} catch (e) {
		kernel.pr_warn(`binfmt_luosim: ${url}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
		throw new Errno(ENOEXEC);
	}
	if (typeof mod.main !== "function") {
		kernel.pr_warn(`binfmt_luosim: ${url}: no main(argc, argv) export`);
		throw new Errno(ENOEXEC);
	}
	return mod.main as ProgramMain;
}
