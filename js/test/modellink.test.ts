// Python's list of shapes kept from the acks' deltas (the trait itself is not resent after an edit).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Disposer } from "../src/disposer";
import type { WidgetModel } from "../src/model";
import { applyDelta, ModelLink } from "../src/modellink";
import type { Store } from "../src/store";
import type { Sync } from "../src/sync";
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

// A new showing of an image (load: store, view and history reset) against better bytes of the one shown
// (swap: the full image after its stored preview).

function link(state: Record<string, unknown>): { calls: string[]; set: (k: string, v: unknown) => void; pull: () => void } {
  const calls: string[] = [];
  const model = { get: (k: string) => state[k], on: () => undefined, off: () => undefined } as unknown as WidgetModel;
  const hooks = {
    load: () => calls.push("load"),
    swap: () => calls.push("swap"),
    info: () => undefined,
    rebuild: () => undefined,
    refresh: () => undefined,
    assist: () => undefined,
    editing: () => false,
  };
  const l = new ModelLink(
    model,
    { reconcile: () => undefined } as unknown as Store,
    { know: () => undefined, pending: 0 } as unknown as Sync,
    hooks,
    { add: () => undefined } as unknown as Disposer,
  );
  return { calls, set: (k, v) => (state[k] = v), pull: () => l.pull() };
}

const info = (extra: Record<string, unknown>) => ({ asset_id: 1, file_name: "a", width: 4000, height: 3000, ...extra });

test("the full image arriving after the preview is a swap; another showing is a load", () => {
  const l = link({ image_info: info({ shown: 1 }), image: new DataView(new ArrayBuffer(0)), preview: new DataView(new ArrayBuffer(8)), shapes: [] });
  l.pull();
  l.set("image", new DataView(new ArrayBuffer(16)));
  l.pull();
  l.set("image_info", info({ shown: 2 })); // the same asset shown again (it is twice in the queue)
  l.set("image", new DataView(new ArrayBuffer(0)));
  l.pull();
  assert.deepEqual(l.calls, ["load", "swap", "load"]);
});

test("without `shown` (the review panel) new image bytes are a new image", () => {
  const l = link({ image_info: info({}), image: new DataView(new ArrayBuffer(8)), shapes: [] });
  l.pull();
  l.set("image", new DataView(new ArrayBuffer(8))); // another pass of the same image
  l.pull();
  assert.deepEqual(l.calls, ["load", "load"]);
});
