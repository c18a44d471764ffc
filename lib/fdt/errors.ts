/**
 * libfdt's error codes and `fdt_strerror()` (scripts/dtc/libfdt/libfdt.h,
 * fdt_strerror.c; dtc v1.8.1). libfdt functions return these negated
 * (`-FDT_ERR_NOSPACE`); they are not errnos and never pass through `Errno`:
 * a kernel caller that ORs or returns them (KHO's `kho_add_subtree`) hands
 * out the libfdt number itself, as the C does.
 */

/** The requested node or property does not exist. */
export const FDT_ERR_NOTFOUND = 1;
/** Attempted to create a node or property which already exists. */
export const FDT_ERR_EXISTS = 2;
/** The buffer is too small for the operation (expand it and retry). */
export const FDT_ERR_NOSPACE = 3;
/** An offset that does not point at the expected tag (or is out of range). */
export const FDT_ERR_BADOFFSET = 4;
/** A badly formatted path. */
export const FDT_ERR_BADPATH = 5;
/** An invalid phandle (0 or -1). */
export const FDT_ERR_BADPHANDLE = 6;
/** An incomplete tree, or a sequential-write call out of order. */
export const FDT_ERR_BADSTATE = 7;
/** The blob, or one of its blocks, is cut short. */
export const FDT_ERR_TRUNCATED = 8;
/** Not a device tree (wrong magic). */
export const FDT_ERR_BADMAGIC = 9;
/** A version this library cannot handle. */
export const FDT_ERR_BADVERSION = 10;
/** Corrupt structure block (bad tag sequence). */
export const FDT_ERR_BADSTRUCTURE = 11;
/** Blocks not in the order read-write functions need (use fdt_open_into()). */
export const FDT_ERR_BADLAYOUT = 12;
/** libfdt failed an internal assertion. */
export const FDT_ERR_INTERNAL = 13;
/** Bad #address-cells or #size-cells. */
export const FDT_ERR_BADNCELLS = 14;
/** A property with an unexpected value (e.g. a string list not NUL-terminated). */
export const FDT_ERR_BADVALUE = 15;
/** A bad overlay. */
export const FDT_ERR_BADOVERLAY = 16;
/** No phandle left to allocate. */
export const FDT_ERR_NOPHANDLES = 17;
/** Unknown flags passed to fdt_create_with_flags(). */
export const FDT_ERR_BADFLAGS = 18;
/** The blob's base address is not 8-byte aligned (here: its `byteOffset`). */
export const FDT_ERR_ALIGNMENT = 19;
/** The highest libfdt error number. */
export const FDT_ERR_MAX = 19;

const FDT_ERRTABLE: readonly string[] = [
	"",
	"FDT_ERR_NOTFOUND",
	"FDT_ERR_EXISTS",
	"FDT_ERR_NOSPACE",
	"FDT_ERR_BADOFFSET",
	"FDT_ERR_BADPATH",
	"FDT_ERR_BADPHANDLE",
	"FDT_ERR_BADSTATE",
	"FDT_ERR_TRUNCATED",
	"FDT_ERR_BADMAGIC",
	"FDT_ERR_BADVERSION",
	"FDT_ERR_BADSTRUCTURE",
	"FDT_ERR_BADLAYOUT",
	"FDT_ERR_INTERNAL",
	"FDT_ERR_BADNCELLS",
	"FDT_ERR_BADVALUE",
	"FDT_ERR_BADOVERLAY",
	"FDT_ERR_NOPHANDLES",
	"FDT_ERR_BADFLAGS",
	"FDT_ERR_ALIGNMENT",
];

/**
 * fdt_strerror(errval): the error's name ("FDT_ERR_NOSPACE" for -3),
 * "<valid offset/length>" for a positive value, "<no error>" for 0 and
 * "<unknown error>" otherwise, exactly as fdt_strerror.c.
 */
export function fdt_strerror(errval: number): string {
	if (errval > 0) return "<valid offset/length>";
	if (errval === 0) return "<no error>";
	const s = FDT_ERRTABLE[-errval];
	return s !== undefined && s !== "" ? s : "<unknown error>";
}
