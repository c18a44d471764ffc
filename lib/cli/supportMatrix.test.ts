import t from "tap";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { supportMatrix } from "./supportMatrix.ts";

t.test("docs/support-matrix.md is the table luosim syscalls prints", async (t) => {
	const doc = readFileSync(fileURLToPath(new URL("../../docs/support-matrix.md", import.meta.url)), "utf8");
	t.equal(doc, supportMatrix(), "regenerate with: npx luosim syscalls > docs/support-matrix.md");
});

t.test("every syscall has a status and a note", async (t) => {
	const rows = supportMatrix().split("\n").filter((l) => /^\| \d+ \|/.test(l));
	t.ok(rows.length > 50, `${rows.length} syscalls`);
	for (const r of rows) t.match(r, /\| (supported|partial|unsupported) \| \S.* \|$/, r);
});
