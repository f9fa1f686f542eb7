// The exam grader's reading of a draft (js/src/grader/draft.ts): the grader's decisions over the pre-score's
// proposals, the proposals left for Enter, the order Tab walks, what Focus shows; its keys (Tab and
// Shift+Tab apart, the extra keys only where the keymap leaves them free); when Pass and Fail are offered
// (js/src/grader/decision.ts) and the decision's words.
import assert from "node:assert/strict";
import { test } from "node:test";
import { confirmText, decisionText, failOffer, passOffer, type DecisionInput } from "../src/grader/decision";
import { focusPair, missingOf, proposalsLeft, starsOf, starsText, step, tabOrder } from "../src/grader/draft";
import { GraderKeys } from "../src/grader/keys";
import type { Decision, GoldEntry, ImageRow, Item, TraineeEntry } from "../src/grader/types";

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

test("Pass is offered once the mark is met, Fail for any handed-in undecided attempt; otherwise why not", () => {
  const row = (asset_id: number, state: ImageRow["state"]): ImageRow => ({ asset_id, file_name: `im${asset_id}.png`, state, graded: state === "graded", mean_stars: null, missed: null, proposed_stars: null, tp: null, fp: null, fn: null });
  const decision: Partial<Decision> = { state: "submitted", decidable: true, mark_met: null, unmet: ["1 of 3 images not graded"], auto_met: true, mark: "mean stars >= 3, F1 >= 0.5", grants: ["pets"], decided_by: null, locked: "" };
  const images = [row(1, "graded"), row(2, "graded"), row(3, "handed_in")];
  const at = (over: Partial<DecisionInput>): DecisionInput => ({ decision, images, current: 3, gradable: true, dirty: false, ...over });

  const waiting = passOffer(at({}));
  assert.equal(waiting.enabled, false);
  assert.match(waiting.reason, /1 of 3 images not graded/);
  assert.equal(failOffer(at({})).enabled, true);
  assert.equal(decisionText(decision), "pending · 1 of 3 images not graded");
  // the last image's grade changed, not saved yet: Pass saves it first (Python checks the mark then)
  const saveFirst = passOffer(at({ dirty: true }));
  assert.equal(saveFirst.enabled, true);
  assert.match(saveFirst.reason, /saved first/);
  assert.equal(passOffer(at({ dirty: true, current: 2 })).enabled, false); // another image is left to grade
  assert.equal(passOffer(at({ dirty: true, decision: { ...decision, auto_met: false } })).enabled, false); // F1 short
  // met; unmet
  const met = { ...decision, mark_met: true, unmet: [] };
  assert.equal(passOffer(at({ decision: met })).enabled, true);
  assert.match(passOffer(at({ decision: met })).reason, /grants pets/);
  assert.equal(decisionText(met), "pending · mark met");
  const unmet = { ...decision, mark_met: false, unmet: ["mean stars 2.80, the mark is >= 3"] };
  assert.equal(passOffer(at({ decision: unmet })).enabled, false);
  assert.match(passOffer(at({ decision: unmet })).reason, /mean stars 2\.80, the mark is >= 3/);
  assert.equal(decisionText(unmet), "pending · mark not met: mean stars 2.80, the mark is >= 3");
  // decided: neither, and the summary says by whom; not handed in: neither
  const passed = { ...met, state: "passed", decidable: false, decided_by: "rita" };
  assert.deepEqual([passOffer(at({ decision: passed })).enabled, failOffer(at({ decision: passed })).enabled], [false, false]);
  assert.match(failOffer(at({ decision: passed })).reason, /Already passed by rita/);
  assert.equal(decisionText(passed), "passed by rita · granted pets");
  assert.equal(decisionText({ ...passed, state: "failed" }), "failed by rita");
  const started = { ...decision, state: "started", decidable: false };
  assert.match(failOffer(at({ decision: started })).reason, /Not handed in yet/);
  assert.equal(passOffer(at({ decision: {} })).enabled, false);
  assert.equal(confirmText("pass_attempt", "attempt 1 of tina", met, "P"), "Pass attempt 1 of tina and grant pets? P again or Confirm decides; Escape cancels.");
});

test("the decision keys: P passes, Shift+F fails, F stays Focus", () => {
  const ev = (k: string, shift = false): KeyboardEvent => ({ key: k, ctrlKey: false, shiftKey: shift, altKey: false, metaKey: false }) as KeyboardEvent;
  const keys = new GraderKeys();
  keys.set({ focus: "f", pass_attempt: "p", fail_attempt: "Shift+f" });
  assert.equal(keys.match(ev("p")), "pass_attempt");
  assert.equal(keys.match(ev("F", true)), "fail_attempt");
  assert.equal(keys.match(ev("f")), "focus");
  assert.equal(keys.key("fail_attempt"), "Shift+F");
});
