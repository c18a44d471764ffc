/**
 * gcc oracle facts for the memfd Live Update ABI (include/linux/kho/abi/memfd.h
 * and the `struct kho_vmalloc` of include/linux/kho/abi/kexec_handover.h):
 * the packed layouts of memfd_luo_ser.ts, the placement of the `pfn:52` /
 * `flags:12` bitfields, and MEMFD_LUO_ALL_SEALS. Test support, imported by
 * lib/uaccess/abiCheck.test.ts.
 */
import { registerAbiConstant, registerAbiStruct } from "../uaccess/abiCheck.ts";
import { kho_vmalloc, MEMFD_LUO_ALL_SEALS, MEMFD_LUO_FOLIO_SER_SIZE, memfd_luo_folio_ser_write, memfd_luo_ser } from "./memfd_luo_ser.ts";

/** The header's declarations as upstream writes them (the host ships neither header). */
export const MEMFD_LUO_H_TEXT = `#include <string.h>
#include <linux/types.h>
#include <linux/fcntl.h>
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#define DECLARE_KHOSER_PTR(name, type) union { __u64 phys; type ptr; } name
struct kho_vmalloc_chunk;
struct kho_vmalloc {
	DECLARE_KHOSER_PTR(first, struct kho_vmalloc_chunk *);
	unsigned int total_pages;
	unsigned short flags;
	unsigned short order;
};
struct memfd_luo_folio_ser {
	__u64 pfn:52;
	__u64 flags:12;
	__u64 index;
} __attribute__((packed));
#define MEMFD_LUO_ALL_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC)
struct memfd_luo_ser {
	__u64 pos;
	__u64 size;
	__u32 seals;
	__u32 flags;
	__u64 nr_folios;
	struct kho_vmalloc folios;
} __attribute__((packed));`;

// Its own unit: the KHO modules may declare struct kho_vmalloc in theirs.
const unit = "memfd-luo";

registerAbiStruct({ cName: "struct kho_vmalloc", layout: kho_vmalloc, cDecl: MEMFD_LUO_H_TEXT, unit });
registerAbiStruct({ cName: "struct memfd_luo_ser", layout: memfd_luo_ser, cDecl: MEMFD_LUO_H_TEXT, unit });
registerAbiConstant({ name: "MEMFD_LUO_ALL_SEALS", value: MEMFD_LUO_ALL_SEALS, cExpr: "MEMFD_LUO_ALL_SEALS", includes: [], cDecl: MEMFD_LUO_H_TEXT, unit });

// A bitfield has no offsetof: check the record's size, the index's place, and
// the first u64 gcc makes of a pfn and flags against what the TS encoder writes.
registerAbiConstant({
	name: "sizeof(struct memfd_luo_folio_ser)", value: MEMFD_LUO_FOLIO_SER_SIZE, cExpr: "sizeof(struct memfd_luo_folio_ser)",
	includes: [], cDecl: MEMFD_LUO_H_TEXT, unit,
});
registerAbiConstant({
	name: "offsetof(struct memfd_luo_folio_ser, index)", value: 8, cExpr: "offsetof(struct memfd_luo_folio_ser, index)",
	includes: [], cDecl: MEMFD_LUO_H_TEXT, unit,
});
const sample = { pfn: 0xabcdef12345, flags: 0xa5b, index: 7 };
const bytes = new Uint8Array(MEMFD_LUO_FOLIO_SER_SIZE);
memfd_luo_folio_ser_write(bytes, 0, sample);
registerAbiConstant({
	name: "memfd_luo_folio_ser {pfn, flags} as a u64",
	value: new DataView(bytes.buffer).getBigUint64(0, true),
	cExpr: `({ struct memfd_luo_folio_ser s = { .pfn = ${sample.pfn}ULL, .flags = ${sample.flags} }; __u64 w; memcpy(&w, &s, 8); w; })`,
	includes: [], cDecl: MEMFD_LUO_H_TEXT, unit,
});
