import t from "tap";
import { EINVAL } from "../kernel/errno.ts";
import { ccSkipReason, compileC, cString } from "./cc-oracle.ts";
import { format, vformat, vformatResult, type FormatArg } from "./format.ts";

type Fixed = readonly [expected: string, fmt: string, ...args: FormatArg[]];
type Case = readonly [fmt: string, ...args: FormatArg[]];

const NEG_NAN = (() => {
	const v = new DataView(new ArrayBuffer(8));
	v.setFloat64(0, NaN);
	v.setUint32(0, v.getUint32(0) | 0x80000000);
	return v.getFloat64(0);
})();

/** Expectations written by hand; the oracle test also checks each one against glibc. */
const FIXED: Record<string, readonly Fixed[]> = {
	"signed decimal honours flags, width and precision": [
		["42", "%d", 42], ["-42", "%i", -42], ["   42", "%5d", 42], ["42   |", "%-5d|", 42],
		["00042", "%05d", 42], ["-0042", "%05d", -42], ["+42", "%+d", 42], [" 42", "% d", 42],
		["+42", "% +d", 42], ["  042", "%5.3d", 42], ["042  ", "%-5.3d", 42], ["   042", "%06.3d", 42],
		["", "%.0d", 0], ["+", "%+.0d", 0], ["     ", "%5.0d", 0], ["+3   ", "%-+5d", 3], ["3    ", "%-05d", 3],
		["-2147483648", "%d", -2147483648], ["-2147483648", "%d", 2147483648],
		["9223372036854775807", "%lld", 9223372036854775807n], ["-9223372036854775808", "%ld", 9223372036854775808n],
	],
	"length modifiers truncate to the C type": [
		["44", "%hhd", 300], ["-56", "%hhd", 200], ["4464", "%hd", 70000], ["-1", "%hd", 65535],
		["255", "%hhu", -1], ["65535", "%hu", -1], ["177777", "%ho", -1], ["5", "%d", 4294967301],
		["4294967301", "%ld", 4294967301], ["4294967301", "%zd", 4294967301], ["4294967301", "%jd", 4294967301],
		["4294967301", "%td", 4294967301], ["4294967301", "%lld", 4294967301], ["4294967301", "%Ld", 4294967301],
		["4294967301", "%qd", 4294967301], ["1", "%u", 4294967297n], ["-1", "%d", 0xffffffffn],
	],
	"unsigned conversions print two's complement and ignore + and space": [
		["4294967295", "%u", -1], ["ffffffff", "%x", -1], ["FFFFFFFF", "%X", -1], ["37777777777", "%o", -1],
		["18446744073709551615", "%lu", -1], ["ffffffffffffffff", "%llx", -1n], ["ffffffffffffffff", "%jx", -1],
		["ffffffffffffffff", "%zx", -1], ["ffffffffffffffff", "%Lx", -1], ["5", "%+u", 5], ["5", "% u", 5],
		["0x2a", "%#x", 42], ["0X2A", "%#X", 42], ["0", "%#x", 0], ["052", "%#o", 42], ["0", "%#o", 0],
		["0", "%#.0o", 0], ["", "%#.0x", 0], ["00052", "%#.5o", 42], ["052", "%#.2o", 42], ["0x0000002a", "%#010x", 42],
		["0x002a", "%#.4x", 42], ["101010", "%b", 42], ["0b101010", "%#b", 42], ["0B101010", "%#B", 42],
		["18446744073709551615", "%llu", 18446744073709551615n], ["12345678901234567890", "%lu", 12345678901234567890n],
	],
	"characters and strings pad with spaces; NULL prints (null) when it fits": [
		["A", "%c", 65], ["    A", "%5c", 65], ["A    |", "%-5c|", 65], ["    A", "%05c", 65],
		["hello", "%s", "hello"], ["  hello", "%7s", "hello"], ["hello  |", "%-7s|", "hello"], ["   hello", "%08s", "hello"],
		["hel", "%.3s", "hello"], ["  hel", "%5.3s", "hello"], ["(null)", "%s", null], ["  (null)", "%8s", null],
		["", "%.5s", null], ["(null)", "%.6s", null], ["", "%.0s", "abc"], ["héllo |", "%-7s|", "héllo"],
		["hé", "%.3s", "héllo"], ["ab", "%ls", "ab"], ["ab", "%S", "ab"], ["A", "%lc", 65], ["B", "%C", 66],
	],
	"%p prints 0x hex like %#lx and NULL as (nil)": [
		["(nil)", "%p", 0], ["(nil)", "%p", null], ["0x1234", "%p", 0x1234], ["   0x1234", "%9p", 0x1234],
		["0x1234   |", "%-9p|", 0x1234], ["0x00001234", "%010p", 0x1234], ["+0x1234", "%+p", 0x1234],
		[" 0x1234", "% p", 0x1234], ["0x00001234", "%.8p", 0x1234], ["   (nil)", "%8p", 0], ["(nil)   |", "%-8p|", 0],
		["   (nil)", "%08p", 0], ["(nil)", "%.2p", 0], ["0xffffffffffffffff", "%p", -1], ["0x7fff12345678", "%p", 0x7fff12345678],
	],
	"%% and unknown conversions are echoed as glibc rebuilds them": [
		["100%", "100%%"], ["%", "%5%"], ["%", "%-5%"], ["%y", "%y"], ["%5y", "%5y"], ["%# y", "% #y"],
		["%#+-12.4y", "%-#0+ 12.4hhy"], ["%.0]", "%.]"], ["%y 1", "%y %d", 1, 2], ["%3y 1", "%*y %d", 3, 1, 2],
		["%-3y", "%*y", -3], ["1234567", "%'d", 1234567], ["%05.2y", "%05.2y"], ["%'Iy", "%I'y"], ["ab", "ab\0cd"],
	],
	"* takes width and precision from the arguments": [
		["   42", "%*d", 5, 42], ["42   ", "%*d", -5, 42], ["42   ", "%0*d", -5, 42], ["00042", "%.*d", 5, 42],
		["42", "%.*d", -3, 42], ["  3.14", "%*.*f", 6, 2, 3.14159], ["abc", "%.*s", -1, "abc"], ["ab", "%.*s", 2, "abcdef"],
	],
	"%f rounds the exact binary value, ties to even": [
		["3.141593", "%f", Math.PI], ["3", "%.0f", Math.PI], ["3.", "%#.0f", 3], ["0", "%.0f", 0.5], ["2", "%.0f", 1.5],
		["2", "%.0f", 2.5], ["4", "%.0f", 3.5], ["0.2", "%.1f", 0.25], ["0.12", "%.2f", 0.125], ["0.38", "%.2f", 0.375],
		["1.00", "%.2f", 1.005], ["-0.000000", "%f", -0], ["0.000000", "%f", 0], ["-0", "%.0f", -0.4],
		["1000000000000000000000.000000", "%f", 1e21], ["  3.14", "%6.2f", 3.14159], ["3.14  |", "%-6.2f|", 3.14159],
		["003.14", "%06.2f", 3.14159], ["-03.14", "%06.2f", -3.14159], ["+3.14", "%+.2f", 3.14159], [" 3.14", "% .2f", 3.14159],
		["0.100000000000000005551115123125782702118", "%.39f", 0.1], ["0.000000", "%f", 5e-324],
		["1.000000", "%Lf", 1], ["1.500000", "%lf", 1.5], ["123456789012345677877719597056.000000", "%f", 1.2345678901234568e29],
	],
	"inf and nan keep their sign and never zero-pad": [
		["inf", "%f", Infinity], ["-inf", "%f", -Infinity], ["INF", "%F", Infinity], ["nan", "%f", NaN],
		["-nan", "%e", NEG_NAN], ["       inf", "%010f", Infinity], ["-nan      |", "%-010g|", NEG_NAN], ["+inf", "%+f", Infinity],
		[" inf", "% a", Infinity], ["NAN", "%G", NaN],
	],
	"%e prints at least two exponent digits": [
		["1.000000e+00", "%e", 1], ["1.234560e+02", "%e", 123.456], ["1.23E+02", "%.2E", 123.456], ["1e+02", "%.0e", 123.456],
		["2e+00", "%.0e", 2.5], ["4e+00", "%.0e", 3.5], ["1.e+00", "%#.0e", 1], ["0.000000e+00", "%e", 0],
		["-0.000000e+00", "%e", -0], ["1.000000e+100", "%e", 1e100], ["4.940656e-324", "%e", 5e-324],
		["1.797693e+308", "%e", 1.7976931348623157e308], ["1.0e+01", "%.1e", 9.96], [" 1.00e+01", "%9.2e", 9.999],
		["-1.00e-05", "%.2e", -0.00001],
	],
	"%g picks the style by exponent and drops trailing zeros": [
		["100000", "%g", 100000], ["1e+06", "%g", 1e6], ["0.0001", "%g", 0.0001], ["1e-05", "%g", 0.00001],
		["3.14159", "%g", Math.PI], ["3", "%.0g", Math.PI], ["3", "%.1g", 3.14], ["3.1", "%.2g", 3.14],
		["1e+01", "%.1g", 9.5], ["0", "%g", 0], ["-0", "%g", -0], ["1.00000", "%#g", 1], ["1.", "%#.1g", 1], ["1.e+06", "%#g", 999999.5], ["0.000100000", "%#g", 9.9999999e-5],
		["123457", "%g", 123456.7], ["1.23457e+06", "%g", 1234567], ["1E-10", "%G", 1e-10], ["0.1", "%g", 0.1],
		["1e+100", "%g", 1e100], ["  1.5", "%5g", 1.5], ["001.5", "%05g", 1.5], ["100", "%g", 99.99999999],
	],
	"%a prints hex floats, %La in the x86 long double layout": [
		["0x1p+0", "%a", 1], ["0X1.8P+1", "%A", 3], ["0x1.999999999999ap-4", "%a", 0.1],
		["0x0.0000000000001p-1022", "%a", 5e-324], ["0x0p+0", "%a", 0], ["-0x0p+0", "%a", -0], ["0x2p+0", "%.0a", 1.5],
		["0x2.0p+0", "%.1a", 1.97], ["0x1.p+0", "%#a", 1], ["0x00001p+0", "%010a", 1], ["0x1p+0    |", "%-10a|", 1],
		["0x0.000p+0", "%.3a", 0], ["0x8p-3", "%La", 1], ["0xcp-3", "%.0La", 1.5], ["0x1p+1", "%.0La", 1.99],
		["0x1.0p+1", "%.1La", 1.9999], ["0x8p-1077", "%La", 5e-324], ["0xc.cccccccccccdp-7", "%La", 0.1],
	],
};

/** Where this module defines what C leaves undefined (see the module comment); no oracle. */
const DEFINED_HERE: readonly Fixed[] = [
	["0", "%d"], ["(null)", "%s"], ["(nil)", "%p"], ["0.000000", "%f"], ["0 (null)", "%d %s"], ["0", "%*d"],
	["0", "%d", "str"], ["12", "%s", 12], ["18446744073709551615", "%s", 18446744073709551615n],
	["x", "%c", "xyz"], ["3", "%d", 3.9], ["-3", "%d", -3.9], ["0", "%d", NaN], ["0", "%x", Infinity],
	["3.000000", "%f", 3n], ["0.000000", "%f", "1.5"], ["\u00c8", "%c", 200], ["A", "%c", 321],
	["h", "%.2s", "héllo"], ["ab", "a%nb", null], ["ab1", "a%nb%d", null, 1],
];

for (const [name, cases] of Object.entries(FIXED)) {
	t.test(name, async (t) => {
		for (const [expected, fmt, ...args] of cases) t.equal(vformat(fmt, args), expected, JSON.stringify([fmt, ...args.map(String)]));
	});
}

t.test("missing and mismatched arguments read as 0 / NULL and never throw", async (t) => {
	for (const [expected, fmt, ...args] of DEFINED_HERE) t.equal(vformat(fmt, args), expected, fmt);
});

t.test("a format that ends inside a conversion stops there with EINVAL", async (t) => {
	t.same(vformatResult("a%", []), { text: "a", error: EINVAL });
	t.same(vformatResult("[%-5", []), { text: "[", error: EINVAL });
	t.same(vformatResult("x%d%ll", [1]), { text: "x1", error: EINVAL });
	t.same(vformatResult("%d%%", [1]), { text: "1%", error: 0 });
});

t.test("%m prints strerror(errno) with string padding", async (t) => {
	t.equal(vformat("[%m]", [], { errno: EINVAL }), "[Invalid argument]");
	t.equal(vformat("[%.7m]", [], { errno: EINVAL }), "[Invalid]");
});

t.test("format() takes rest arguments", async (t) => {
	t.equal(format("%s=%d%c", "x", 5, 0x0a), "x=5\n");
});

/** Cases for the oracle beyond the fixed ones: products of flags, widths, precisions and values. */
function generatedCases(): Case[] {
	const out: Case[] = [];
	const intValues: FormatArg[] = [0, 1, -1, 42, -2147483648, 123456789];
	for (const flags of ["", "-", "+", " ", "#", "0", "-0", "+ ", "#0"])
		for (const width of ["", "6"])
			for (const prec of ["", ".0", ".3"])
				for (const conv of "duxo") for (const v of intValues) out.push([`[%${flags}${width}${prec}${conv}]`, v]);
	const wide: FormatArg[] = [0, 1, -1, 127, 128, -129, 65535, 2147483647, -2147483648, 4294967295, 1234567890123n, -1234567890123n, 2n ** 63n];
	for (const len of ["hh", "h", "", "l", "ll", "j", "z", "t"])
		for (const conv of "duxXo") for (const v of wide) out.push([`%${len}${conv}`, v]);
	const specials = [0, -0, 0.5, 1.5, 2.5, 0.125, 1e-5, 123.456, 1e21, 1e300, 5e-324, 2.2250738585072014e-308, 1 / 3, 999999.5,
		99999.95, 0.099999999, 0.00099999999, 9.9999999e-5, 0.95, 9.5, 1e-4, 123456789];
	for (const form of ["", "-12", "+", " #", "012", "+015"])
		for (const prec of ["", ".0", ".1", ".4", ".17"])
			for (const conv of "fegaEG") for (const v of specials) out.push([`[%${form}${prec}${conv}]`, v]);
	let seed = 0x2545f491;
	const rand = (): number => {
		seed = (seed * 1103515245 + 12345) >>> 0;
		return seed / 2 ** 32;
	};
	for (let k = 0; k < 40; k++) {
		const v = (rand() - 0.5) * 10 ** Math.floor(rand() * 60 - 30);
		for (const prec of ["", ".0", ".3", ".17", ".30"]) for (const conv of "fega") out.push([`%${prec}${conv}`, v]);
		out.push(["%.2f", Math.round(v * 1000) / 1000 + 0.005]);
	}
	for (const form of ["", "-", "0", "8", "-8", "08", ".3", ".0", "8.3", "-10.10"])
		for (const v of ["", "a", "hello world", null, "héllo"]) out.push([`[%${form}s]`, v]);
	for (const form of ["", "-", "+", " ", "#", "0", "20", "-20", "020", ".10", "20.14"])
		for (const v of [0, 1, 0x1234, -1, 0x7fffdeadbeef]) out.push([`[%${form}p]`, v]);
	for (const form of ["", "-3", "3", "03"]) for (const v of [65, 97, 48]) out.push([`[%${form}c]`, v]);
	return out;
}

const SPEC = /%([-+ #0'I]*)(\*|\d*)(?:\.(\*|\d*))?(hh|h|ll|l|L|q|j|z|Z|t)?([\s\S])?/g;
const INT_TYPES: Record<string, readonly [string, string]> = {
	"": ["int", "unsigned int"], hh: ["int", "unsigned int"], h: ["int", "unsigned int"], l: ["long", "unsigned long"],
	ll: ["long long", "unsigned long long"], L: ["long long", "unsigned long long"], q: ["long long", "unsigned long long"],
	j: ["intmax_t", "uintmax_t"], z: ["ssize_t", "size_t"], Z: ["ssize_t", "size_t"], t: ["ptrdiff_t", "ptrdiff_t"],
};

function cInteger(v: FormatArg, type: string): string {
	const n = typeof v === "bigint" ? v : BigInt(Math.trunc(Number(v)));
	const lit = n >= 2n ** 63n ? `${n}ULL` : n === -(2n ** 63n) ? `(-9223372036854775807LL - 1)` : `${n}LL`;
	return `(${type})(${lit})`;
}

function cDouble(v: FormatArg, long: boolean): string {
	const x = Number(v);
	let lit: string;
	if (Number.isNaN(x)) lit = new Uint8Array(new Float64Array([x]).buffer)[7]! >= 0x80 ? "-NAN" : "NAN";
	else if (!Number.isFinite(x)) lit = x > 0 ? "INFINITY" : "-INFINITY";
	else lit = Object.is(x, -0) ? "-0.0" : /[.e]/.test(`${x}`) ? `${x}` : `${x}.0`;
	return `(${long ? "long double" : "double"})(${lit})`;
}

/** The C argument list for `args` as `fmt` consumes them. */
function cArgs(fmt: string, args: readonly FormatArg[]): string[] {
	const out: string[] = [];
	let k = 0;
	for (const m of fmt.matchAll(SPEC)) {
		if (m[2] === "*") out.push(cInteger(args[k++] ?? 0, "int"));
		if (m[3] === "*") out.push(cInteger(args[k++] ?? 0, "int"));
		const wide = m[4] === "l" && m[5] === "s";
		const len = m[4] ?? "";
		const conv = m[5];
		if (conv === undefined || !"diuoxXbBcCsSpeEfFgGaA".includes(conv)) continue;
		const v = k < args.length ? args[k++]! : 0;
		if ("di".includes(conv)) out.push(cInteger(v, INT_TYPES[len]![0]));
		else if ("uoxXbB".includes(conv)) out.push(cInteger(v, INT_TYPES[len]![1]));
		else if ("cC".includes(conv)) out.push(cInteger(v, "int"));
		else if (conv === "S" || wide) out.push(`L${cString(String(v))}`);
		else if (conv === "s") out.push(v === null ? "(char *)0" : cString(String(v)));
		else if (conv === "p") out.push(`(void *)(uintptr_t)${cInteger(v, "unsigned long")}`);
		else out.push(cDouble(v, len === "L"));
	}
	return out;
}

t.test("every case prints what glibc's printf prints", { skip: ccSkipReason() }, async (t) => {
	const fixed = Object.values(FIXED).flat();
	const cases: Case[] = [...fixed.map(([, ...c]): Case => c), ...generatedCases()];
	const body = cases.map(([fmt, ...args]) => {
		const call = [cString(fmt), ...cArgs(fmt, args)].join(", ");
		return `{ int r = printf(${call}); printf("%c%d%c", 0, r, 0); }`;
	});
	const prog = compileC(
		`#include <stdio.h>\n#include <stdint.h>\n#include <math.h>\n#include <wchar.h>\n#include <sys/types.h>\n#include <stddef.h>\n` +
			`int main(void) {\n${body.join("\n")}\nreturn 0;\n}\n`,
	);
	t.teardown(() => prog.dispose());
	const run = prog.run([]);
	t.equal(run.status, 0, "oracle ran");
	const parts = run.stdout.toString("latin1").split("\0");
	let mismatches = 0;
	cases.forEach(([fmt, ...args], i) => {
		const cText = Buffer.from(parts[2 * i] ?? "", "latin1").toString("utf8");
		const cFailed = Number(parts[2 * i + 1]) < 0;
		const ours = vformatResult(fmt, args);
		if (ours.text !== cText || (ours.error !== 0) !== cFailed) {
			if (++mismatches <= 30) t.fail(`${JSON.stringify(fmt)} ${args.map(String).join(",")}: ours ${JSON.stringify(ours)} glibc ${JSON.stringify(cText)}${cFailed ? " (-1)" : ""}`);
		}
	});
	t.equal(mismatches, 0, `${cases.length} formats match glibc`);
	let wrongFixed = 0;
	fixed.forEach(([expected, fmt], i) => {
		const cText = Buffer.from(parts[2 * i] ?? "", "latin1").toString("utf8");
		if (cText !== expected && ++wrongFixed <= 30) t.fail(`fixed ${JSON.stringify(fmt)}: expected ${JSON.stringify(expected)}, glibc ${JSON.stringify(cText)}`);
	});
	t.equal(wrongFixed, 0, `${fixed.length} fixed expectations are glibc's`);
});
