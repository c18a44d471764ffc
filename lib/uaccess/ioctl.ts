/**
 * ioctl command numbers (include/uapi/asm-generic/ioctl.h, which x86 uses):
 * direction, size, type and number packed into 32 bits. Every command is
 * an unsigned 32-bit number, as C's `unsigned int` expression is:
 * `_IOWR(0xBA, 0, 16) === 0xC010BA00`.
 *
 * `type` may be written as in C, a one-character string: `_IOR("f", 1, long)`.
 * `size` is a byte count or anything with a `size` (a struct layout or a C
 * type from struct.ts), standing for C's `sizeof(type)`. Beware when
 * translating: C's third argument is always a type, so C's
 * `_IOWR(0xBA, 0, 16)` is `sizeof(int)` = 4 bytes (0xC004BA00), while TS
 * `_IOWR(0xBA, 0, 16)` means 16 bytes (0xC010BA00); write `int` for the former.
 */

/** Field widths, masks and shifts of a command number (nr, type, size, dir from bit 0 up). */
export const _IOC_NRBITS = 8;
export const _IOC_TYPEBITS = 8;
export const _IOC_SIZEBITS = 14;
export const _IOC_DIRBITS = 2;

export const _IOC_NRMASK = (1 << _IOC_NRBITS) - 1;
export const _IOC_TYPEMASK = (1 << _IOC_TYPEBITS) - 1;
export const _IOC_SIZEMASK = (1 << _IOC_SIZEBITS) - 1;
export const _IOC_DIRMASK = (1 << _IOC_DIRBITS) - 1;

export const _IOC_NRSHIFT = 0;
export const _IOC_TYPESHIFT = _IOC_NRSHIFT + _IOC_NRBITS;
export const _IOC_SIZESHIFT = _IOC_TYPESHIFT + _IOC_TYPEBITS;
export const _IOC_DIRSHIFT = _IOC_SIZESHIFT + _IOC_SIZEBITS;

/** No data transfer. */
export const _IOC_NONE = 0;
/** User space writes, the kernel reads (copy_from_user). */
export const _IOC_WRITE = 1;
/** User space reads, the kernel writes (copy_to_user). */
export const _IOC_READ = 2;

/** The ioctl type: a number 0..255 or a one-character string ('f'). */
export type IocType = number | string;
/** The ioctl argument size: bytes, or a type whose `size` is its sizeof. */
export type IocSize = number | { readonly size: number };

function field(what: string, v: number, mask: number): number {
	if (!Number.isInteger(v) || v < 0 || v > mask) throw new RangeError(`ioctl ${what} ${String(v)} does not fit in ${Math.log2(mask + 1)} bits`);
	return v;
}

function typeNum(type: IocType): number {
	if (typeof type === "number") return type;
	if (type.length !== 1) throw new RangeError(`ioctl type ${JSON.stringify(type)} is not one character`);
	return type.charCodeAt(0);
}

function sizeNum(size: IocSize): number {
	return typeof size === "number" ? size : size.size;
}

/** _IOC(dir, type, nr, size): the command number (a RangeError for a field that does not fit, C's _IOC_TYPECHECK). */
export function _IOC(dir: number, type: IocType, nr: number, size: IocSize): number {
	return (
		((field("dir", dir, _IOC_DIRMASK) << _IOC_DIRSHIFT) |
			(field("type", typeNum(type), _IOC_TYPEMASK) << _IOC_TYPESHIFT) |
			(field("nr", nr, _IOC_NRMASK) << _IOC_NRSHIFT) |
			(field("size", sizeNum(size), _IOC_SIZEMASK) << _IOC_SIZESHIFT)) >>>
		0
	);
}

/** _IO(type, nr): no argument. */
export function _IO(type: IocType, nr: number): number {
	return _IOC(_IOC_NONE, type, nr, 0);
}

/** _IOR(type, nr, size): the kernel writes `size` bytes to user space. */
export function _IOR(type: IocType, nr: number, size: IocSize): number {
	return _IOC(_IOC_READ, type, nr, size);
}

/** _IOW(type, nr, size): the kernel reads `size` bytes from user space. */
export function _IOW(type: IocType, nr: number, size: IocSize): number {
	return _IOC(_IOC_WRITE, type, nr, size);
}

/** _IOWR(type, nr, size): both directions. */
export function _IOWR(type: IocType, nr: number, size: IocSize): number {
	return _IOC(_IOC_READ | _IOC_WRITE, type, nr, size);
}

/** _IOC_DIR(nr): the direction bits of a command. */
export function _IOC_DIR(nr: number): number {
	return (nr >>> _IOC_DIRSHIFT) & _IOC_DIRMASK;
}

/** _IOC_TYPE(nr): the type byte of a command. */
export function _IOC_TYPE(nr: number): number {
	return (nr >>> _IOC_TYPESHIFT) & _IOC_TYPEMASK;
}

/** _IOC_NR(nr): the number byte of a command. */
export function _IOC_NR(nr: number): number {
	return (nr >>> _IOC_NRSHIFT) & _IOC_NRMASK;
}

/** _IOC_SIZE(nr): the argument size of a command. */
export function _IOC_SIZE(nr: number): number {
	return (nr >>> _IOC_SIZESHIFT) & _IOC_SIZEMASK;
}

/** IOC_IN, IOC_OUT, IOC_INOUT, IOCSIZE_MASK, IOCSIZE_SHIFT (the same header, for drivers that test them). */
export const IOC_IN = (_IOC_WRITE << _IOC_DIRSHIFT) >>> 0;
export const IOC_OUT = (_IOC_READ << _IOC_DIRSHIFT) >>> 0;
export const IOC_INOUT = ((_IOC_WRITE | _IOC_READ) << _IOC_DIRSHIFT) >>> 0;
export const IOCSIZE_MASK = (_IOC_SIZEMASK << _IOC_SIZESHIFT) >>> 0;
export const IOCSIZE_SHIFT = _IOC_SIZESHIFT;
