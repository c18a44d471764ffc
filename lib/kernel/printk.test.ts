import t from "tap";
import { LogBuffer, formatDmesgLine, formatKmsgRecord, KERN_ERR, KERN_INFO, KERN_WARNING } from "./printk.ts";
import { bootKernel } from "./machine.ts";
import { UTS_RELEASE, UTS_VERSION } from "./utsname.ts";

t.test("dmesg lines: [%5lu.%06lu] with the virtual-clock time, each line of a record prefixed", async (t) => {
	let now = 0;
	const log = new LogBuffer(() => now);
	log.log(KERN_INFO, "booted\n");
	now = 1_234_567_891;
	log.log(KERN_ERR, "two\nlines");
	now = 100_000e9;
	log.log(KERN_INFO, "late");
	t.same(log.all().map(formatDmesgLine), ["[    0.000000] booted", "[    1.234567] two\n[    1.234567] lines", "[100000.000000] late"]);
});

t.test("/dev/kmsg records: prio,seq,usec,-;text with \\xNN escapes", async (t) => {
	let now = 5_000;
	const log = new LogBuffer(() => now);
	log.log(KERN_WARNING, "tab\there\\ é");
	log.log(KERN_INFO, "from user", 1);
	now = 7_000_000;
	log.log(KERN_ERR, "a\nb");
	t.same(log.all().map(formatKmsgRecord), [
		"4,0,5,-;tab\\x09here\\x5c \\xc3\\xa9\n",
		"14,1,5,-;from user\n",
		"3,2,7000,-;a\\x0ab\n",
	]);
});

t.test("the buffer drops its oldest records past the capacity; from() reports the loss; clear keeps numbering", async (t) => {
	const log = new LogBuffer(() => 0, 100);
	const seen: number[] = [];
	log.onRecord((r) => seen.push(r.seq));
	for (let i = 0; i < 10; i++) log.log(KERN_INFO, `message ${i}`);
	t.ok(log.all().length < 10);
	t.equal(log.all().at(-1)!.text, "message 9");
	const first = log.all()[0]!.seq;
	t.same(log.from(0), { record: log.all()[0], dropped: true });
	t.same(log.from(first + 1), { record: log.all()[1], dropped: false });
	t.same(log.from(10), { record: undefined, dropped: false });
	t.same(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
	log.clear();
	t.equal(log.all().length, 0);
	log.log(KERN_INFO, "after");
	t.equal(log.all()[0]!.seq, 10);
	t.equal(log.next, 11);
});

t.test("a kernel logs its version and command line at boot", async (t) => {
	const k = bootKernel();
	t.same(k.log.all().slice(0, 2).map(formatDmesgLine), [
		`[    0.000000] Linux version ${UTS_RELEASE} (luosim) ${UTS_VERSION}`,
		`[    0.000000] Command line: ${k.cmdline.text}`,
	]);
	k.pr_err("oops");
	t.equal(k.log.all().at(-1)!.level, KERN_ERR);
});
