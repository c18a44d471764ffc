import t from "tap";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliMain } from "./main.ts";
import { describeImage } from "../kexec/image.ts";

const dir = mkdtempSync(join(tmpdir(), "luosim-image-test-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
	let out = "";
	let err = "";
	const code = await cliMain(args, { stdout: (d) => void (out += String(d)), stderr: (d) => void (err += String(d)) });
	return { code, out, err };
}

t.test("luosim image writes the image a boot of the generation installs", async (t) => {
	const path = join(dir, "a.img");
	t.equal((await cli(["image", "--abi", "rfc-v2", path])).code, 0);
	const img = describeImage(new Uint8Array(readFileSync(path)));
	t.equal(img.abi, "rfc-v2");
	t.same(img.liveupdateVersions, []);
});

t.test("--config switches a Kconfig option, which changes the versions section", async (t) => {
	const path = join(dir, "b.img");
	t.equal((await cli(["image", "--config", "CONFIG_LIVEUPDATE_MEMFD=n", path])).code, 0);
	t.same(describeImage(new Uint8Array(readFileSync(path))).liveupdateVersions, ["luo-v5"]);
	const r = await cli(["versions", path]);
	t.equal(r.code, 1);
	t.match(r.out, /missing: memfd-v2/);
});

t.test("an unknown option name, a bad value or no OUT is a usage error", async (t) => {
	t.equal((await cli(["image", "--config", "NOPE=y", join(dir, "c.img")])).code, 2);
	t.equal((await cli(["image", "--config", "LIVEUPDATE=m", join(dir, "c.img")])).code, 2);
	t.equal((await cli(["image"])).code, 2);
	t.equal((await cli(["image", "x", "y"])).code, 2);
});

t.test("an OUT that cannot be written fails with the reason", async (t) => {
	const r = await cli(["image", join(dir, "no", "such", "dir", "x.img")]);
	t.equal(r.code, 1);
	t.match(r.err, /^luosim image: .*x\.img: ENOENT/);
});
