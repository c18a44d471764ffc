import t from "tap";
import { BlockingNotifierHead, NOTIFY_BAD, NOTIFY_DONE, NOTIFY_OK, NOTIFY_STOP, NOTIFY_STOP_MASK, notifier_from_errno, notifier_to_errno, type NotifierBlock } from "./notifier.ts";
import { Errno, EBUSY, EEXIST, EINVAL, ENOENT, EPERM } from "../kernel/errno.ts";
import { errnoOf } from "./testing.ts";

function block(log: string[], name: string, ret = NOTIFY_DONE, priority?: number): NotifierBlock<string> {
	return {
		notifier_call(_nb, action, data) {
			log.push(`${name}:${action}:${data}`);
			return ret;
		},
		priority,
	};
}

t.test("errnos travel through NOTIFY values and back", async (t) => {
	t.equal(notifier_from_errno(0), NOTIFY_OK);
	t.equal(notifier_from_errno(-EINVAL), NOTIFY_STOP_MASK | (NOTIFY_OK + EINVAL));
	t.equal(notifier_to_errno(notifier_from_errno(-EBUSY)), -EBUSY);
	t.equal(notifier_to_errno(NOTIFY_OK), 0);
	t.equal(notifier_to_errno(NOTIFY_DONE), 0);
	t.equal(notifier_to_errno(NOTIFY_STOP), 0, "a plain stop is no error");
	t.equal(notifier_to_errno(NOTIFY_BAD), -EPERM, "NOTIFY_BAD reads as -EPERM, as in the kernel");
});

t.test("callbacks run by descending priority, equal priorities in registration order", async (t) => {
	const head = new BlockingNotifierHead<string>();
	const log: string[] = [];
	head.register(block(log, "a"));
	head.register(block(log, "hi", NOTIFY_DONE, 10));
	head.register(block(log, "b"));
	head.register(block(log, "lo", NOTIFY_DONE, -1));
	t.equal(head.call(7, "x"), NOTIFY_DONE);
	t.same(log, ["hi:7:x", "a:7:x", "b:7:x", "lo:7:x"]);
});

t.test("an empty chain returns NOTIFY_DONE", async (t) => {
	t.equal(new BlockingNotifierHead<null>().call(0, null), NOTIFY_DONE);
});

t.test("the walk stops at the first result with NOTIFY_STOP_MASK and returns it", async (t) => {
	const head = new BlockingNotifierHead<string>();
	const log: string[] = [];
	head.register(block(log, "a", NOTIFY_OK));
	head.register(block(log, "b", notifier_from_errno(-EBUSY)));
	head.register(block(log, "c"));
	t.equal(notifier_to_errno(head.call(1, "d")), -EBUSY);
	t.same(log, ["a:1:d", "b:1:d"], "c never ran");
});

t.test("a callback that throws an Errno stops the chain with that errno", async (t) => {
	const head = new BlockingNotifierHead<null>();
	const log: string[] = [];
	head.register({ notifier_call: () => { throw new Errno(ENOENT); } });
	head.register({ notifier_call: () => (log.push("after"), NOTIFY_OK) });
	t.equal(notifier_to_errno(head.call(0, null)), -ENOENT);
	t.same(log, []);
	const bug = new BlockingNotifierHead<null>();
	bug.register({ notifier_call: () => { throw new TypeError("bug"); } });
	t.throws(() => bug.call(0, null), TypeError, "other exceptions are kernel bugs and propagate");
});

t.test("registering a block twice is EEXIST and changes nothing", async (t) => {
	const head = new BlockingNotifierHead<string>();
	const log: string[] = [];
	const nb = block(log, "a");
	head.register(nb);
	t.equal(errnoOf(() => head.register(nb)), EEXIST);
	head.call(0, "");
	t.same(log, ["a:0:"], "still called once");
});

t.test("unregistering an unknown block is ENOENT; a registered one stops being called", async (t) => {
	const head = new BlockingNotifierHead<string>();
	const log: string[] = [];
	const nb = block(log, "a");
	t.equal(errnoOf(() => head.unregister(nb)), ENOENT);
	head.register(nb);
	t.ok(head.has(nb));
	head.unregister(nb);
	t.notOk(head.has(nb));
	head.call(0, "");
	t.same(log, []);
	t.equal(errnoOf(() => head.unregister(nb)), ENOENT);
});

t.test("a callback may unregister itself while the chain runs", async (t) => {
	const head = new BlockingNotifierHead<null>();
	const log: string[] = [];
	const self: NotifierBlock<null> = { notifier_call: (nb) => (head.unregister(nb), log.push("self"), NOTIFY_OK) };
	head.register(self);
	head.register({ notifier_call: () => (log.push("next"), NOTIFY_OK) });
	head.call(0, null);
	head.call(0, null);
	t.same(log, ["self", "next", "next"]);
});
