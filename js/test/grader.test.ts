// The exam grader's reading of a draft (js/src/grader/draft.ts): the grader's decisions over the pre-score's
// proposals, the proposals left for Enter, the order Tab walks, what Focus shows; and its keys (Tab and
// Shift+Tab apart, the extra keys only where the keymap leaves them free).
import assert from "node:assert/strict";
import { test } from "node:test";
import { focusPair, missingOf, proposalsLeft, starsOf, starsText, step, tabOrder } from "../src/grader/draft";
import { GraderKeys } from "../src/grader/keys";
import type { GoldEntry, Item, TraineeEntry } from "../src/grader/types";

const box = { kind: "box" as const, x: 0, y: 0, w: 10, h: 10 };

function trainee(id: number, status: TraineeEntry["status"], gold: number | null, proposed: number): TraineeEntry {
  return { id, label: "cat", kind: "box", status, gold, iou: null, proposed, shape: { id, cid: `t${id}`, label: "cat", attributes: {}, track_id: null, geometry: box } };
}

function gold(id: number, status: GoldEntry["status"], match: number | null): GoldEntry {
  const markable = status === "missed" || status === "wrong_label";
  return { id, label: "dog", kind: "box", status, match, iou: null, markable, proposed_missing: status === "missed", shape: { id, cid: `g${id}`, label: "dog", attributes: {}, track_id: null, geometry: box } };
}

const item: Partial<Item> = {
  gradable: true,
  trainee: [trainee(10, "tp", 1, 4), trainee(11, "wrong_label", 2, 1)],
  gold: [gold(1, "matched", 10), gold(2, "wrong_label", 11), gold(3, "missed", null)],
  tags: [{ id: 20, label: "light:night", status: "fp", proposed: false }],
};

test("a decision wins over the proposal; 0 stars is no decision", () => {
  assert.deepEqual(starsOf({}, item.trainee![0]!), { stars: 4, proposed: true });
  assert.deepEqual(starsOf({ stars: { "10": 2 } }, item.trainee![0]!), { stars: 2, proposed: false });
  assert.deepEqual(starsOf({ stars: { "10": 0 } }, item.trainee![0]!), { stars: 4, proposed: true });
  assert.deepEqual(missingOf({}, item.gold![2]!), { value: true, proposed: true });
  assert.deepEqual(missingOf({ missing: { "3": false } }, item.gold![2]!), { value: false, proposed: false });
  assert.equal(starsText({ stars: 3, proposed: false }), "★★★☆☆");
  assert.equal(starsText({ stars: 3, proposed: true }), "☆☆☆");
});

test("proposals left count every undecided verdict Enter would accept", () => {
  assert.equal(proposalsLeft(item, {}), 2 + 2 + 1); // two instances, two unmatched gold, one tag
  assert.equal(proposalsLeft(item, { stars: { "10": 5, "11": 1 }, missing: { "2": false, "3": true }, tags: { "20": true } }), 0);
  assert.equal(proposalsLeft({ ...item, gradable: false }, {}), 0);
});

test("Tab walks the trainee's instances, then the gold nobody matched (when shown), and wraps", () => {
  const order = tabOrder(item, true);
  assert.deepEqual(order, ["t10", "t11", "g2", "g3"]);
  assert.deepEqual(tabOrder(item, false), ["t10", "t11"]);
  assert.equal(step(order, null, 1), "t10");
  assert.equal(step(order, null, -1), "g3");
  assert.equal(step(order, "g3", 1), "t10");
  assert.equal(step(order, "t10", -1), "g3");
  assert.equal(step([], null, 1), null);
});

test("Focus shows an instance with its matched counterpart", () => {
  assert.deepEqual(focusPair(item, "t11"), { trainee: new Set([11]), gold: new Set([2]) });
  assert.deepEqual(focusPair(item, "g3"), { trainee: new Set(), gold: new Set([3]) });
  assert.equal(focusPair(item, null), null);
});

test("the grader's keys: Shift+Tab apart from Tab, aliases only where free", () => {
  const ev = (k: string, mods: { ctrl?: boolean; shift?: boolean } = {}): KeyboardEvent =>
    ({ key: k, ctrlKey: !!mods.ctrl, shiftKey: !!mods.shift, altKey: false, metaKey: false }) as KeyboardEvent;
  const keys = new GraderKeys();
  keys.set({ next_instance: "Tab", prev_instance: "Shift+Tab", save: "s", next_image: "ArrowRight" });
  assert.equal(keys.match(ev("Tab")), "next_instance");
  assert.equal(keys.match(ev("Tab", { shift: true })), "prev_instance");
  assert.equal(keys.match(ev("s", { ctrl: true })), "save");
  assert.equal(keys.match(ev("ArrowDown")), "next_image");
  keys.set({ gold: "ArrowDown" });
  assert.equal(keys.match(ev("ArrowDown")), "gold");
  assert.equal(keys.key("gold"), "ArrowDown");
});
