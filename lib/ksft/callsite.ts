/**
 * What the C preprocessor hands the kselftest harness for free
 * (tools/testing/selftests/kselftest_harness.h): `__FILE__`, `__LINE__` and
 * `#x`, the source text of a macro argument, which the harness prints as
 * `demo.c:31:expect_fails:Expected ret (-2) == -EBUSY (-16)`.
 *
 * In TypeScript the position comes from a V8 stack frame, translated through
 * the source map that tsx registers (tsx compiles a module onto very few
 * lines, so raw positions are useless), and the argument text from a small
 * scanner over the caller's source file.
 */
import { readFileSync } from "node:fs";
import { findSourceMap } from "node:module";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** A source position, 1-based like `__LINE__` and compiler diagnostics. */
export interface SourceSite {
	/** The file's basename, printed where C prints `__FILE__` ("demo.ts"). */
	file: string;
	/** The full path, for macroArgs(); "" when the frame has no file. */
	path: string;
	line: number;
	column: number;
}

/**
 * The source position of a call on the current stack. depth 0 is the line
 * that calls callerSite() itself; depth 1 is where the function containing
 * that line was called from (what an ASSERT_EQ implementation wants), and so on.
 */
export function callerSite(depth = 0): SourceSite {
	const frame = captureCallSites(depth + 1)[depth];
	const generated = frame?.getFileName() ?? null;
	if (!frame || generated === null) return { file: "<unknown>", path: "", line: 0, column: 0 };
	let path = toPath(generated);
	let line = frame.getLineNumber() ?? 0;
	let column = frame.getColumnNumber() ?? 0;
	const original = mapToSource(generated, line, column);
	if (original) {
		path = original.path;
		line = original.line;
		column = original.column;
	}
	return { file: basename(path), path, line, column };
}

function captureCallSites(count: number): NodeJS.CallSite[] {
	const prepare = Error.prepareStackTrace;
	const limit = Error.stackTraceLimit;
	Error.prepareStackTrace = (_err, sites): NodeJS.CallSite[] => sites;
	Error.stackTraceLimit = count;
	try {
		const holder: { stack?: unknown } = {};
		Error.captureStackTrace(holder, callerSite);
		return (holder.stack as NodeJS.CallSite[] | undefined) ?? [];
	} finally {
		Error.prepareStackTrace = prepare;
		Error.stackTraceLimit = limit;
	}
}

function toPath(fileOrUrl: string): string {
	return fileOrUrl.startsWith("file://") ? fileURLToPath(fileOrUrl) : fileOrUrl;
}

/** The original position of generated (line, column), both 1-based, if a source map covers it. */
function mapToSource(generated: string, line: number, column: number): { path: string; line: number; column: number } | null {
	let map;
	try {
		map = findSourceMap(generated);
	} catch {
		return null;
	}
	// Node 20 returns {} for a position without a mapping, later versions undefined.
	const entry = map?.findEntry(line - 1, column - 1) as Partial<{ originalSource: string; originalLine: number; originalColumn: number }> | undefined;
	if (entry?.originalSource === undefined || entry.originalLine === undefined || entry.originalColumn === undefined) return null;
	const src = entry.originalSource;
	const path = src.startsWith("file://") ? fileURLToPath(src) : isAbsolute(src) ? src : resolve(dirname(toPath(generated)), src);
	return { path, line: entry.originalLine + 1, column: entry.originalColumn + 1 };
}

const sources = new Map<string, string | null>();
const argsCache = new Map<string, readonly string[]>();

function readSource(path: string): string | null {
	if (!sources.has(path)) {
		try {
			sources.set(path, readFileSync(path, "utf8"));
		} catch {
			sources.set(path, null);
		}
	}
	return sources.get(path)!;
}

/**
 * The argument texts of the call at (line, column) of `file` (a path or a
 * file: URL), as `#x` stringifies them: trimmed, comments dropped, runs of
 * whitespace outside literals collapsed to one space. The column may point
 * at the callee (what V8 reports) or at the '('. With `macroName`, the call
 * of that name nearest to the position is taken. A trailing comma adds no
 * argument. Returns [] when the file or the call cannot be found.
 */
export function macroArgs(file: string, line: number, column: number, macroName?: string): string[] {
	const path = toPath(file);
	const key = `${path}\0${line}\0${column}\0${macroName ?? ""}`;
	let args = argsCache.get(key);
	if (args === undefined) {
		const src = readSource(path);
		const offset = src === null ? -1 : lineOffset(src, line, column);
		const open = offset < 0 ? -1 : macroName ? findNamedCall(src!, offset, macroName) : findCall(src!, offset);
		args = open < 0 ? [] : scanArguments(src!, open) ?? [];
		argsCache.set(key, args);
	}
	return [...args];
}

function lineOffset(src: string, line: number, column: number): number {
	let off = 0;
	for (let l = 1; l < line; l++) {
		off = src.indexOf("\n", off) + 1;
		if (off === 0) return -1;
	}
	const end = src.indexOf("\n", off);
	return column - 1 <= (end < 0 ? src.length : end) - off ? off + column - 1 : -1;
}

const IDENT = /[\p{ID_Continue}$\u200c\u200d]/u;

/** The '(' of the call whose callee expression starts at `offset` (or the '(' itself). */
function findCall(src: string, offset: number): number {
	let i = offset;
	while (i < src.length && (IDENT.test(src[i]!) || src[i] === "." || src[i] === "!" || src.startsWith("?.", i) || /\s/.test(src[i]!))) {
		i += src.startsWith("?.", i) ? 2 : 1;
	}
	return afterCallee(src, i);
}

/** Skips type arguments and `?.` between a callee and its '('; -1 if no '(' follows. */
function afterCallee(src: string, i: number): number {
	i = skipSpace(src, i);
	if (src[i] === "<") {
		let depth = 0;
		for (; i < src.length; i++) {
			if (src[i] === "<") depth++;
			else if (src[i] === ">" && src[i - 1] !== "=" && --depth === 0) break;
		}
		i = skipSpace(src, i + 1);
	}
	if (src.startsWith("?.", i)) i = skipSpace(src, i + 2);
	return src[i] === "(" ? i : -1;
}

function skipSpace(src: string, i: number): number {
	for (;;) {
		if (/\s/.test(src[i] ?? "")) i++;
		else if (src.startsWith("//", i) || src.startsWith("/*", i)) i = commentEnd(src, i);
		else return i;
	}
}

/** The index after the // or /* comment starting at `i`. */
function commentEnd(src: string, i: number): number {
	const block = src[i + 1] === "*";
	const end = src.indexOf(block ? "*/" : "\n", i + 2);
	if (end < 0) return src.length;
	return block ? end + 2 : end;
}

/** The '(' of the `name(...)` call nearest to `offset`: one whose name..'(' span holds it, else the closest. */
function findNamedCall(src: string, offset: number, name: string): number {
	let best = -1;
	let bestDistance = Infinity;
	for (let at = src.indexOf(name); at >= 0; at = src.indexOf(name, at + 1)) {
		if ((at > 0 && IDENT.test(src[at - 1]!)) || IDENT.test(src[at + name.length] ?? "")) continue;
		const open = afterCallee(src, at + name.length);
		if (open < 0) continue;
		const distance = offset >= at && offset <= open ? 0 : Math.min(Math.abs(offset - at), Math.abs(offset - open));
		if (distance < bestDistance) {
			best = open;
			bestDistance = distance;
		}
	}
	return best;
}

/** Splits the arguments of the call whose '(' is at `open`; null if the call never closes. */
function scanArguments(src: string, open: number): string[] | null {
	const args: string[] = [];
	let cur = "";
	let depth = 0;
	let prev = "(";
	const space = (): void => {
		if (cur !== "" && !cur.endsWith(" ")) cur += " ";
	};
	for (let i = open + 1; i < src.length;) {
		const c = src[i]!;
		if (c === "/" && (src[i + 1] === "/" || src[i + 1] === "*")) {
			i = commentEnd(src, i);
			space();
			continue;
		}
		// A '/' after an operand divides; anywhere else it opens a regular expression.
		if (c === '"' || c === "'" || c === "`" || (c === "/" && !/[\p{ID_Continue}$)\]]/u.test(prev))) {
			const end = c === "/" ? skipRegex(src, i) : skipString(src, i);
			cur += src.slice(i, end);
			prev = src[end - 1]!;
			i = end;
			continue;
		}
		i++;
		if (/\s/.test(c)) {
			space();
			continue;
		}
		if (depth === 0 && (c === "," || c === ")")) {
			args.push(cur.trim());
			if (c === ")") {
				// `f(a, b,)`: the trailing comma adds nothing; `f()` has no arguments.
				if (args.at(-1) === "" && (args.length > 1 || prev === "(")) args.pop();
				return args;
			}
			cur = "";
			prev = c;
			continue;
		}
		if (c === "(" || c === "[" || c === "{") depth++;
		else if (c === ")" || c === "]" || c === "}") depth--;
		cur += c;
		prev = c;
	}
	return null;
}

/** The index after the string or template literal starting at `i` (templates may nest code with `${}`). */
function skipString(src: string, i: number): number {
	const quote = src[i]!;
	for (let j = i + 1; j < src.length; j++) {
		const c = src[j];
		if (c === "\\") j++;
		else if (c === quote) return j + 1;
		else if (quote !== "`" && c === "\n") return j;
		else if (quote === "`" && c === "$" && src[j + 1] === "{") j = skipCode(src, j + 2) - 1;
	}
	return src.length;
}

/** The index after the '}' that closes a `${` substitution starting at `i`. */
function skipCode(src: string, i: number): number {
	let depth = 0;
	while (i < src.length) {
		const c = src[i]!;
		if (c === '"' || c === "'" || c === "`") i = skipString(src, i);
		else if (c === "{") (depth++, i++);
		else if (c === "}") {
			if (depth-- === 0) return i + 1;
			i++;
		} else i++;
	}
	return src.length;
}

/** The index after the regular expression literal (and flags) starting at `i`. */
function skipRegex(src: string, i: number): number {
	let inClass = false;
	for (let j = i + 1; j < src.length; j++) {
		const c = src[j];
		if (c === "\\") j++;
		else if (c === "\n") return i + 1;
		else if (c === "[") inClass = true;
		else if (c === "]") inClass = false;
		else if (c === "/" && !inClass) {
			let k = j + 1;
			while (k < src.length && /[a-z]/.test(src[k]!)) k++;
			return k;
		}
	}
	return i + 1;
}
