import t from "tap";
import { kstrtoull, kstrtoll, kstrtouint, kstrtoint, kstrtobool } from "./kstrtox.ts";
import { Errno, EINVAL, ERANGE } from "./errno.ts";

function errnoOf(fn: () => unknown): number {
	try {
		fn();
	} catch (e) {
		if (e instanceof Errno) return e.errno;
		throw e;
	}
	return 0;
}

t.test("kstrtoull auto-detects the base and allows one trailing newline", async (t) => {
	t.equal(kstrtoull("42"), 42n);
	t.equal(kstrtoull("42\n"), 42n);
	t.equal(kstrtoull("+7"), 7n);
	t.equal(kstrtoull("0x1F"), 31n);
	t.equal(kstrtoull("0X1f\n"), 31n);
	t.equal(kstrtoull("010"), 8n);
	t.equal(kstrtoull("0"), 0n);
	t.equal(kstrtoull("18446744073709551615"), 0xffffffffffffffffn);
	t.equal(kstrtoull("ff", 16), 255n);
	t.equal(kstrtoull("12\0garbage"), 12n, "the C string ends at NUL");
});

t.test("kstrtoull rejects garbage with EINVAL and overflow with ERANGE", async (t) => {
	for (const bad of ["", "\n", "abc", "12abc", "1 ", "1\n\n", " 1", "-1", "0x", "09", "++1", "0xg"]) {
		t.equal(errnoOf(() => kstrtoull(bad)), EINVAL, JSON.stringify(bad));
	}
	t.equal(errnoOf(() => kstrtoull("18446744073709551616")), ERANGE);
});

t.test("kstrtoll takes a sign and checks the signed range", async (t) => {
	t.equal(kstrtoll("-5"), -5n);
	t.equal(kstrtoll("-0x10"), -16n);
	t.equal(kstrtoll("-9223372036854775808"), -(1n << 63n));
	t.equal(errnoOf(() => kstrtoll("9223372036854775808")), ERANGE);
	t.equal(errnoOf(() => kstrtoll("-9223372036854775809")), ERANGE);
	t.equal(errnoOf(() => kstrtoll("--1")), EINVAL);
});

t.test("kstrtouint and kstrtoint check 32-bit ranges", async (t) => {
	t.equal(kstrtouint("4294967295"), 4294967295);
	t.equal(errnoOf(() => kstrtouint("4294967296")), ERANGE);
	t.equal(kstrtoint("-2147483648"), -2147483648);
	t.equal(errnoOf(() => kstrtoint("2147483648")), ERANGE);
});

t.test("kstrtobool reads the first characters only", async (t) => {
	for (const s of ["y", "Y", "yes", "t", "True", "1", "1\n", "on", "ON"]) t.equal(kstrtobool(s), true, s);
	for (const s of ["n", "N", "no", "f", "false", "0", "0\n", "off", "Of"]) t.equal(kstrtobool(s), false, s);
	for (const s of ["", "2", "o", "ox", "x", " y"]) t.equal(errnoOf(() => kstrtobool(s)), EINVAL, JSON.stringify(s));
});
