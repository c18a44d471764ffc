import t from "tap";
import { Errno, EBUSY, EEXIST, EINVAL, ENODATA, ENOENT, ENOMEM, ENOSPC, EOPNOTSUPP, EIO } from "../../kernel/errno.ts";
import { Machine } from "../../kernel/machine.ts";
import { errnoOf, dmesg } from "../../kho/mainline/testing.ts";
import { runOutcome, kexecNow } from "../../kexec/testing.ts";
import { liveupdate_register_file_handler, type LiveupdateFileHandler } from "./luo_file.ts";
import {
	LUO_FLB_MAX, liveupdate_flb_get_incoming, liveupdate_flb_get_outgoing,
	liveupdate_flb_put_incoming, liveupdate_register_flb, liveupdate_unregister_flb, luo_flb_decode, luo_flb_file_finish,
	luo_flb_file_preserve, luo_flb_file_unpreserve, luo_flb_registered, luo_flb_header_ser, luo_flb_ser, luo_flb_serialize, luo_flb_setup_incoming, luo_flb_setup_outgoing,
	type LiveupdateFlb, type LiveupdateFlbOps,
} from "./luo_flb.ts";
import { kho_out_fdt } from "../../kho/mainline/kho_fdt.ts";
import { fdt_getprop, fdt_subnode_offset } from "../../fdt/fdt_ro.ts";
import { LUO_KHO_ENTRY_NAME, luo_ser } from "./luo_abi.ts";
import type { Kernel } from "../../kernel/kernel.ts";

/** A kernel with LUO on and no test FLBs linked to its handlers. */
function boot(cmdline = ""): Kernel {
	return new Machine({ memBytes: 256 * 1024 * 1024 }).boot({ abi: "mainline", cmdline, config: { LIVEUPDATE_SELFTESTS: false } });
}

/** A file handler that takes no real file: the FLB hooks are driven directly. */
function fakeHandler(compatible: string): LiveupdateFileHandler {
	return {
		compatible,
		ops: {
			can_preserve: () => false,
			preserve: () => {},
			unpreserve: () => {},
			retrieve: () => {},
			finish: () => {},
		},
	};
}

/** fakeHandler(), registered in `k`. */
function handler(k: Kernel, compatible = "flbtest-fh-v1"): LiveupdateFileHandler {
	const fh = fakeHandler(compatible);
	liveupdate_register_file_handler(k, fh);
	return fh;
}

/** An FLB that records its callbacks; preserve() makes data 0x1000 + n and obj {n}. */
function recorder(compatible = "flbtest-v1", fail: Partial<Record<"preserve" | "retrieve", number>> = {}): { flb: LiveupdateFlb; calls: string[] } {
	const calls: string[] = [];
	let n = 0;
	const ops: LiveupdateFlbOps = {
		preserve(a) {
			calls.push("preserve");
			if (fail.preserve) throw new Errno(fail.preserve);
			n++;
			a.data = 0x1000n + BigInt(n);
			a.obj = { n };
		},
		unpreserve(a) {
			calls.push(`unpreserve ${a.data.toString(16)} ${JSON.stringify(a.obj)}`);
		},
		retrieve(a) {
			calls.push(`retrieve ${a.data.toString(16)}`);
			if (fail.retrieve) throw new Errno(fail.retrieve);
			a.obj = { from: a.data };
		},
		finish(a) {
			calls.push(`finish ${JSON.stringify(a.obj, (_k, v: unknown) => (typeof v === "bigint" ? v.toString(16) : v))}`);
		},
	};
	return { flb: { compatible, ops }, calls };
}

/** reboot(LINUX_REBOOT_CMD_KEXEC) of `k` into /boot/vmlinuz with its command line: the next kernel. */
async function kexec(k: Kernel): Promise<Kernel> {
	const out = await runOutcome(k, (u) => {
		const r = kexecNow(u, k.cmdline.text);
		throw new Error(`kexec failed: ${r}`);
	});
	if (out.kind !== "stopped" || !out.event.to) throw new Error(`no kernel after the kexec (${out.kind})`);
	return out.event.to;
}

t.test("LUO_FLB_MAX is 63 entries of 64 bytes after a 16-byte header", async (t) => {
	t.equal(LUO_FLB_MAX, 63);
	t.equal(luo_flb_header_ser.size, 16);
	t.equal(luo_flb_ser.size, 64);
	t.same([luo_flb_ser.offsetOf("data"), luo_flb_ser.offsetOf("count")], [48, 56]);
});

t.test("register with LUO off is EOPNOTSUPP", async (t) => {
	const k = boot("liveupdate=off");
	t.equal(errnoOf(() => liveupdate_register_flb(k, fakeHandler("x-v1"), recorder().flb)), EOPNOTSUPP);
});

t.test("register of an FLB missing any of its four ops is EINVAL", async (t) => {
	const k = boot();
	const fh = handler(k);
	for (const op of ["preserve", "unpreserve", "retrieve", "finish"] as const) {
		const ops: LiveupdateFlbOps = { ...recorder().flb.ops };
		delete ops[op];
		t.equal(errnoOf(() => liveupdate_register_flb(k, fh, { compatible: `no-${op}`, ops })), EINVAL, op);
	}
	t.same(luo_flb_registered(k), []);
});

t.test("register of an FLB whose compatible does not fit 47 bytes is EINVAL", async (t) => {
	const k = boot();
	t.equal(errnoOf(() => liveupdate_register_flb(k, handler(k), recorder("x".repeat(48)).flb)), EINVAL);
});

t.test("register on a file handler that is not registered is EINVAL", async (t) => {
	const k = boot();
	t.equal(errnoOf(() => liveupdate_register_flb(k, fakeHandler("unregistered-v1"), recorder().flb)), EINVAL);
});

t.test("registering an FLB twice on one handler is EEXIST", async (t) => {
	const k = boot();
	const fh = handler(k);
	const { flb } = recorder();
	liveupdate_register_flb(k, fh, flb);
	t.equal(errnoOf(() => liveupdate_register_flb(k, fh, flb)), EEXIST);
});

t.test("a second FLB with a registered compatible is EEXIST", async (t) => {
	const k = boot();
	const fh = handler(k);
	liveupdate_register_flb(k, fh, recorder("same-v1").flb);
	t.equal(errnoOf(() => liveupdate_register_flb(k, handler(k, "other-fh-v1"), recorder("same-v1").flb)), EEXIST);
});

t.test("the 64th FLB is ENOSPC; linking a registered one to another handler still works", async (t) => {
	const k = boot();
	const fh = handler(k);
	const flbs = Array.from({ length: LUO_FLB_MAX }, (_, i) => recorder(`flb-${i}`).flb);
	for (const f of flbs) liveupdate_register_flb(k, fh, f);
	t.equal(errnoOf(() => liveupdate_register_flb(k, fh, recorder("flb-63").flb)), ENOSPC);
	t.equal(errnoOf(() => liveupdate_register_flb(k, handler(k, "fh2-v1"), flbs[0]!)), 0);
	liveupdate_unregister_flb(k, fh, flbs[5]!);
	t.equal(errnoOf(() => liveupdate_register_flb(k, fh, recorder("flb-63").flb)), 0, "a slot freed by the last unlink is reused");
});

t.test("register and unregister are EBUSY while the handler has preserved files", async (t) => {
	const k = boot();
	const fh = handler(k);
	const a = recorder("a-v1").flb;
	liveupdate_register_flb(k, fh, a);
	luo_flb_file_preserve(k, fh);
	t.equal(errnoOf(() => liveupdate_register_flb(k, fh, recorder("b-v1").flb)), EBUSY);
	t.equal(errnoOf(() => liveupdate_unregister_flb(k, fh, a)), EBUSY);
	luo_flb_file_unpreserve(k, fh);
	t.equal(errnoOf(() => liveupdate_unregister_flb(k, fh, a)), 0);
});

t.test("unregister of an FLB not linked to the handler is ENOENT", async (t) => {
	const k = boot();
	t.equal(errnoOf(() => liveupdate_unregister_flb(k, handler(k), recorder().flb)), ENOENT);
});

t.test("unregister with LUO off is EOPNOTSUPP", async (t) => {
	const k = boot("liveupdate=off");
	t.equal(errnoOf(() => liveupdate_unregister_flb(k, fakeHandler("x-v1"), recorder().flb)), EOPNOTSUPP);
});

t.test("the first preserved file runs preserve() once and get_outgoing returns its object", async (t) => {
	const k = boot();
	const fh = handler(k);
	const { flb, calls } = recorder();
	liveupdate_register_flb(k, fh, flb);
	t.equal(liveupdate_flb_get_outgoing(k, flb), null, "nothing preserved yet");
	luo_flb_file_preserve(k, fh);
	luo_flb_file_preserve(k, fh);
	t.same(calls, ["preserve"]);
	t.same(liveupdate_flb_get_outgoing(k, flb), { n: 1 });
});

t.test("the last unpreserve runs unpreserve() with the data and object, and clears them", async (t) => {
	const k = boot();
	const fh = handler(k);
	const { flb, calls } = recorder();
	liveupdate_register_flb(k, fh, flb);
	luo_flb_file_preserve(k, fh);
	luo_flb_file_preserve(k, fh);
	luo_flb_file_unpreserve(k, fh);
	t.same(calls, ["preserve"], "one file is left");
	luo_flb_file_unpreserve(k, fh);
	t.same(calls, ["preserve", 'unpreserve 1001 {"n":1}']);
	t.equal(liveupdate_flb_get_outgoing(k, flb), null);
});

t.test("a failing preserve() rolls back the FLBs before it and throws its errno", async (t) => {
	const k = boot();
	const fh = handler(k);
	const a = recorder("a-v1");
	const b = recorder("b-v1", { preserve: ENOMEM });
	liveupdate_register_flb(k, fh, a.flb);
	liveupdate_register_flb(k, fh, b.flb);
	t.equal(errnoOf(() => luo_flb_file_preserve(k, fh)), ENOMEM);
	t.same(a.calls, ["preserve", 'unpreserve 1001 {"n":1}']);
	t.equal(errnoOf(() => liveupdate_register_flb(k, fh, recorder("c-v1").flb)), 0, "the handler counts no preserved file");
});

t.test("an unpreserve with no preserved file warns and calls nothing", async (t) => {
	const k = boot();
	const fh = handler(k);
	const { flb, calls } = recorder();
	liveupdate_register_flb(k, fh, flb);
	luo_flb_file_unpreserve(k, fh);
	t.same(calls, []);
	t.match(dmesg(k).join("\n"), /WARNING: .*luo_flb_file_unpreserve: flbtest-fh-v1: no preserved file/);
});

t.test("get_outgoing and get_incoming with LUO off are EOPNOTSUPP", async (t) => {
	const k = boot("liveupdate=off");
	t.equal(errnoOf(() => liveupdate_flb_get_outgoing(k, recorder().flb)), EOPNOTSUPP);
	t.equal(errnoOf(() => liveupdate_flb_get_incoming(k, recorder().flb)), EOPNOTSUPP);
});

t.test("get_incoming after a cold boot is ENODATA", async (t) => {
	const k = boot();
	const fh = handler(k);
	const { flb, calls } = recorder();
	liveupdate_register_flb(k, fh, flb);
	t.equal(errnoOf(() => liveupdate_flb_get_incoming(k, flb)), ENODATA);
	t.same(calls, []);
});

t.test("setup_outgoing without a free frame is ENOMEM", async (t) => {
	const k = boot("liveupdate=off");
	while (k.buddy.nr_free_pages() > 0) k.buddy.alloc_pages(0);
	t.equal(errnoOf(() => luo_flb_setup_outgoing(k)), ENOMEM);
});

t.test("setup_outgoing twice is EBUSY", async (t) => {
	const k = boot("liveupdate=off");
	luo_flb_setup_outgoing(k);
	t.equal(errnoOf(() => luo_flb_setup_outgoing(k)), EBUSY);
});

t.test("an FLB page whose header is not pgcnt 1 and count <= 63 does not decode", async (t) => {
	const page = new Uint8Array(4096);
	const v = new DataView(page.buffer);
	t.equal(luo_flb_decode(page), null, "pgcnt 0");
	v.setBigUint64(0, 1n, true);
	t.same(luo_flb_decode(page), []);
	v.setBigUint64(8, 64n, true);
	t.equal(luo_flb_decode(page), null, "count 64");
	v.setBigUint64(8, 1n, true);
	page.fill(0x41, 16, 64);
	t.equal(luo_flb_decode(page), null, "a name without its NUL");
});

t.test("setup_incoming of a page that is not an FLB header is EINVAL", async (t) => {
	const k = boot("liveupdate=off");
	const page = k.buddy.alloc_pages(0)!;
	t.equal(errnoOf(() => luo_flb_setup_incoming(k, BigInt(page * 4096))), EINVAL);
});

/** Kernel A with `files` files of a handler depending on a recorder FLB, kexec'd; B with the same handler and FLB registered. */
async function across(files: number, fail: Partial<Record<"retrieve", number>> = {}): Promise<{ b: Kernel; fh: LiveupdateFileHandler; flb: LiveupdateFlb; before: string[]; calls: string[] }> {
	const a = boot();
	const rA = recorder("flbtest-v1");
	const fhA = handler(a);
	liveupdate_register_flb(a, fhA, rA.flb);
	for (let i = 0; i < files; i++) luo_flb_file_preserve(a, fhA);
	const b = await kexec(a);
	const rB = recorder("flbtest-v1", fail);
	const fh = handler(b);
	liveupdate_register_flb(b, fh, rB.flb);
	return { b, fh, flb: rB.flb, before: rA.calls, calls: rB.calls };
}

t.test("across a kexec the FLB is retrieved on the first get_incoming with the preserved data", async (t) => {
	const { b, flb, before, calls } = await across(2);
	t.same(before, ["preserve"]);
	t.same(calls, [], "nothing runs before someone asks");
	t.same(liveupdate_flb_get_incoming(b, flb), { from: 0x1001n });
	t.same(liveupdate_flb_get_incoming(b, flb), { from: 0x1001n }, "the same object again");
	t.same(calls, ["retrieve 1001"]);
});

t.test("finish() runs when the last dependent file is finished, not before", async (t) => {
	const { b, fh, flb, calls } = await across(2);
	liveupdate_flb_get_incoming(b, flb);
	liveupdate_flb_put_incoming(b, flb);
	luo_flb_file_finish(b, fh);
	t.same(calls, ["retrieve 1001"]);
	luo_flb_file_finish(b, fh);
	t.same(calls, ["retrieve 1001", 'finish {"from":"1001"}']);
});

t.test("files finished without any get_incoming still retrieve and finish the FLB once (the seed's negative count)", async (t) => {
	const { b, fh, calls } = await across(3);
	luo_flb_file_finish(b, fh);
	luo_flb_file_finish(b, fh);
	t.same(calls, [], "two of three files: neither retrieve nor finish");
	luo_flb_file_finish(b, fh);
	t.same(calls, ["retrieve 1001", 'finish {"from":"1001"}']);
});

t.test("a get_incoming reference keeps the FLB alive past its files until put", async (t) => {
	const { b, fh, flb, calls } = await across(1);
	liveupdate_flb_get_incoming(b, flb);
	luo_flb_file_finish(b, fh);
	t.same(calls, ["retrieve 1001"]);
	liveupdate_flb_put_incoming(b, flb);
	t.same(calls, ["retrieve 1001", 'finish {"from":"1001"}']);
});

t.test("get_incoming after finish is ENODATA", async (t) => {
	const { b, fh, flb } = await across(1);
	luo_flb_file_finish(b, fh);
	t.equal(errnoOf(() => liveupdate_flb_get_incoming(b, flb)), ENODATA);
});

t.test("a put without a reference warns and finishes nothing", async (t) => {
	const { b, fh, flb, calls } = await across(1);
	luo_flb_file_finish(b, fh);
	liveupdate_flb_put_incoming(b, flb);
	t.same(calls, ["retrieve 1001", 'finish {"from":"1001"}']);
	t.match(dmesg(b).join("\n"), /WARNING: .*liveupdate_flb_put_incoming: flbtest-v1: incoming count already 0/);
});

t.test("get_incoming of an FLB the previous kernel did not preserve is ENOENT", async (t) => {
	const { b } = await across(1);
	const other = recorder("not-preserved-v1");
	liveupdate_register_flb(b, handler(b, "fh2-v1"), other.flb);
	t.equal(errnoOf(() => liveupdate_flb_get_incoming(b, other.flb)), ENOENT);
});

t.test("an FLB with no preserved file is not handed over", async (t) => {
	const { b, flb } = await across(0);
	t.equal(errnoOf(() => liveupdate_flb_get_incoming(b, flb)), ENOENT);
});

t.test("a failed retrieve() is returned and tried again on the next get", async (t) => {
	const { b, flb, calls } = await across(1, { retrieve: EIO });
	t.equal(errnoOf(() => liveupdate_flb_get_incoming(b, flb)), EIO);
	t.equal(errnoOf(() => liveupdate_flb_get_incoming(b, flb)), EIO);
	t.same(calls, ["retrieve 1001", "retrieve 1001"]);
});

t.test("an unpreserved FLB is not handed over", async (t) => {
	const a = boot();
	const fh = handler(a);
	const { flb } = recorder();
	liveupdate_register_flb(a, fh, flb);
	luo_flb_file_preserve(a, fh);
	luo_flb_file_unpreserve(a, fh);
	const b = await kexec(a);
	const rB = recorder();
	liveupdate_register_flb(b, handler(b), rB.flb);
	t.equal(errnoOf(() => liveupdate_flb_get_incoming(b, rB.flb)), ENOENT);
});

/** The outgoing FLB page of `k`, found as the next kernel finds it: KHO subtree "LUO", then luo_ser.flbs_pa. */
function outgoingFlbPage(k: Kernel): Uint8Array {
	const fdt = kho_out_fdt(k)!;
	const prop = fdt_getprop(fdt, fdt_subnode_offset(fdt, 0, LUO_KHO_ENTRY_NAME), "preserved-data")!;
	const ser = luo_ser.decode(k.buddy.pm.read(Number(new DataView(prop.buffer, prop.byteOffset).getBigUint64(0, true)), luo_ser.size));
	return k.buddy.pm.read(Number(ser.flbs_pa), 4096);
}

t.test("serialize writes pgcnt 1 and one 64-byte entry per FLB with preserved files, in registration order", async (t) => {
	const k = boot();
	const fh = handler(k);
	const idle = recorder("idle-v1");
	const a = recorder("a-v1");
	const b = recorder("b-v1");
	for (const r of [a, idle, b]) liveupdate_register_flb(k, r === idle ? handler(k, "idle-fh-v1") : fh, r.flb);
	for (let i = 0; i < 3; i++) luo_flb_file_preserve(k, fh);
	t.same(luo_flb_decode(outgoingFlbPage(k)), [], "an empty page until the reboot path serializes");
	luo_flb_serialize(k);
	const page = outgoingFlbPage(k);
	t.same(luo_flb_header_ser.decode(page), { pgcnt: 1n, count: 2n });
	t.same(luo_flb_decode(page), [
		{ name: "a-v1", data: 0x1001n, count: 3n },
		{ name: "b-v1", data: 0x1001n, count: 3n },
	]);
	t.equal(page[16 + 4], 0, "the name is NUL-terminated in its 48 bytes");
});
