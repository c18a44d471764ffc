import t from "tap";
import { Cmdline, parseCmdline, parseKstrtobool } from "./cmdline.ts";
import { bootKernel } from "./machine.ts";
import { DEFAULT_CMDLINE } from "./kernel.ts";

t.test("key=value pairs and bare flags; a later key wins", async (t) => {
	const c = new Cmdline("kho=on  quiet liveupdate=on kho=off empty=");
	t.equal(c.get("kho"), "off");
	t.equal(c.get("quiet"), null);
	t.equal(c.get("empty"), "");
	t.equal(c.get("missing"), undefined);
	t.ok(c.has("quiet"));
	t.notOk(c.has("missing"));
	t.equal(c.text, "kho=on quiet liveupdate=on kho=off empty=", "whitespace is normalised");
});

t.test("double quotes group spaces and are dropped; only the first = splits", async (t) => {
	const { params } = parseCmdline('a="x y" "b c"=1 d=e=f g=""');
	t.same(params, [
		{ key: "a", value: "x y" },
		{ key: "b c", value: "1" },
		{ key: "d", value: "e=f" },
		{ key: "g", value: "" },
	]);
});

t.test("everything after -- belongs to init", async (t) => {
	const c = new Cmdline("a=1 -- -s 2 b=3");
	t.same(c.initArgs, ["-s", "2", "b=3"]);
	t.equal(c.get("b"), undefined);
});

t.test("getBool reads kstrtobool values; a bare flag is true; the default otherwise", async (t) => {
	const c = new Cmdline("a=on b=off c=y d=N e=1 f=0 g h=maybe");
	t.same(["a", "b", "c", "d", "e", "f", "g"].map((k) => c.getBool(k, false)), [true, false, true, false, true, false, true]);
	t.equal(c.getBool("h", true), true, "unparsable");
	t.equal(c.getBool("zz", true), true, "absent");
	t.same(["on", "ON", "of", "oX", "", "t", "F"].map(parseKstrtobool), [true, true, false, undefined, undefined, true, false]);
});

t.test("append: the boot command line is the generation's default plus the extra text, later keys winning", async (t) => {
	t.equal(new Cmdline("a=1").append("  ").text, "a=1");
	const k = bootKernel({ abi: "mainline", cmdline: "liveupdate=off x" });
	t.equal(k.cmdline.text, `${DEFAULT_CMDLINE.mainline} liveupdate=off x`);
	t.equal(k.cmdline.getBool("liveupdate", true), false);
	t.ok(k.log.all().some((r) => r.text === `Command line: ${k.cmdline.text}`));
});
