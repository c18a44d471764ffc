/**
 * printf formatting as glibc 2.36 does it (stdio-common/vfprintf-internal.c,
 * vfprintf-process-arg.c, printf_fp.c, printf_fphex.c), as a pure function
 * from a format and an argument list to text. libc's printf family wires it
 * to file descriptors; this module knows nothing about them.
 *
 * JavaScript values stand in for C's varargs, so a few rules replace
 * "undefined behaviour" (none of them throws):
 * - A missing argument reads as 0, which is also what a NULL pointer is:
 *   `%d` prints `0`, `%s` prints `(null)`, `%p` prints `(nil)`, `%f` prints `0.000000`.
 * - A number is truncated toward zero for integer conversions and then
 *   wrapped to the C type of the length modifier (`int` by default, 64 bits
 *   with l/ll/j/z/t/L/q), signed for d/i and two's complement for u/o/x/X/b;
 *   NaN and ±Infinity read as 0. A bigint is wrapped the same way. A string
 *   or null given to a numeric conversion reads as 0, except that `%c` of a
 *   string prints its first character.
 * - `%s` of a number or bigint prints its decimal text; a string stops at its
 *   first NUL, as a C string would, and its width and precision count UTF-8
 *   bytes (a precision never splits a character: one that would not fit whole
 *   is left out). `%c` of a number yields the character with code `n & 0xff`.
 * - `%n` consumes its argument and stores nothing; `%lc`/`%ls` behave as `%c`/`%s`;
 *   `%L` floats are formatted as doubles (they are doubles here), except that
 *   `%La` prints the x86 80-bit layout (`0x8p-3` for 1.0) as glibc does.
 * - Positional arguments (`%1$d`) are not supported; glibc-style, an
 *   unknown conversion is echoed back (`%5y` prints `%5y`) and consumes nothing.
 * - A format that ends inside a conversion stops the output there with EINVAL
 *   (`vformatResult`), as glibc's printf returns -1.
 */
import { EINVAL, strerror } from "../kernel/errno.ts";
import { formatFloat } from "./format-float.ts";

/** One C vararg: an integer or double (number), a 64-bit integer (bigint), a `char *` (string) or NULL. */
export type FormatArg = number | bigint | string | null;

/** Process context that some conversions read. */
export interface FormatOptions {
	/** `errno` at the time of the call; `%m` prints strerror() of it (0 when absent). */
	errno?: number;
}

/** The text produced and the errno glibc's printf would set with a -1 return (0 on success). */
export interface FormatResult {
	text: string;
	error: number;
}

/** A parsed conversion specification (glibc's `struct printf_info`). */
export interface ConversionSpec {
	alt: boolean;
	group: boolean;
	showsign: boolean;
	space: boolean;
	left: boolean;
	/** `pad == '0'` in glibc: the 0 flag given and not overridden by `-`. */
	zero: boolean;
	i18n: boolean;
	width: number;
	/** -1 when no precision was given (or `*` supplied a negative one). */
	prec: number;
	length: "" | "hh" | "h" | "l" | "ll" | "L" | "j" | "z" | "t";
	conv: string;
}

const LENGTH_BITS: Record<ConversionSpec["length"], number> = {
	"": 32, hh: 8, h: 16, l: 64, ll: 64, L: 64, j: 64, z: 64, t: 64,
};

/** vsnprintf()'s text for `fmt` with `args` (C's `vprintf` family minus the output). */
export function vformat(fmt: string, args: readonly FormatArg[], options?: FormatOptions): string {
	return vformatResult(fmt, args, options).text;
}

/** sprintf() with JavaScript rest arguments: `format("%d-%s", 1, "a")`. */
export function format(fmt: string, ...args: FormatArg[]): string {
	return vformatResult(fmt, args).text;
}

/** Like vformat(), and also reports the EINVAL that glibc returns for a truncated conversion. */
export function vformatResult(fmt: string, args: readonly FormatArg[], options?: FormatOptions): FormatResult {
	let out = "";
	let argi = 0;
	const nextArg = (): FormatArg | undefined => args[argi++];
	const end = fmt.indexOf("\0") < 0 ? fmt.length : fmt.indexOf("\0");
	let i = 0;
	while (i < end) {
		const pct = fmt.indexOf("%", i);
		if (pct < 0 || pct >= end) {
			out += fmt.slice(i, end);
			break;
		}
		out += fmt.slice(i, pct);
		const spec: ConversionSpec = {
			alt: false, group: false, showsign: false, space: false, left: false, zero: false,
			i18n: false, width: 0, prec: -1, length: "", conv: "",
		};
		let j = pct + 1;
		for (; j < end; j++) {
			const c = fmt[j];
			if (c === " ") spec.space = true;
			else if (c === "+") spec.showsign = true;
			else if (c === "-") {
				spec.left = true;
				spec.zero = false;
			} else if (c === "#") spec.alt = true;
			else if (c === "0") spec.zero = !spec.left;
			else if (c === "'") spec.group = true;
			else if (c === "I") spec.i18n = true;
			else break;
		}
		if (fmt[j] === "*") {
			j++;
			const w = Number(BigInt.asIntN(32, toBigInt(nextArg())));
			if (w < 0) {
				spec.left = true;
				spec.zero = false;
			}
			spec.width = Math.abs(w);
		} else {
			const m = /^\d+/.exec(fmt.slice(j, end));
			if (m) {
				spec.width = Number(m[0]);
				j += m[0].length;
			}
		}
		if (fmt[j] === ".") {
			j++;
			if (fmt[j] === "*") {
				j++;
				const p = Number(BigInt.asIntN(32, toBigInt(nextArg())));
				spec.prec = p < 0 ? -1 : p;
			} else {
				const m = /^\d*/.exec(fmt.slice(j, end))![0];
				spec.prec = m === "" ? 0 : Number(m);
				j += m.length;
			}
		}
		j = parseLength(fmt, j, spec);
		if (j >= end) return { text: out, error: EINVAL };
		spec.conv = fmt[j]!;
		out += convert(spec, nextArg, options);
		i = j + 1;
	}
	return { text: out, error: 0 };
}

function parseLength(fmt: string, j: number, spec: ConversionSpec): number {
	const c = fmt[j];
	if (c === "h" || c === "l") {
		if (fmt[j + 1] === c) {
			spec.length = c === "h" ? "hh" : "ll";
			return j + 2;
		}
		spec.length = c;
		return j + 1;
	}
	if (c === "L" || c === "q") spec.length = "L";
	else if (c === "j") spec.length = "j";
	else if (c === "z" || c === "Z") spec.length = "z";
	else if (c === "t") spec.length = "t";
	else return j;
	return j + 1;
}

function convert(spec: ConversionSpec, nextArg: () => FormatArg | undefined, options?: FormatOptions): string {
	switch (spec.conv) {
		case "d":
		case "i":
			return formatInteger(spec, BigInt.asIntN(LENGTH_BITS[spec.length], toBigInt(nextArg())), 10);
		case "u":
		case "o":
		case "x":
		case "X":
		case "b":
		case "B": {
			const base = spec.conv === "u" ? 10 : spec.conv === "o" ? 8 : spec.conv === "b" || spec.conv === "B" ? 2 : 16;
			// ISO C gives + and space to signed conversions only.
			const unsignedSpec = { ...spec, showsign: false, space: false };
			return formatInteger(unsignedSpec, BigInt.asUintN(LENGTH_BITS[spec.length], toBigInt(nextArg())), base);
		}
		case "p": {
			const ptr = BigInt.asUintN(64, toBigInt(nextArg()));
			// glibc prints a non-NULL pointer as %#lx (keeping + and space) and NULL as a string.
			if (ptr !== 0n) return formatInteger({ ...spec, alt: true, conv: "x" }, ptr, 16);
			return pad("(nil)", 5, spec.width, spec.left);
		}
		case "c":
		case "C": {
			const arg = nextArg();
			const ch = typeof arg === "string"
				? (arg.length > 0 ? String.fromCodePoint(arg.codePointAt(0)!) : "\0")
				: String.fromCharCode(Number(BigInt.asUintN(8, toBigInt(arg))));
			return pad(ch, 1, spec.width, spec.left);
		}
		case "s":
		case "S":
			return formatString(spec, nextArg());
		case "m":
			return formatString(spec, strerror(options?.errno ?? 0));
		case "e":
		case "E":
		case "f":
		case "F":
		case "g":
		case "G":
		case "a":
		case "A":
			return formatFloat(spec, toDouble(nextArg()));
		case "%":
			return "%";
		case "n":
			nextArg();
			return "";
		default:
			return unknownSpec(spec);
	}
}

/** The conversion as glibc echoes an unknown one back: flags in its fixed order, width, precision. */
function unknownSpec(spec: ConversionSpec): string {
	let s = "%";
	if (spec.alt) s += "#";
	if (spec.group) s += "'";
	if (spec.showsign) s += "+";
	else if (spec.space) s += " ";
	if (spec.left) s += "-";
	if (spec.zero) s += "0";
	if (spec.i18n) s += "I";
	if (spec.width !== 0) s += String(spec.width);
	if (spec.prec !== -1) s += `.${spec.prec}`;
	return s + spec.conv;
}

/** glibc's `LABEL (number)`: sign, 0x/0b marker, precision zeros, width padding. */
function formatInteger(spec: ConversionSpec, value: bigint, base: number): string {
	const negative = value < 0n;
	const magnitude = negative ? -value : value;
	let prec = spec.prec;
	let zeroPad = spec.zero;
	if (prec < 0) prec = 1;
	else zeroPad = false;
	let digits = "";
	if (prec === 0 && magnitude === 0n) {
		if (base === 8 && spec.alt) digits = "0";
	} else {
		digits = magnitude.toString(base);
		if (spec.conv === "X") digits = digits.toUpperCase();
		if (base === 8 && spec.alt && magnitude !== 0n && prec <= digits.length) digits = `0${digits}`;
	}
	const zeros = Math.max(0, prec - digits.length);
	const sign = negative ? "-" : spec.showsign ? "+" : spec.space ? " " : "";
	const marker = magnitude !== 0n && spec.alt && (base === 16 || base === 2) ? `0${spec.conv}` : "";
	const bodyLen = sign.length + marker.length + zeros + digits.length;
	const fill = Math.max(0, spec.width - bodyLen);
	if (spec.left) return sign + marker + "0".repeat(zeros) + digits + " ".repeat(fill);
	if (zeroPad) return sign + marker + "0".repeat(zeros + fill) + digits;
	return " ".repeat(fill) + sign + marker + "0".repeat(zeros) + digits;
}

function formatString(spec: ConversionSpec, arg: FormatArg | undefined): string {
	if (arg === null || arg === undefined) {
		// glibc prints "(null)" only when the precision leaves room for all of it.
		const text = spec.prec === -1 || spec.prec >= 6 ? "(null)" : "";
		return pad(text, text.length, spec.width, spec.left);
	}
	let s = typeof arg === "string" ? arg : String(arg);
	const nul = s.indexOf("\0");
	if (nul >= 0) s = s.slice(0, nul);
	let bytes = 0;
	let cut = s.length;
	for (let k = 0; k < s.length;) {
		const cp = s.codePointAt(k)!;
		const n = utf8Length(cp);
		if (spec.prec >= 0 && bytes + n > spec.prec) {
			cut = k;
			break;
		}
		bytes += n;
		k += cp > 0xffff ? 2 : 1;
	}
	return pad(s.slice(0, cut), bytes, spec.width, spec.left);
}

/** Pads with spaces (glibc never zero-pads strings, characters or "(nil)"). */
function pad(text: string, length: number, width: number, left: boolean): string {
	const fill = " ".repeat(Math.max(0, width - length));
	return left ? text + fill : fill + text;
}

/** Bytes that the code point takes in UTF-8 (a lone surrogate becomes U+FFFD, 3 bytes). */
export function utf8Length(cp: number): number {
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

function toBigInt(arg: FormatArg | undefined): bigint {
	if (typeof arg === "bigint") return arg;
	if (typeof arg === "number") return Number.isFinite(arg) ? BigInt(Math.trunc(arg)) : 0n;
	return 0n;
}

function toDouble(arg: FormatArg | undefined): number {
	if (typeof arg === "number") return arg;
	if (typeof arg === "bigint") return Number(arg);
	return 0;
}
