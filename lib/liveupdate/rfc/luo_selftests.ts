/**
 * The LUO kernel selftest module (drivers/misc/liveupdate/luo_selftests.c,
 * seed 000 patch 13, CONFIG_LIVEUPDATE_SELFTESTS): behind the rfc-v2
 * LIVEUPDATE_IOCTL_SELFTESTS command, userspace registers up to
 * LUO_MAX_SUBSYSTEMS dummy subsystems, each with a page of data copied from
 * user memory, unregisters them, and reads a page back. A dummy
 * subsystem's prepare preserves its page with KHO and hands its physical
 * address over as the u64; its other callbacks only log.
 *
 * Two seed bugs are not copied: a failed registration (a duplicate name)
 * frees the slot it just took, where the seed looks the name up and frees
 * the first subsystem that has it, i.e. the one already registered; and a
 * full table frees the page it allocated.
 */
import { Errno, EFAULT, EINVAL, ENOMEM, ENOTTY, EOPNOTSUPP } from "../../kernel/errno.ts";
import { kho_preserve_phys } from "../../kho/kho.ts";
import { PAGE_SIZE, PFN_PHYS } from "../../mm/physmem.ts";
import {
	LUO_CMD_SUBSYSTEM_GETDATA, LUO_CMD_SUBSYSTEM_REGISTER, LUO_CMD_SUBSYSTEM_UNREGISTER, LUO_MAX_SUBSYSTEMS, LUO_NAME_LENGTH,
	liveupdate_selftest, luo_arg_subsystem,
} from "../uapi/rfc-v2.ts";
import { liveupdate_register_subsystem, liveupdate_unregister_subsystem, type LiveupdateSubsystem } from "./luo_subsystems.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import type { Process } from "../../kernel/process.ts";

const PR = "luo_selftests: ";

/** One slot of luo_subsystems[]: the handle LUO holds, its name and its data page. */
interface TestSubsystem {
	handle: LiveupdateSubsystem;
	name: string;
	dataPfn: number;
}

const tables = new WeakMap<Kernel, (TestSubsystem | null)[]>();

function table(kernel: Kernel): (TestSubsystem | null)[] {
	let t = tables.get(kernel);
	if (!t) {
		t = new Array<TestSubsystem | null>(LUO_MAX_SUBSYSTEMS).fill(null);
		tables.set(kernel, t);
	}
	return t;
}

const hex = (v: bigint | number): string => v.toString(16);

/** The callbacks of dummy subsystem `name`: prepare preserves the page and hands over its address. */
function testHandle(name: string, dataPfn: number): LiveupdateSubsystem {
	return {
		name,
		prepare(kernel): bigint {
			const phys = PFN_PHYS(dataPfn);
			kho_preserve_phys(kernel, phys, PAGE_SIZE);
			kernel.pr_info(`${PR}Subsystem '${name}' prepare data[${hex(phys)}]`);
			return BigInt(phys);
		},
		freeze(kernel, _arg, data): bigint {
			kernel.pr_info(`${PR}Subsystem '${name}' freeze data[${hex(data)}]`);
			return data;
		},
		cancel(kernel, _arg, data): void {
			kernel.pr_info(`${PR}Subsystem '${name}' canel data[${hex(data)}]`);
		},
		finish(kernel, _arg, data): void {
			kernel.pr_info(`${PR}Subsystem '${name}' finish data[${hex(data)}]`);
		},
	};
}

/** luo_subsystem_idx(): the slot of the registered test subsystem `name`, else EINVAL. */
function luo_subsystem_idx(kernel: Kernel, name: string): number {
	const i = table(kernel).findIndex((s) => s !== null && s.name === name);
	if (i < 0) {
		kernel.pr_warn(`${PR}Subsystem with name '${name}' is not registred`);
		throw new Errno(EINVAL);
	}
	return i;
}

function freeSlot(kernel: Kernel, i: number): void {
	const t = table(kernel);
	kernel.buddy.__free_pages(t[i]!.dataPfn, 0);
	t[i] = null;
}

/** LUO_CMD_SUBSYSTEM_REGISTER: a zeroed page filled from `data_page` (EFAULT), a free slot (ENOMEM), then registration. */
function luo_cmd_subsystem_register(kernel: Kernel, p: Process, argp: number): void {
	const arg = luo_arg_subsystem.fromUser(p.mm, argp);
	const pfn = kernel.buddy.alloc_pages(0);
	if (pfn === null) {
		kernel.pr_warn(`${PR}Failed to allocate memory for subsystem data`);
		throw new Errno(ENOMEM);
	}
	const page = kernel.machine.physmem.page(pfn);
	try {
		page.set(p.mm.copyFromUser(arg.data_page, PAGE_SIZE));
	} catch (e) {
		kernel.buddy.__free_pages(pfn, 0);
		if (e instanceof Errno) throw new Errno(EFAULT);
		throw e;
	}
	const t = table(kernel);
	const i = t.indexOf(null);
	if (i < 0) {
		kernel.buddy.__free_pages(pfn, 0);
		kernel.pr_warn(`${PR}Maximum number of subsystems registered`);
		throw new Errno(ENOMEM);
	}
	// strscpy(name, arg.name, LUO_NAME_LENGTH): at most 31 characters and the NUL.
	const name = arg.name.slice(0, LUO_NAME_LENGTH - 1);
	const s: TestSubsystem = { handle: testHandle(name, pfn), name, dataPfn: pfn };
	t[i] = s;
	try {
		liveupdate_register_subsystem(kernel, s.handle);
	} catch (e) {
		freeSlot(kernel, i);
		throw e;
	}
}

/** LUO_CMD_SUBSYSTEM_UNREGISTER: EINVAL for an unknown name, else LUO's unregister error or the slot freed. */
function luo_cmd_subsystem_unregister(kernel: Kernel, p: Process, argp: number): void {
	const arg = luo_arg_subsystem.fromUser(p.mm, argp);
	const i = luo_subsystem_idx(kernel, arg.name);
	liveupdate_unregister_subsystem(kernel, table(kernel)[i]!.handle);
	freeSlot(kernel, i);
}

/** LUO_CMD_SUBSYSTEM_GETDATA: EINVAL for an unknown name, EFAULT for a bad `data_page`. */
function luo_cmd_subsystem_getdata(kernel: Kernel, p: Process, argp: number): void {
	const arg = luo_arg_subsystem.fromUser(p.mm, argp);
	const i = luo_subsystem_idx(kernel, arg.name);
	p.mm.copyToUser(arg.data_page, kernel.machine.physmem.read(PFN_PHYS(table(kernel)[i]!.dataPfn), PAGE_SIZE));
}

/**
 * luo_ioctl_selftests(): EOPNOTSUPP without CONFIG_LIVEUPDATE_SELFTESTS;
 * EFAULT for a bad `struct liveupdate_selftest` or argument; ENOTTY for an
 * unknown LUO_CMD_*; else the command's result (0 or a thrown Errno).
 */
export function luo_ioctl_selftests(kernel: Kernel, p: Process, argp: number): number {
	if (!kernel.config.LIVEUPDATE_SELFTESTS) throw new Errno(EOPNOTSUPP);
	const st = liveupdate_selftest.fromUser(p.mm, argp);
	const cmdArgp = Number(BigInt.asIntN(64, st.arg));
	switch (st.cmd) {
		case BigInt(LUO_CMD_SUBSYSTEM_REGISTER):
			luo_cmd_subsystem_register(kernel, p, cmdArgp);
			break;
		case BigInt(LUO_CMD_SUBSYSTEM_UNREGISTER):
			luo_cmd_subsystem_unregister(kernel, p, cmdArgp);
			break;
		case BigInt(LUO_CMD_SUBSYSTEM_GETDATA):
			luo_cmd_subsystem_getdata(kernel, p, cmdArgp);
			break;
		default:
			kernel.pr_warn(`${PR}ioctl: unknown self-test command nr: 0x${hex(st.cmd)}`);
			throw new Errno(ENOTTY);
	}
	return 0;
}
