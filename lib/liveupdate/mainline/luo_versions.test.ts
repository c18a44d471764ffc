import t from "tap";
import { ENOEXEC } from "../../kernel/errno.ts";
import { defaultConfig, type Kernel, type KernelConfig } from "../../kernel/kernel.ts";
import { O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY } from "../../fs/fcntl.ts";
import { BOOT_IMAGE_PATH, encodeImage, liveupdateVersionsOf, parseImage } from "../../kexec/image.ts";
import { KEXEC_FILE_NO_INITRAMFS } from "../../kexec/kexec_file.ts";
import { LINUX_REBOOT_CMD_KEXEC } from "../../kexec/reboot.ts";
import { rebootCmd, runOutcome } from "../../kexec/testing.ts";
import { MEMFD_LUO_FH_COMPATIBLE } from "../../mm/memfd_luo_ser.ts";
import { dmesg, readBytes } from "../../kho/testing.ts";
import { LUO_ABI_COMPATIBLE } from "./luo_abi.ts";
import { luo_versions_compare, luo_versions_required } from "./luo_versions.ts";
import { bootMainline, createSession, openLuo, preserveFd, retrieveSession } from "./testing.ts";
import type { User } from "../../kernel/testing.ts";

const OLD = "/boot/vmlinuz-old";

/** Installs a mainline image built with `config` changes (its versions are what that build links in). */
function installImage(k: Kernel, change: Partial<KernelConfig>, path = OLD): void {
	const config = { ...defaultConfig("mainline"), ...change };
	const f = k.vfs.open(null, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644);
	try {
		k.vfs.kernelWrite(f, encodeImage({ abi: "mainline", config, liveupdateVersions: liveupdateVersionsOf("mainline", config) }), 0);
	} finally {
		f.put();
	}
}

/** kexec_file_load of `path` with the kernel's command line: 0 or -errno. */
function load(u: User, path: string): number {
	const fd = u.sys("open", path, O_RDONLY);
	const cmdline = u.kernel.cmdline.text;
	const r = u.sys("kexec_file_load", fd, -1, new TextEncoder().encode(cmdline).length + 1, cmdline, KEXEC_FILE_NO_INITRAMFS);
	u.sys("close", fd);
	return r;
}

/** A session "s" holding a memfd: the session fd. */
function preserveMemfd(u: User): number {
	const luo = openLuo(u);
	const s = createSession(u, luo, "s");
	const mfd = u.sys("memfd_create", "m", 0);
	if (preserveFd(u, s, mfd, 1n) !== 0) throw new Error("PRESERVE_FD failed");
	return s;
}

t.test("compare lists the required versions an image lacks and those it has beyond them", async (t) => {
	const c = luo_versions_compare(["memfd-v2", "luo-v5", "memfd-v2"], ["luo-v5", "vfiofd-v1"]);
	t.same(c.required, ["luo-v5", "memfd-v2"]);
	t.same(c.missing, ["memfd-v2"]);
	t.same(c.extra, ["vfiofd-v1"]);
});

t.test("compare against an image without the section finds every required version missing", async (t) => {
	const c = luo_versions_compare(["luo-v5"], null);
	t.equal(c.listed, null);
	t.same(c.missing, ["luo-v5"]);
});

t.test("a mainline kernel's image lists LUO's ABI and the memfd handler", async (t) => {
	const k = bootMainline();
	t.same(parseImage(readBytes(k, BOOT_IMAGE_PATH)).liveupdateVersions, [LUO_ABI_COMPATIBLE, MEMFD_LUO_FH_COMPATIBLE]);
});

t.test("without CONFIG_LIVEUPDATE_MEMFD the image does not list memfd-v2", async (t) => {
	t.same(liveupdateVersionsOf("mainline", { ...defaultConfig("mainline"), LIVEUPDATE_MEMFD: false }), [LUO_ABI_COMPATIBLE]);
});

t.test("seed-era images list no versions, and none is listed without CONFIG_LIVEUPDATE", async (t) => {
	t.same(liveupdateVersionsOf("rfc-v2", defaultConfig("rfc-v2")), []);
	t.same(liveupdateVersionsOf("mainline", { ...defaultConfig("mainline"), LIVEUPDATE: false }), []);
});

t.test("nothing is required while no file is preserved; a memfd requires LUO's ABI and memfd-v2", async (t) => {
	const k = bootMainline();
	await runOutcome(k, (u) => {
		t.same(luo_versions_required(k), []);
		preserveMemfd(u);
		t.same(luo_versions_required(k), [LUO_ABI_COMPATIBLE, MEMFD_LUO_FH_COMPATIBLE]);
	});
});

t.test("kexec_file_load of an image lacking a handler with preserved files succeeds", async (t) => {
	const k = bootMainline();
	installImage(k, { LIVEUPDATE_MEMFD: false });
	await runOutcome(k, (u) => {
		preserveMemfd(u);
		t.equal(load(u, OLD), 0);
	});
});

t.test("reboot(KEXEC) into an image lacking memfd-v2 while a memfd is preserved is ENOEXEC and names the handler", async (t) => {
	const k = bootMainline();
	installImage(k, { LIVEUPDATE_MEMFD: false });
	const out = await runOutcome(k, (u) => {
		preserveMemfd(u);
		t.equal(load(u, OLD), 0);
		t.equal(rebootCmd(u, LINUX_REBOOT_CMD_KEXEC), -ENOEXEC);
	});
	t.equal(out.kind, "exited", "the kernel still runs");
	t.match(dmesg(k).join("\n"), /luo: file handler 'memfd-v2' has preserved state but the loaded kernel .* does not list it in \.liveupdate_versions/);
});

t.test("after a refused kexec the session is intact and a kexec into a capable image carries it over", async (t) => {
	const k = bootMainline();
	installImage(k, { LIVEUPDATE_MEMFD: false });
	const out = await runOutcome(k, (u) => {
		preserveMemfd(u);
		load(u, OLD);
		t.equal(rebootCmd(u, LINUX_REBOOT_CMD_KEXEC), -ENOEXEC);
		t.equal(load(u, BOOT_IMAGE_PATH), 0);
		rebootCmd(u, LINUX_REBOOT_CMD_KEXEC);
		throw new Error("the second kexec did not happen");
	});
	if (out.kind !== "stopped" || !out.event.to) throw new Error("no kexec");
	await runOutcome(out.event.to, (u) => {
		t.ok(retrieveSession(u, openLuo(u), "s") >= 0, "session s is there");
	});
});

t.test("without preserved files a kexec into an image lacking memfd-v2 goes ahead", async (t) => {
	const k = bootMainline();
	installImage(k, { LIVEUPDATE_MEMFD: false });
	const out = await runOutcome(k, (u) => {
		load(u, OLD);
		rebootCmd(u, LINUX_REBOOT_CMD_KEXEC);
	});
	t.equal(out.kind, "stopped");
});

t.test("an image without .liveupdate_versions cannot take preserved files: both versions are named", async (t) => {
	const k = bootMainline();
	installImage(k, { LIVEUPDATE: false });
	await runOutcome(k, (u) => {
		preserveMemfd(u);
		load(u, OLD);
		t.equal(rebootCmd(u, LINUX_REBOOT_CMD_KEXEC), -ENOEXEC);
	});
	const log = dmesg(k).join("\n");
	t.match(log, /LUO ABI 'luo-v5' has preserved state/);
	t.match(log, /file handler 'memfd-v2' has preserved state/);
});
