import t from "tap";
import { runTest } from "./testing.ts";
import {
	getopt, getopt_long, optind, optarg, opterr, optopt, set_optind, set_opterr, fork, waitpid, sleep,
	no_argument, required_argument, type option,
} from "./mod.ts";

t.test("getopt with live optind/optarg/optopt; diagnostics on stderr", async (t) => {
	const r = await runTest((argc, argv) => {
		t.equal(optind, 1);
		t.equal(getopt(argc, argv, "ab:"), 0x61);
		t.equal(optarg, null);
		t.equal(getopt(argc, argv, "ab:"), 0x62);
		t.equal(optarg, "val");
		t.equal(optind, 4);
		t.equal(getopt(argc, argv, "ab:"), 0x3f);
		t.equal(optopt, 0x78);
		t.equal(getopt(argc, argv, "ab:"), -1);
		t.same(argv.slice(optind), ["file"], "operands permuted to the end");
	}, { argv: ["prog", "-a", "-b", "val", "file", "-x"] });
	t.equal(r.status, 0);
	t.equal(r.stderr, "prog: invalid option -- 'x'\n");
});

t.test("set_opterr(0) silences, set_optind(0) restarts", async (t) => {
	const r = await runTest((argc, argv) => {
		set_opterr(0);
		t.equal(opterr, 0);
		t.equal(getopt(argc, argv, "a"), 0x3f);
		t.equal(getopt(argc, argv, "a"), -1);
		set_optind(0);
		t.equal(optind, 0);
		t.equal(getopt(argc, argv, "a"), 0x3f, "scanned again");
	}, { argv: ["prog", "-z"] });
	t.equal(r.status, 0);
	t.equal(r.stderr, "");
});

t.test("getopt_long", async (t) => {
	const r = await runTest((argc, argv) => {
		const flag = { value: 0 };
		const longopts: option[] = [
			{ name: "stage", has_arg: required_argument, flag: null, val: 0x73 },
			{ name: "verbose", has_arg: no_argument, flag, val: 5 },
		];
		const idx = { value: -1 };
		t.equal(getopt_long(argc, argv, "s:", longopts, idx), 0x73);
		t.equal(optarg, "2");
		t.equal(idx.value, 0);
		t.equal(getopt_long(argc, argv, "s:", longopts, null), 0);
		t.equal(flag.value, 5);
		t.equal(getopt_long(argc, argv, "s:", longopts, null), -1);
	}, { argv: ["prog", "--stage=2", "--verb"] });
	t.equal(r.status, 0);
});

t.test("each process has its own getopt state", async (t) => {
	const r = await runTest(async (argc, argv) => {
		t.equal(getopt(argc, argv, "ab"), 0x61);
		t.equal(optind, 2);
		const c = fork(async () => {
			const start = optind;
			getopt(3, ["c", "-b", "-a"], "ab");
			await sleep(1);
			return start === 1 && optind === 2 ? 0 : 1;
		});
		await sleep(2);
		t.equal(optind, 2, "the child's scan did not move the parent's optind");
		const st = new Int32Array(1);
		await waitpid(c, st, 0);
		t.equal(st[0]! >> 8, 0);
	}, { argv: ["prog", "-a", "-b"] });
	t.equal(r.status, 0);
});
