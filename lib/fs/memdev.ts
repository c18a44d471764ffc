/**
 * The memory devices, major 1 (drivers/char/mem.c, with /dev/random and
 * /dev/urandom from drivers/char/random.c and /dev/kmsg from
 * kernel/printk/printk.c), as in Linux 6.15:
 *
 * | node          | dev  | mode | read              | write          | lseek            |
 * |---------------|------|------|-------------------|----------------|------------------|
 * | /dev/null     | 1,3  | 0666 | EOF               | count          | f_pos = 0, 0     |
 * | /dev/zero     | 1,5  | 0666 | zeros             | count          | f_pos = 0, 0     |
 * | /dev/full     | 1,7  | 0666 | zeros             | ENOSPC         | f_pos = 0, 0     |
 * | /dev/random   | 1,8  | 0666 | PRNG bytes        | count (ignored)| f_pos unchanged  |
 * | /dev/urandom  | 1,9  | 0666 | PRNG bytes        | count (ignored)| f_pos unchanged  |
 * | /dev/kmsg     | 1,11 | 0644 | one log record    | logs a record  | devkmsg_llseek   |
 *
 * Other minors of major 1 (mem, kmem, port) are not modelled: opening them
 * is ENXIO, as memory_open() answers for a minor it lacks.
 *
 * Randomness is deterministic so runs repeat: one xoshiro128** stream per
 * kernel, seeded from the command line `luosim.seed=N` (kstrtoull base 0:
 * decimal, 0x hex or 0 octal) or DEFAULT_RANDOM_SEED. The crng is always
 * "ready", so /dev/random never blocks; writes are accepted and not mixed
 * in, so output depends on the seed alone. RNDGETENTCNT and the other
 * random ioctls are not modelled (ENOTTY).
 */
import { Errno, EAGAIN, EINVAL, ENOSPC, ENXIO, EPERM, EPIPE, ESPIPE } from "../kernel/errno.ts";
import { DEFAULT_MESSAGE_LOGLEVEL, formatKmsgRecord } from "../kernel/printk.ts";
import { WaitQueue } from "../kernel/waitqueue.ts";
import { NSEC_PER_SEC } from "../kernel/clock.ts";
import { currentOrNull } from "../kernel/current.ts";
import { kstrtoull } from "../kernel/kstrtox.ts";
import { makedev, minor } from "./inode.ts";
import { devnodeCreate, registerChrdev } from "./chrdev.ts";
import { POLLERR, POLLIN, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM } from "./poll.ts";
import type { File, FileOperations, PollTable } from "./file.ts";
import type { Inode } from "./inode.ts";
import type { Kernel } from "../kernel/kernel.ts";

/** MEM_MAJOR (include/uapi/linux/major.h). */
export const MEM_MAJOR = 1;
/** The seed used when the command line has no valid `luosim.seed=`. */
export const DEFAULT_RANDOM_SEED = 0x6c756f73696dn;
/** PRINTKRB_RECORD_MAX: the longest /dev/kmsg write. */
export const PRINTKRB_RECORD_MAX = 1024;
/** DEFAULT_RATELIMIT_INTERVAL (5 s) and DEFAULT_RATELIMIT_BURST (10) of a /dev/kmsg writer. */
const RATELIMIT_INTERVAL_NS = 5 * NSEC_PER_SEC;
const RATELIMIT_BURST = 10;
const LOG_USER_FACILITY = 1;
/** lseek whences devkmsg_llseek knows (include/uapi/linux/fs.h). */
const SEEK_SET = 0;
const SEEK_END = 2;
const SEEK_DATA = 3;

/** The deterministic random stream of one kernel (xoshiro128**, seeded by splitmix64). */
class Xoshiro128 {
	private s = new Uint32Array(4);

	constructor(seed: bigint) {
		let x = BigInt.asUintN(64, seed);
		for (let i = 0; i < 2; i++) {
			x = BigInt.asUintN(64, x + 0x9e3779b97f4a7c15n);
			let z = x;
			z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
			z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
			z ^= z >> 31n;
			this.s[2 * i] = Number(z & 0xffffffffn);
			this.s[2 * i + 1] = Number(z >> 32n);
		}
	}

	next(): number {
		const s = this.s;
		const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
		const t = s[1] << 9;
		s[2] ^= s[0];
		s[3] ^= s[1];
		s[1] ^= s[2];
		s[0] ^= s[3];
		s[2] ^= t;
		s[3] = rotl(s[3], 11);
		return result;
	}

	fill(out: Uint8Array): void {
		for (let i = 0; i < out.length; i += 4) {
			const v = this.next();
			for (let j = 0; j < 4 && i + j < out.length; j++) out[i + j] = (v >>> (8 * j)) & 0xff;
		}
	}
}

function rotl(x: number, k: number): number {
	return (x << k) | (x >>> (32 - k));
}

/** printk.devkmsg= (kernel/printk/printk.c devkmsg_log). */
type DevkmsgMode = "on" | "off" | "ratelimit";

interface MemState {
	rng: Xoshiro128;
	/** log_wait: woken for every new printk record. */
	logWait: WaitQueue;
	devkmsg: DevkmsgMode;
}

const states = new WeakMap<Kernel, MemState>();

function memState(kernel: Kernel): MemState {
	let st = states.get(kernel);
	if (st) return st;
	const raw = kernel.cmdline.get("luosim.seed");
	let seed = DEFAULT_RANDOM_SEED;
	if (typeof raw === "string") {
		try {
			seed = kstrtoull(raw, 0);
		} catch (e) {
			if (!(e instanceof Errno)) throw e;
			kernel.pr_warn(`luosim: invalid luosim.seed=${raw}, using the default seed`);
		}
	}
	const dk = kernel.cmdline.get("printk.devkmsg");
	const logWait = new WaitQueue();
	kernel.log.onRecord(() => logWait.wakeUp(POLLIN | POLLRDNORM));
	st = { rng: new Xoshiro128(seed), logWait, devkmsg: dk === "on" || dk === "off" ? dk : "ratelimit" };
	states.set(kernel, st);
	return st;
}

/** get_random_bytes(): `n` bytes of the kernel's deterministic random stream (for getrandom(2) too). */
export function getRandomBytes(kernel: Kernel, n: number): Uint8Array {
	const out = new Uint8Array(n);
	memState(kernel).rng.fill(out);
	return out;
}

/** null_lseek(), also zero_lseek and full_lseek. */
function nullLseek(file: File): number {
	file.f_pos = 0;
	return 0;
}

/** noop_llseek(). */
function noopLlseek(file: File): number {
	return file.f_pos;
}

const nullFops: FileOperations = {
	read: () => new Uint8Array(0),
	write: (_file, data) => data.length,
	llseek: nullLseek,
};

const zeroFops: FileOperations = {
	read: (_file, count) => new Uint8Array(count),
	write: (_file, data) => data.length,
	llseek: nullLseek,
};

const fullFops: FileOperations = {
	read: (_file, count) => new Uint8Array(count),
	write: () => {
		throw new Errno(ENOSPC);
	},
	llseek: nullLseek,
};

function randomFops(kernel: Kernel, withPoll: boolean): FileOperations {
	const fops: FileOperations = {
		read: (_file, count) => getRandomBytes(kernel, count),
		write: (_file, data) => data.length,
		llseek: noopLlseek,
	};
	// random_poll: the crng is ready, so always readable and writable; urandom has no poll (DEFAULT_POLLMASK, the same bits).
	if (withPoll) fops.poll = () => POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
	return fops;
}

/** struct devkmsg_user: one /dev/kmsg open file's reader position and write ratelimit. */
interface DevkmsgUser {
	seq: number;
	rsBegin: number | null;
	rsPrinted: number;
	rsMissed: number;
}

function firstValidSeq(kernel: Kernel): number {
	return kernel.log.all()[0]?.seq ?? kernel.log.next;
}

/** ___ratelimit() for a /dev/kmsg writer (RATELIMIT_MSG_ON_RELEASE: the summary is printed at close). */
function ratelimitOk(kernel: Kernel, u: DevkmsgUser): boolean {
	const now = kernel.clock.nowNs();
	if (u.rsBegin === null || now >= u.rsBegin + RATELIMIT_INTERVAL_NS) {
		u.rsBegin = now;
		u.rsPrinted = 0;
	}
	if (u.rsPrinted < RATELIMIT_BURST) {
		u.rsPrinted++;
		return true;
	}
	u.rsMissed++;
	return false;
}

/**
 * /dev/kmsg (Documentation/ABI/testing/dev-kmsg). Each open starts at the
 * oldest record. A read returns exactly one record in `formatKmsgRecord`
 * form: EINVAL if it does not fit in `count` (the record is skipped, as
 * Linux does), EPIPE once when records were overwritten since the last
 * read (the next read returns the oldest one left), EAGAIN when there is
 * nothing new. Driver reads never sleep in luosim (as for pipes): without
 * O_NONBLOCK an empty /dev/kmsg is EAGAIN too, where Linux would block;
 * programs poll() for POLLIN first, and poll sleeps. Reading needs no
 * privilege (dmesg_restrict=0). A write of at most PRINTKRB_RECORD_MAX
 * bytes logs one record: a leading `<N>` gives level N&7 and facility N>>3
 * (LOG_USER when 0 or absent), the default level otherwise; writers are
 * ratelimited (10 records per 5 s per open file) unless `printk.devkmsg=on`,
 * and `printk.devkmsg=off` makes open EPERM.
 */
function kmsgFops(kernel: Kernel): FileOperations {
	const st = memState(kernel);
	const user = (file: File): DevkmsgUser => file.private_data as DevkmsgUser;
	return {
		open: (_inode: Inode, file: File): void => {
			if (st.devkmsg === "off") throw new Errno(EPERM);
			file.private_data = { seq: firstValidSeq(kernel), rsBegin: null, rsPrinted: 0, rsMissed: 0 } satisfies DevkmsgUser;
		},
		release: (_inode: Inode, file: File): void => {
			const u = user(file);
			if (u.rsMissed > 0) {
				const comm = currentOrNull()?.comm ?? file.opener?.comm ?? "kernel";
				kernel.pr_warn(`${comm}: ${u.rsMissed} output lines suppressed due to ratelimiting`);
			}
		},
		read: (file: File, count: number): Uint8Array => {
			const u = user(file);
			const { record, dropped } = kernel.log.from(u.seq);
			if (!record) throw new Errno(EAGAIN);
			if (dropped) {
				u.seq = record.seq;
				throw new Errno(EPIPE);
			}
			u.seq = record.seq + 1;
			const out = new TextEncoder().encode(formatKmsgRecord(record));
			if (out.length > count) throw new Errno(EINVAL);
			return out;
		},
		write: (file: File, data: Uint8Array): number => {
			const len = data.length;
			if (len > PRINTKRB_RECORD_MAX) throw new Errno(EINVAL);
			if (st.devkmsg === "off") return len;
			if (st.devkmsg === "ratelimit" && !ratelimitOk(kernel, user(file))) return len;
			const nul = data.indexOf(0);
			let text = new TextDecoder().decode(nul >= 0 ? data.subarray(0, nul) : data);
			let level = DEFAULT_MESSAGE_LOGLEVEL;
			let facility = LOG_USER_FACILITY;
			const m = /^<([0-9]*)>/.exec(text);
			if (m) {
				// simple_strtoul into an unsigned int: keep the low 32 bits.
				let u = 0;
				for (const c of m[1]!) u = (u * 10 + (c.charCodeAt(0) - 48)) % 0x1_0000_0000;
				level = u & 7;
				if (u >>> 3 !== 0) facility = u >>> 3;
				text = text.slice(m[0].length);
			}
			kernel.log.log(level, text, facility);
			return len;
		},
		llseek: (file: File, offset: number, whence: number): number => {
			if (offset !== 0) throw new Errno(ESPIPE);
			const u = user(file);
			if (whence === SEEK_SET) u.seq = firstValidSeq(kernel);
			// SEEK_DATA: the first record after the last SYSLOG_ACTION_CLEAR; luosim's clear drops the records, so that is the oldest one left.
			else if (whence === SEEK_DATA) u.seq = firstValidSeq(kernel);
			else if (whence === SEEK_END) u.seq = kernel.log.next;
			else throw new Errno(EINVAL);
			return 0;
		},
		poll: (file: File, pt: PollTable | null): number => {
			pt?.wait(st.logWait);
			const u = user(file);
			const { record } = kernel.log.from(u.seq);
			if (!record) return 0;
			return record.seq !== u.seq ? POLLIN | POLLRDNORM | POLLERR | POLLPRI : POLLIN | POLLRDNORM;
		},
	};
}

/** One entry of mem.c's devlist. */
interface Memdev {
	name: string;
	fops: FileOperations;
	mode: number;
}

/**
 * chr_dev_init(): registers major 1 ("mem") and creates the nodes of the
 * devices above. devtmpfsMount calls it once per kernel.
 */
export function memdevInit(kernel: Kernel): void {
	const devlist = new Map<number, Memdev>([
		[3, { name: "null", fops: nullFops, mode: 0o666 }],
		[5, { name: "zero", fops: zeroFops, mode: 0o666 }],
		[7, { name: "full", fops: fullFops, mode: 0o666 }],
		[8, { name: "random", fops: randomFops(kernel, true), mode: 0o666 }],
		[9, { name: "urandom", fops: randomFops(kernel, false), mode: 0o666 }],
		[11, { name: "kmsg", fops: kmsgFops(kernel), mode: 0o644 }],
	]);
	const memoryFops: FileOperations = {
		open: (inode: Inode, file: File): void => {
			const dev = devlist.get(minor(inode.rdev));
			if (!dev) throw new Errno(ENXIO);
			file.f_op = dev.fops;
			dev.fops.open?.(inode, file);
		},
	};
	registerChrdev(kernel, MEM_MAJOR, 0, "mem", memoryFops, { count: 256 });
	for (const [mi, dev] of devlist) devnodeCreate(kernel, dev.name, dev.mode, makedev(MEM_MAJOR, mi));
}
