/**
 * Test fixture for callsite.test.ts: kselftest-style calls at known lines,
 * run both in-process (tap, `node --import=tsx`) and as a program (`tsx`),
 * where it prints what it found as JSON. Its type-only lines make tsx's
 * output differ from the source, so only a source-mapped position is right.
 */
import { pathToFileURL } from "node:url";
import { callerSite, macroArgs, type SourceSite } from "./callsite.ts";

interface Found {
	site: SourceSite;
	args: string[];
}

type Unused = { a: number; b: string };

function ASSERT_EQ(_expected: unknown, _seen: unknown): Found {
	const site = callerSite(1);
	return { site, args: macroArgs(site.path, site.line, site.column, "ASSERT_EQ") };
}

/** Makes the calls; each is on the line after a `@site` comment naming it. */
export function fixtureCalls(): Found[] {
	const ret = -2;
	const EBUSY = 16;
	const buf: Unused | string = "hello";
	return [
		// @site simple
		ASSERT_EQ(ret, -EBUSY),
		// @site multiline
		ASSERT_EQ(
			"a, (b)", // why, not what
			buf.toString(),
		),
	];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
	console.log(JSON.stringify(fixtureCalls()));
}
