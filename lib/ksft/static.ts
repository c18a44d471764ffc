/**
 * C objects with static storage duration (.data/.bss) for luosim programs:
 * kselftest.h's `static struct ksft_count ksft_cnt` and `ksft_plan`.
 *
 * In C such an object lives in the process image: zero when the program
 * starts, copied by fork(), gone after execve(). A JS module variable is
 * shared by every process of every kernel in the Node process, so the bytes
 * live in the calling process's own user memory instead: a block calloc'd
 * the first time a process image touches the object, tagged with a token
 * nobody else writes. A fork child finds its parent's block at the same
 * address (its memory is a copy, taken at fork time), recognizes the token
 * and keeps using its own copy; a process image that has no tagged block
 * (a fresh program, or one that exec'd) starts from zeroes. So the values a
 * child sees are exactly the parent's at the fork, as in C.
 *
 * Finding the block needs two things libc cannot express: the identity of
 * the process image (C gets it from the linker) and a read that does not
 * fault while probing an address. Both come from the kernel's Process.
 */
import { current } from "../kernel/current.ts";
import { Errno } from "../kernel/errno.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { Process } from "../kernel/process.ts";
import { calloc, peek, poke } from "../libc/mod.ts";

const TOKEN_LEN = 16;
const MAGIC = 0x6b736674_73746174n; // "ksftstat"

/** A block some process image created: where, and the token it starts with. */
interface Candidate {
	addr: number;
	token: Uint8Array;
}

let nextSerial = 1n;

function newToken(): Uint8Array {
	const t = new Uint8Array(TOKEN_LEN);
	const v = new DataView(t.buffer);
	v.setBigUint64(0, MAGIC, true);
	v.setBigUint64(8, nextSerial++, true);
	return t;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
	return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * One C object of `size` bytes with static storage duration. `addr()` is its
 * address in the calling process, valid until that process image ends.
 */
export class StaticObject {
	/** Per kernel: every block created so far (a fork child looks for one of them in its memory). */
	private readonly candidates = new WeakMap<Kernel, Candidate[]>();
	/** Per process image (its address space): the block's address once known. */
	private readonly known = new WeakMap<object, number>();

	constructor(readonly size: number) {}

	/** The object's address in the calling process (after the token). */
	addr(): number {
		const p = current();
		const cached = this.known.get(p.mm);
		if (cached !== undefined) return cached;
		const list = this.candidates.get(p.kernel) ?? [];
		this.candidates.set(p.kernel, list);
		const inherited = list.find((c) => holds(p, c));
		let base: number;
		if (inherited) base = inherited.addr;
		else {
			base = calloc(1, TOKEN_LEN + this.size);
			if (base === 0) throw new Error("luosim: no memory for a C static object");
			const token = newToken();
			poke(base, token);
			list.push({ addr: base, token });
		}
		this.known.set(p.mm, base + TOKEN_LEN);
		return base + TOKEN_LEN;
	}

	/** The object's bytes in the calling process (a copy). */
	read(): DataView {
		const b = peek(this.addr(), this.size);
		return new DataView(b.buffer, b.byteOffset, b.byteLength);
	}

	/** Stores `bytes` at `offset` in the calling process's object. */
	write(offset: number, bytes: Uint8Array): void {
		poke(this.addr() + offset, bytes);
	}
}

/** True if `p`'s memory holds candidate `c`'s token at its address (a read that cannot fault). */
function holds(p: Process, c: Candidate): boolean {
	try {
		return sameBytes(p.mm.copyFromUser(c.addr, TOKEN_LEN), c.token);
	} catch (e) {
		if (e instanceof Errno) return false;
		throw e;
	}
}
