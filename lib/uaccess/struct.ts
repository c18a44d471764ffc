/**
 * C struct layouts with the x86_64 System V ABI's natural alignment: what
 * `sizeof`, `offsetof` and the struct's bytes are in C, so that ioctl
 * arguments and syscall structs cross user memory exactly as gcc lays them
 * out (checked against gcc by abiCheck.test.ts).
 *
 *     const pollfd = struct("pollfd", { fd: s32, events: s16, revents: s16 });
 *     sizeof(pollfd)                   // 8
 *     offsetof(pollfd, "revents")      // 6
 *     const b = pollfd.encode({ fd: 3, events: POLLIN });   // missing fields are 0
 *     pollfd.decode(b).revents         // 0
 *     pollfd.view(b).set("revents", POLLIN);                // one field in place
 *     const arg = pollfd.fromUser(p.mm, addr);              // kernel side: EFAULT
 *
 * Field types: u8 u16 u32 s8 s16 s32 (numbers), u64 s64 (bigint; a safe
 * integer number is accepted when encoding), `ptr` (8 bytes, a number: an
 * address, or -1 for `(void *)-1`), `char(n)` (a string, NUL padded; decode
 * stops at the first NUL), `bytes(n)` (a Uint8Array), `array(type, n)`,
 * nested structs and unions. Integers are stored as C converts them
 * (modulo 2^bits: `-1` in a u32 is 0xffffffff); a non-integer, an unknown
 * field name or a string longer than its `char[n]` is a programming error
 * and throws (pass `{ truncate: true }` for strncpy's silent cut).
 */
import type { AddressSpace } from "./addressSpace.ts";

/** Options of encode/set. */
export interface EncodeOptions {
	/** Cut strings longer than their `char[n]` to n bytes, as strncpy does, instead of throwing. */
	truncate?: boolean;
}

/** A C type: its size and alignment, and how a value is read from and written to bytes. */
export interface CType<T, I = T> {
	/** The C spelling, for messages ("u32", "char[16]", "struct pollfd"). */
	readonly cName: string;
	readonly size: number;
	readonly align: number;
	read(dv: DataView, off: number): T;
	/** Writes `v` at `off` into bytes that are zero already. */
	write(dv: DataView, off: number, v: I, opts: EncodeOptions): void;
}

/** Any C type (the constraint for struct fields). */
export type AnyCType = CType<unknown, never>;
/** The decoded value of a C type. */
export type ValueOf<C extends AnyCType> = ReturnType<C["read"]>;
/** What encode accepts for a C type. */
export type InputOf<C extends AnyCType> = Parameters<C["write"]>[2];
/** Struct fields, in declaration order. */
export type Fields = Record<string, AnyCType>;
/** A decoded struct. */
export type StructValues<F extends Fields> = { -readonly [K in keyof F]: ValueOf<F[K]> };
/** Input of encode: every field optional (missing means zero). */
export type StructInput<F extends Fields> = { [K in keyof F]?: InputOf<F[K]> };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function dataView(bytes: Uint8Array): DataView {
	return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkInt(v: number, cName: string): void {
	if (!Number.isInteger(v)) throw new TypeError(`${cName}: ${String(v)} is not an integer`);
}

function intType(cName: string, size: 1 | 2 | 4, signed: boolean): CType<number> {
	const read: (dv: DataView, off: number) => number =
		size === 1 ? (signed ? (dv, o) => dv.getInt8(o) : (dv, o) => dv.getUint8(o))
		: size === 2 ? (signed ? (dv, o) => dv.getInt16(o, true) : (dv, o) => dv.getUint16(o, true))
		: signed ? (dv, o) => dv.getInt32(o, true) : (dv, o) => dv.getUint32(o, true);
	const write: (dv: DataView, off: number, v: number) => void =
		size === 1 ? (dv, o, v) => dv.setUint8(o, v) : size === 2 ? (dv, o, v) => dv.setUint16(o, v, true) : (dv, o, v) => dv.setUint32(o, v, true);
	return {
		cName,
		size,
		align: size,
		read,
		write(dv, off, v): void {
			checkInt(v, cName);
			write(dv, off, v);
		},
	};
}

function int64Type(cName: string, signed: boolean): CType<bigint, bigint | number> {
	return {
		cName,
		size: 8,
		align: 8,
		read: signed ? (dv, off) => dv.getBigInt64(off, true) : (dv, off) => dv.getBigUint64(off, true),
		write(dv, off, v): void {
			if (typeof v === "number") checkInt(v, cName);
			dv.setBigUint64(off, BigInt.asUintN(64, BigInt(v)), true);
		},
	};
}

/** Unsigned 8-bit integer (a number). */
export const u8 = intType("u8", 1, false);
/** Unsigned 16-bit integer (a number). */
export const u16 = intType("u16", 2, false);
/** Unsigned 32-bit integer (a number). */
export const u32 = intType("u32", 4, false);
/** Signed 8-bit integer (a number). */
export const s8 = intType("s8", 1, true);
/** Signed 16-bit integer (a number). */
export const s16 = intType("s16", 2, true);
/** Signed 32-bit integer (a number). */
export const s32 = intType("s32", 4, true);
/** Unsigned 64-bit integer (a bigint). */
export const u64 = int64Type("u64", false);
/** Signed 64-bit integer (a bigint). */
export const s64 = int64Type("s64", true);

/** A pointer (`void *`): 8 bytes; a user address as a number, `(void *)-1` as -1. */
export const ptr: CType<number> = {
	cName: "ptr",
	size: 8,
	align: 8,
	read: (dv, off) => Number(dv.getBigInt64(off, true)),
	write(dv, off, v): void {
		if (!Number.isSafeInteger(v)) throw new TypeError(`ptr: ${String(v)} is not an address`);
		dv.setBigInt64(off, BigInt(v), true);
	},
};

/** The kernel's uAPI spellings (include/uapi/asm-generic/int-ll64.h, linux/types.h). */
export { u8 as __u8, u16 as __u16, u32 as __u32, u64 as __u64, s8 as __s8, s16 as __s16, s32 as __s32, s64 as __s64 };
/** `__aligned_u64`: a u64 aligned to 8, which every u64 is on x86_64. */
export const __aligned_u64 = u64;
/** C's own type names on x86_64 (LP64), for `_IOR('f', 1, long)` and struct text. */
export { s16 as short, u16 as ushort, s32 as int, u32 as uint, s64 as long, u64 as ulong, u64 as size_t, s64 as ssize_t };

/** `char name[n]`: a string, NUL padded; `char(0)` is a flexible array member (decodes as ""). */
export function char(n: number): CType<string, string | Uint8Array> {
	checkCount(n);
	const cName = `char[${n}]`;
	return {
		cName,
		size: n,
		align: 1,
		read(dv, off): string {
			const b = new Uint8Array(dv.buffer, dv.byteOffset + off, n);
			const nul = b.indexOf(0);
			return decoder.decode(nul < 0 ? b : b.subarray(0, nul));
		},
		write(dv, off, v, opts): void {
			let b = typeof v === "string" ? encoder.encode(v) : v;
			if (b.length > n) {
				if (opts.truncate !== true) throw new RangeError(`${cName}: ${JSON.stringify(typeof v === "string" ? v : "<bytes>")} is ${b.length} bytes, longer than ${n} (pass { truncate: true } for strncpy's cut)`);
				b = b.subarray(0, n);
			}
			new Uint8Array(dv.buffer, dv.byteOffset + off, n).set(b);
		},
	};
}

/** `__u8 data[n]` as raw bytes (a copy on decode; shorter input is zero padded, longer throws). */
export function bytes(n: number): CType<Uint8Array, Uint8Array | readonly number[]> {
	checkCount(n);
	const cName = `u8[${n}]`;
	return {
		cName,
		size: n,
		align: 1,
		read: (dv, off) => new Uint8Array(dv.buffer, dv.byteOffset + off, n).slice(),
		write(dv, off, v): void {
			if (v.length > n) throw new RangeError(`${cName}: ${v.length} bytes do not fit`);
			new Uint8Array(dv.buffer, dv.byteOffset + off, n).set(v);
		},
	};
}

/** `type name[n]`: a JS array of n elements (shorter input leaves the rest zero, longer throws). */
export function array<T, I>(type: CType<T, I>, n: number): CType<T[], readonly I[]> {
	checkCount(n);
	const cName = `${type.cName}[${n}]`;
	return {
		cName,
		size: type.size * n,
		align: type.align,
		read(dv, off): T[] {
			const out: T[] = [];
			for (let i = 0; i < n; i++) out.push(type.read(dv, off + i * type.size));
			return out;
		},
		write(dv, off, v, opts): void {
			if (v.length > n) throw new RangeError(`${cName}: ${v.length} elements do not fit`);
			for (let i = 0; i < v.length; i++) type.write(dv, off + i * type.size, v[i]!, opts);
		},
	};
}

function checkCount(n: number): void {
	if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`array length ${String(n)}`);
}

/** The user-memory side of an AddressSpace that struct copies need. */
export type UserMemory = Pick<AddressSpace, "copyFromUser" | "copyToUser">;

/** One laid-out member. */
export interface Member {
	readonly name: string;
	readonly type: AnyCType;
	readonly offset: number;
}

/** Layout options: GCC's `__attribute__((packed))` and `__attribute__((aligned(n)))`. */
export interface StructOptions {
	packed?: boolean;
	aligned?: number;
}

/** A struct or union layout; itself a CType, so it nests. */
export class Struct<F extends Fields> implements CType<StructValues<F>, StructInput<F>> {
	readonly cName: string;
	readonly size: number;
	readonly align: number;
	readonly members: readonly Member[];
	private readonly byName = new Map<string, Member>();

	constructor(readonly name: string, readonly fields: F, readonly isUnion: boolean, opts: StructOptions = {}) {
		this.cName = `${isUnion ? "union" : "struct"} ${name}`;
		let off = 0;
		let size = 0;
		let align = 1;
		const members: Member[] = [];
		for (const [fname, type] of Object.entries(fields)) {
			const a = opts.packed === true ? 1 : type.align;
			if (!isUnion) off = Math.ceil(off / a) * a;
			const m = { name: fname, type, offset: isUnion ? 0 : off };
			members.push(m);
			this.byName.set(fname, m);
			if (isUnion) size = Math.max(size, type.size);
			else size = off = off + type.size;
			align = Math.max(align, a);
		}
		if (opts.aligned !== undefined) align = Math.max(align, opts.aligned);
		this.members = members;
		this.align = align;
		this.size = Math.ceil(size / align) * align;
	}

	/** The member called `name`; throws for a name the struct does not have. */
	member(name: string): Member {
		const m = this.byName.get(name);
		if (m === undefined) throw new TypeError(`${this.cName} has no member "${name}"`);
		return m;
	}

	/** offsetof(): also "a.b" for a member of a nested struct. */
	offsetOf(path: (keyof F & string) | `${string}.${string}`): number {
		let t: AnyCType = this;
		let off = 0;
		for (const part of path.split(".")) {
			if (!(t instanceof Struct)) throw new TypeError(`${this.cName}: "${path}" goes through ${t.cName}`);
			const m: Member = t.member(part);
			off += m.offset;
			t = m.type;
		}
		return off;
	}

	read(dv: DataView, off: number): StructValues<F> {
		const out: Record<string, unknown> = {};
		for (const m of this.members) out[m.name] = m.type.read(dv, off + m.offset);
		return out as StructValues<F>;
	}

	write(dv: DataView, off: number, v: StructInput<F>, opts: EncodeOptions): void {
		const given = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
		if (this.isUnion && given.length > 1) throw new TypeError(`${this.cName}: initialize one member, not ${given.join(", ")}`);
		for (const name of given) {
			const m = this.member(name);
			try {
				(m.type as CType<unknown, unknown>).write(dv, off + m.offset, (v as Record<string, unknown>)[name], opts);
			} catch (e) {
				if (e instanceof Error) throw new (e.constructor as ErrorConstructor)(`${this.cName}.${name}: ${e.message}`);
				throw e;
			}
		}
	}

	/** The struct's bytes (`sizeof` of them); missing fields are zero. */
	encode(values: StructInput<F> = {}, opts: EncodeOptions = {}): Uint8Array {
		const b = new Uint8Array(this.size);
		this.write(dataView(b), 0, values, opts);
		return b;
	}

	/** The struct at `offset` in `bytes` (RangeError if they are too short). */
	decode(bytes: Uint8Array, offset = 0): StructValues<F> {
		this.checkRoom(bytes, offset);
		return this.read(dataView(bytes), offset);
	}

	/** Field access in place over the struct at `offset` in `bytes`. */
	view(bytes: Uint8Array, offset = 0): StructView<F> {
		this.checkRoom(bytes, offset);
		return new StructView(this, bytes, offset);
	}

	/** copy_from_user() of the struct at user address `addr`, decoded (Errno EFAULT as the copy throws it). */
	fromUser(mm: UserMemory, addr: number): StructValues<F> {
		return this.read(dataView(mm.copyFromUser(addr, this.size)), 0);
	}

	/** copy_to_user() of the encoded struct to `addr` (all of it, missing fields zero; EFAULT). */
	toUser(mm: UserMemory, addr: number, values: StructInput<F>, opts: EncodeOptions = {}): void {
		mm.copyToUser(addr, this.encode(values, opts));
	}

	private checkRoom(bytes: Uint8Array, offset: number): void {
		if (!Number.isSafeInteger(offset) || offset < 0 || bytes.length - offset < this.size) {
			throw new RangeError(`${this.cName}: needs ${this.size} bytes at offset ${offset}, the buffer has ${bytes.length}`);
		}
	}
}

/** A struct in a byte buffer, read and written one field at a time. */
export class StructView<F extends Fields> {
	private readonly dv: DataView;

	constructor(readonly layout: Struct<F>, readonly bytes: Uint8Array, readonly offset = 0) {
		this.dv = dataView(bytes);
	}

	/** The value of one field. */
	get<K extends keyof F & string>(name: K): ValueOf<F[K]> {
		const m = this.layout.member(name);
		return m.type.read(this.dv, this.offset + m.offset) as ValueOf<F[K]>;
	}

	/** Sets one field (a nested struct field is replaced whole: its missing members become zero). */
	set<K extends keyof F & string>(name: K, value: InputOf<F[K]>, opts: EncodeOptions = {}): void {
		const m = this.layout.member(name);
		const off = this.offset + m.offset;
		this.bytes.fill(0, off, off + m.type.size);
		this.layout.write(this.dv, this.offset, { [name]: value } as StructInput<F>, opts);
	}
}

/** Defines `struct name { fields }` (fields in declaration order). */
export function struct<F extends Fields>(name: string, fields: F, opts?: StructOptions): Struct<F> {
	return new Struct(name, fields, false, opts);
}

/** Defines `union name { fields }`: every member at offset 0; encode takes at most one. */
export function union<F extends Fields>(name: string, fields: F, opts?: StructOptions): Struct<F> {
	return new Struct(name, fields, true, opts);
}

/** sizeof(type). */
export function sizeof(type: { readonly size: number }): number {
	return type.size;
}

/** _Alignof(type). */
export function alignof(type: { readonly align: number }): number {
	return type.align;
}

/** offsetof(struct, member); "a.b" reaches into a nested struct. */
export function offsetof<F extends Fields>(layout: Struct<F>, member: (keyof F & string) | `${string}.${string}`): number {
	return layout.offsetOf(member);
}
