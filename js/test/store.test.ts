// The front-end document: commands with inverses (undo/redo) and Python's view merged in.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Store } from "../src/store";
import type { ShapeDTO } from "../src/types";

function box(cid: string, x: number, id: number | null = null): ShapeDTO {
  return { id, cid, label: "cat", attributes: {}, track_id: null, geometry: { kind: "box", x, y: 0, w: 5, h: 5 } };
}

function store(): { s: Store; edits: string[] } {
  const edits: string[] = [];
  const s = new Store(() => 0, () => undefined);
  s.onEdit = (changes, _ms, dir) => edits.push(`${dir}:${changes.map((c) => `${c.cid}${c.after ? "+" : "-"}`).join(",")}`);
  return { s, edits };
}

test("a command undoes and redoes as a whole, and each step is an edit for Python", () => {
  const { s, edits } = store();
  s.commit([{ cid: "a", after: box("a", 1) }, { cid: "b", after: box("b", 2) }]);
  s.commit([{ cid: "a", after: box("a", 9) }]);
  assert.equal((s.get("a")?.geometry as { x: number }).x, 9);
  assert.ok(s.undo());
  assert.equal((s.get("a")?.geometry as { x: number }).x, 1);
  assert.ok(s.undo());
  assert.equal(s.size, 0);
  assert.ok(!s.undo());
  assert.ok(s.redo());
  assert.equal(s.size, 2);
  assert.deepEqual(edits, ["do:a+,b+", "do:a+", "undo:a+", "undo:b-,a-", "redo:a+,b+"]);
});

test("a new command clears redo; a no-op command is not recorded", () => {
  const { s, edits } = store();
  s.commit([{ cid: "a", after: box("a", 1) }]);
  s.undo();
  s.commit([{ cid: "b", after: box("b", 2) }]);
  assert.ok(!s.canRedo);
  s.commit([{ cid: "b", after: box("b", 2) }]); // same content
  assert.equal(edits.length, 3);
});

test("reconcile takes Python's list: changed, new and gone shapes; equal ones keep their object", () => {
  const { s } = store();
  s.reset([box("a", 1, 10), box("b", 2, 11)]);
  const kept = s.get("a");
  const changed = s.reconcile([box("a", 1, 10), box("c", 3, 12)]);
  assert.deepEqual(changed.sort(), ["b", "c"]);
  assert.equal(s.get("a"), kept);
  assert.deepEqual(s.all().map((d) => d.cid), ["a", "c"]);
});
