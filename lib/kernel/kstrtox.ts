/**
 * String to integer and bool conversion as the kernel's `kstrto*` family
 * does it (lib/kstrtox.c, lib/kstrtox.h): what sysfs stores and debugfs
 * attribute writes use to parse user text. The input is a C string: it
 * ends at the first NUL. Errors are thrown as `Errno` (EINVAL for text that
 * is not a number, ERANGE for one that does not fit).
 */
import { Errno, EINVAL, ERANGE } from "./errno.ts";

const U64_MAX = 0xffffffffffffffffn;

function cstr(s: string): string {
	const nul = s.indexOf("\0");
	return nul >= 0 ? s.slice(0, nul) : s;
}

function digitValue(c: string): number {
	const code = c.charCodeAt(0);
	if (code >= 0x30 && code <= 0x39) return code - 0x30;
	const lower = code | 0x20;
	if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
	return 16;
}

/** _parse_integer_fixup_radix(): base 0 picks 16 for "0x" + a hex digit, 8 for a leading "0", else 10. */
function fixupRadix(s: string, base: number): { s: string; base: number } {
	if (base === 0) {
		if (s[0] === "0") base = s[1]?.toLowerCase() === "x" && s[2] !== undefined && digitValue(s[2]) < 16 ? 16 : 8;
		else base = 10;
	}
	if (base === 16 && s[0] === "0" && s[1]?.toLowerCase() === "x") s = s.slice(2);
	return { s, base };
}

/** _kstrtoull(): digits, then at most one "\n", then the end of the string. */
function parseUnsigned(s: string, base: number): bigint {
	const fixed = fixupRadix(s, base);
	const b = BigInt(fixed.base);
	let i = 0;
	let res = 0n;
	let overflow = false;
	for (; i < fixed.s.length; i++) {
		const d = digitValue(fixed.s[i]!);
		if (d >= fixed.base) break;
		res = res * b + BigInt(d);
		if (res > U64_MAX) overflow = true;
	}
	if (overflow) throw new Errno(ERANGE);
	if (i === 0) throw new Errno(EINVAL);
	let rest = fixed.s.slice(i);
	if (rest[0] === "\n") rest = rest.slice(1);
	if (rest.length > 0) throw new Errno(EINVAL);
	return res;
}

/** kstrtoull(s, base): an optional "+", then an unsigned 64-bit number in `base` (0 = auto). */
export function kstrtoull(s: string, base = 0): bigint {
	s = cstr(s);
	if (s[0] === "+") s = s.slice(1);
	return parseUnsigned(s, base);
}

/** kstrtoll(s, base): a signed 64-bit number; ERANGE outside [-2^63, 2^63-1]. */
export function kstrtoll(s: string, base = 0): bigint {
	s = cstr(s);
	if (s[0] === "-") {
		const v = parseUnsigned(s.slice(1), base);
		if (v > 1n << 63n) throw new Errno(ERANGE);
		return -v;
	}
	const v = kstrtoull(s, base);
	if (v >= 1n << 63n) throw new Errno(ERANGE);
	return v;
}

/** kstrtouint(s, base): an unsigned 32-bit number. */
export function kstrtouint(s: string, base = 0): number {
	const v = kstrtoull(s, base);
	if (v > 0xffffffffn) throw new Errno(ERANGE);
	return Number(v);
}

/** kstrtoint(s, base): a signed 32-bit number. */
export function kstrtoint(s: string, base = 0): number {
	const v = kstrtoll(s, base);
	if (v < -(1n << 31n) || v >= 1n << 31n) throw new Errno(ERANGE);
	return Number(v);
}

/**
 * kstrtobool(s): only the first characters count: y/Y/t/T/1 and "on" are
 * true, n/N/f/F/0 and "off" are false, anything else is EINVAL.
 */
export function kstrtobool(s: string): boolean {
	s = cstr(s);
	switch (s[0]) {
		case "y": case "Y": case "t": case "T": case "1":
			return true;
		case "n": case "N": case "f": case "F": case "0":
			return false;
		case "o": case "O":
			switch (s[1]) {
				case "n": case "N":
					return true;
				case "f": case "F":
					return false;
			}
	}
	throw new Errno(EINVAL);
}
