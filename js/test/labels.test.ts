// Placement of the class names drawn on shapes (labels.ts): corners first, never on top of each other.
// The canvas is a stand-in that measures text at 6 px a character and records nothing else: what is
// drawn is checked in the browser (tests/browser/test_review_panel.py reads the pixels).
import assert from "node:assert/strict";
import { test } from "node:test";
import { LabelLayer, type DrawnLabel } from "../src/labels";
import { Viewport } from "../src/view";

function canvas(width: number, height: number): CanvasRenderingContext2D {
  const noop = (): void => undefined;
  return {
    canvas: { width, height },
    measureText: (t: string) => ({ width: t.length * 6 }),
    setTransform: noop,
    beginPath: noop,
    roundRect: noop,
    fill: noop,
    fillText: noop,
  } as unknown as CanvasRenderingContext2D;
}

function view(): Viewport {
  const v = new Viewport();
  v.scale = 1; // image px = screen px, no offset
  return v;
}

const overlap = (a: DrawnLabel, b: DrawnLabel): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

test("the first shape's name sits above its top-left corner", () => {
  const layer = new LabelLayer();
  layer.begin();
  layer.add(canvas(800, 600), view(), 1, "cat", "#ff0000", { minX: 100, minY: 100, maxX: 300, maxY: 250 });
  const [cat] = layer.drawn;
  assert.ok(cat);
  assert.equal(cat.x, 100);
  assert.ok(cat.y + cat.h <= 100, `${cat.y} + ${cat.h} overlaps the box top`);
});

test("names of shapes on top of each other (two passes that agree) both show, apart", () => {
  const layer = new LabelLayer();
  const ctx = canvas(800, 600);
  const box = { minX: 100, minY: 100, maxX: 300, maxY: 250 };
  layer.begin();
  layer.add(ctx, view(), 1, "cat", "#ff0000", box);
  layer.add(ctx, view(), 1, "dog", "#0000ff", box);
  layer.add(ctx, view(), 1, "person", "#00ff00", box);
  const [cat, dog, person] = layer.drawn;
  assert.ok(cat && dog && person);
  assert.equal(cat.x, 100, "the first keeps the corner");
  assert.ok(!overlap(cat, dog) && !overlap(cat, person) && !overlap(dog, person), JSON.stringify(layer.drawn));
});

test("a shape at the top edge is labelled inside; shapes off the canvas are not labelled", () => {
  const layer = new LabelLayer();
  const ctx = canvas(800, 600);
  layer.begin();
  layer.add(ctx, view(), 1, "top", "#ff0000", { minX: 10, minY: 0, maxX: 200, maxY: 100 });
  layer.add(ctx, view(), 1, "away", "#ff0000", { minX: 900, minY: 0, maxX: 1000, maxY: 100 });
  assert.deepEqual(layer.drawn.map((l) => l.text), ["top"]);
  assert.ok((layer.drawn[0]?.y ?? -1) >= 0);
  layer.begin();
  assert.deepEqual(layer.drawn, [], "begin starts a new frame");
});
