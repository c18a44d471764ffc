/**
 * Floating-point conversions of printf (`%e %f %g %a` and upper-case forms)
 * as glibc 2.36 prints them (stdio-common/printf_fp.c, printf_fphex.c).
 *
 * glibc prints the exact binary value rounded once, to nearest with ties to
 * even (`%.0f` of 2.5 is `2`, `%.2f` of 0.125 is `0.12`). JavaScript's
 * toFixed/toExponential break ties upward and stop at 1e21, so this module
 * expands the double exactly with BigInt instead: m·2^e = m·5^-e / 10^-e.
 */
import type { ConversionSpec } from "./format.ts";

/** The text of one floating-point conversion of `x` (flags, width and precision applied). */
export function formatFloat(spec: ConversionSpec, x: number): string {
	const conv = spec.conv.toLowerCase();
	const upper = spec.conv !== conv;
	const sign = signBit(x) ? "-" : spec.showsign ? "+" : spec.space ? " " : "";
	let prefix = "";
	let body: string;
	let zeroPad = spec.zero;
	if (!Number.isFinite(x)) {
		body = Number.isNaN(x) ? "nan" : "inf";
		zeroPad = false;
	} else {
		const ax = Math.abs(x);
		const prec = spec.prec;
		if (conv === "f") body = fixedNotation(ax, prec < 0 ? 6 : prec, spec.alt);
		else if (conv === "e") body = exponentNotation(ax, prec < 0 ? 6 : prec, spec.alt);
		else if (conv === "g") body = generalNotation(ax, prec, spec.alt);
		else {
			prefix = "0x";
			body = hexNotation(ax, prec, spec.alt, spec.length === "L");
		}
	}
	if (upper) {
		prefix = prefix.toUpperCase();
		body = body.toUpperCase();
	}
	const fill = Math.max(0, spec.width - sign.length - prefix.length - body.length);
	if (spec.left) return sign + prefix + body + " ".repeat(fill);
	if (zeroPad) return sign + prefix + "0".repeat(fill) + body;
	return " ".repeat(fill) + sign + prefix + body;
}

function signBit(x: number): boolean {
	const view = new DataView(new ArrayBuffer(8));
	view.setFloat64(0, x);
	return view.getUint32(0) >>> 31 === 1;
}

/** A finite non-negative double as m·2^e with an integer m (IEEE 754 binary64 fields). */
function decompose(ax: number): { m: bigint; e: number } {
	const view = new DataView(new ArrayBuffer(8));
	view.setFloat64(0, ax);
	const hi = view.getUint32(0);
	const biased = (hi >>> 20) & 0x7ff;
	const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4));
	if (biased === 0) return { m: fraction, e: -1074 };
	return { m: fraction | (1n << 52n), e: biased - 1075 };
}

/** The exact value of `ax` as digits / 10^scale. */
function exactDecimal(ax: number): { digits: bigint; scale: number } {
	let { m, e } = decompose(ax);
	if (m === 0n) return { digits: 0n, scale: 0 };
	while (e < 0 && (m & 1n) === 0n) {
		m >>= 1n;
		e++;
	}
	if (e >= 0) return { digits: m << BigInt(e), scale: 0 };
	return { digits: m * 5n ** BigInt(-e), scale: -e };
}

/** n / 10^k rounded to nearest, ties to even (k may be negative: a multiplication). */
function roundDecimal(n: bigint, k: number): bigint {
	if (k <= 0) return n * 10n ** BigInt(-k);
	const d = 10n ** BigInt(k);
	const q = n / d;
	const twice = 2n * (n % d);
	return twice > d || (twice === d && (q & 1n) === 1n) ? q + 1n : q;
}

function fixedNotation(ax: number, prec: number, alt: boolean): string {
	const { digits, scale } = exactDecimal(ax);
	const s = roundDecimal(digits, scale - prec).toString().padStart(prec + 1, "0");
	if (prec === 0) return alt ? `${s}.` : s;
	return `${s.slice(0, -prec)}.${s.slice(-prec)}`;
}

/** `prec + 1` significant digits of `ax`, the decimal exponent after rounding, and whether rounding raised it. */
function significantDigits(ax: number, prec: number): { digits: string; exp: number; carried: boolean } {
	if (ax === 0) return { digits: "0".repeat(prec + 1), exp: 0, carried: false };
	const { digits, scale } = exactDecimal(ax);
	const count = digits.toString().length;
	let exp = count - 1 - scale;
	let s = roundDecimal(digits, count - 1 - prec).toString();
	const carried = s.length > prec + 1;
	if (carried) {
		// Rounding carried into a new digit (9.99 -> 10.0): it is a power of ten.
		s = s.slice(0, prec + 1);
		exp++;
	}
	return { digits: s, exp, carried };
}

function exponentSuffix(exp: number): string {
	return `e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
}

function exponentNotation(ax: number, prec: number, alt: boolean): string {
	const { digits, exp } = significantDigits(ax, prec);
	const point = prec > 0 || alt ? `.${digits.slice(1)}` : "";
	return digits[0] + point + exponentSuffix(exp);
}

/**
 * %g: C11 7.21.6.1 — style e when X < -4 or X >= P, trailing zeros removed
 * unless '#'. glibc quirk kept: when rounding pushes a %#g number out of
 * style f (999999.5 -> 1e+06) it still strips the zeros, printing "1.e+06".
 */
function generalNotation(ax: number, prec: number, alt: boolean): string {
	const p = prec < 0 ? 6 : prec === 0 ? 1 : prec;
	const { exp, carried } = significantDigits(ax, p - 1);
	if (p > exp && exp >= -4) {
		const s = fixedNotation(ax, p - 1 - exp, alt);
		return alt ? s : stripZeros(s, false);
	}
	const s = exponentNotation(ax, p - 1, alt);
	const leftStyleF = carried && exp === p;
	if (alt && !leftStyleF) return s;
	const e = s.indexOf("e");
	return stripZeros(s.slice(0, e), alt) + s.slice(e);
}

function stripZeros(s: string, keepPoint: boolean): string {
	if (!s.includes(".")) return s;
	const t = s.replace(/0+$/, "");
	return keepPoint ? t : t.replace(/\.$/, "");
}

/**
 * %a without the "0x": a double prints as 1.hhh (13 fraction digits, 0.hhh
 * for subnormals); `%La` prints the x86 80-bit long double, whose explicit
 * integer bit makes the first digit 8-f with 15 fraction digits.
 */
function hexNotation(ax: number, prec: number, alt: boolean, longDouble: boolean): string {
	const { m, e } = decompose(ax);
	let mant = m;
	let fracDigits = 13;
	let exp = e + 52;
	if (m === 0n) {
		fracDigits = 0;
		exp = 0;
	} else if (longDouble) {
		const shift = 64 - m.toString(2).length;
		mant = m << BigInt(shift);
		fracDigits = 15;
		exp = e - shift + 60;
	}
	if (prec >= 0 && prec < fracDigits) {
		const drop = BigInt(4 * (fracDigits - prec));
		const q = mant >> drop;
		const twice = 2n * (mant & ((1n << drop) - 1n));
		const unit = 1n << drop;
		mant = twice > unit || (twice === unit && (q & 1n) === 1n) ? q + 1n : q;
		fracDigits = prec;
	}
	let lead = mant >> BigInt(4 * fracDigits);
	let frac = mant & ((1n << BigInt(4 * fracDigits)) - 1n);
	if (longDouble && lead >= 16n) {
		// Rounding carried out of the 4-bit first digit: renormalise to 0x1.
		lead = 1n;
		frac = 0n;
		exp += 4;
	}
	let fracText = fracDigits > 0 ? frac.toString(16).padStart(fracDigits, "0") : "";
	if (prec < 0) fracText = fracText.replace(/0+$/, "");
	else fracText = fracText.padEnd(prec, "0");
	const point = fracText !== "" || alt ? `.${fracText}` : "";
	return `${lead.toString(16)}${point}p${exp < 0 ? "-" : "+"}${Math.abs(exp)}`;
}
