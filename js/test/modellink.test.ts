// Python's list of shapes kept from the acks' deltas (the trait itself is not resent after an edit).
import assert from "node:assert/strict";
import { test } from "node:test";
import { applyDelta } from "../src/modellink";
import type { ShapeDTO } from "../src/types";

const box = (cid: string, x: number): ShapeDTO => ({ id: 1, cid, label: "cat", attributes: {}, track_id: null, geometry: { kind: "box", x, y: 0, w: 1, h: 1 } });

test("a delta replaces in place, appends new shapes and drops removed ones", () => {
  const before = [box("a", 1), box("b", 2), box("c", 3)];
  const after = applyDelta(before, [box("b", 20), box("d", 4)], ["c"]);
  assert.deepEqual(after.map((d) => [d.cid, (d.geometry as { x: number }).x]), [["a", 1], ["b", 20], ["d", 4]]);
  assert.equal(before.length, 3, "the input is not changed");
});

test("every view applies the same ack: applying it twice changes nothing", () => {
  const once = applyDelta([box("a", 1)], [box("a", 5), box("b", 2)], []);
  assert.deepEqual(applyDelta(once, [box("a", 5), box("b", 2)], []), once);
});
