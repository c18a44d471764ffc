import t from "tap";
import { Machine } from "./machine.ts";
import { param_bool, param_long } from "./params.ts";
import type { Kernel } from "./kernel.ts";

function boot(cmdline: string): Kernel {
	return new Machine({ memBytes: 64 * 1024 * 1024 }).boot({ abi: "mainline", cmdline });
}

function errors(k: Kernel): string[] {
	return k.log.all().map((r) => r.text).filter((s) => s.startsWith("Booting kernel:"));
}

t.test("long: absent gives the default; kstrtol base 0 otherwise", async (t) => {
	t.equal(param_long(boot(""), "mod", "n", 7), 7);
	t.equal(param_long(boot("mod.n=42"), "mod", "n", 7), 42);
	t.equal(param_long(boot("mod.n=0x1000"), "mod", "n", 7), 4096);
	t.equal(param_long(boot("mod.n=010"), "mod", "n", 7), 8);
	t.equal(param_long(boot("mod.n=-5"), "mod", "n", 7), -5);
	t.equal(param_long(boot("other.n=1 n=2 mod.nn=3"), "mod", "n", 7), 7, "only MODULE.PARAM counts");
});

t.test("long: an invalid value is reported as parse_args does and changes nothing; the last good one wins", async (t) => {
	const k = boot("mod.n=5 mod.n=abc mod.n mod.n=99999999999999999999");
	t.equal(param_long(k, "mod", "n", 7), 5);
	t.same(errors(k), [
		"Booting kernel: `abc' invalid for parameter `mod.n'",
		"Booting kernel: `' invalid for parameter `mod.n'",
		"Booting kernel: `99999999999999999999' invalid for parameter `mod.n'",
	]);
	t.equal(param_long(boot("mod.n=1 mod.n=2"), "mod", "n", 7), 2);
});

t.test("bool: kstrtobool values, a bare name is true, junk is reported", async (t) => {
	t.equal(param_bool(boot(""), "mod", "on", false), false);
	t.equal(param_bool(boot("mod.on"), "mod", "on", false), true);
	t.equal(param_bool(boot("mod.on=1"), "mod", "on", false), true);
	t.equal(param_bool(boot("mod.on=y"), "mod", "on", false), true);
	t.equal(param_bool(boot("mod.on=off"), "mod", "on", true), false);
	const k = boot("mod.on=maybe");
	t.equal(param_bool(k, "mod", "on", false), false);
	t.same(errors(k), ["Booting kernel: `maybe' invalid for parameter `mod.on'"]);
});
