import t from "tap";
import * as E from "./errors.ts";
import { fdt_strerror } from "./errors.ts";

const NAMES = [
	"NOTFOUND", "EXISTS", "NOSPACE", "BADOFFSET", "BADPATH", "BADPHANDLE", "BADSTATE", "TRUNCATED", "BADMAGIC", "BADVERSION",
	"BADSTRUCTURE", "BADLAYOUT", "INTERNAL", "BADNCELLS", "BADVALUE", "BADOVERLAY", "NOPHANDLES", "BADFLAGS", "ALIGNMENT",
];

t.test("error numbers are libfdt.h's, 1 to 19 in order", async (t) => {
	const table = E as unknown as Record<string, number>;
	NAMES.forEach((n, i) => t.equal(table[`FDT_ERR_${n}`], i + 1, n));
	t.equal(E.FDT_ERR_MAX, 19);
});

t.test("fdt_strerror names each negated error as fdt_strerror.c does", async (t) => {
	NAMES.forEach((n, i) => t.equal(fdt_strerror(-(i + 1)), `FDT_ERR_${n}`));
	t.equal(fdt_strerror(-E.FDT_ERR_NOSPACE), "FDT_ERR_NOSPACE");
});

t.test("fdt_strerror: positive values are offsets, 0 is no error, the rest unknown", async (t) => {
	t.equal(fdt_strerror(1), "<valid offset/length>");
	t.equal(fdt_strerror(4096), "<valid offset/length>");
	t.equal(fdt_strerror(0), "<no error>");
	t.equal(fdt_strerror(-20), "<unknown error>");
	t.equal(fdt_strerror(-1000), "<unknown error>");
	t.equal(fdt_strerror(-1.5), "<unknown error>");
});
