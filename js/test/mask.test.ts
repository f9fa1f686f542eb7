// The mask codec: COCO's uncompressed column-major runs over the full image, edited on a coarser grid.
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeMask, encodePatched, MaskGrid, translateMask } from "../src/mask";
import type { MaskRLE } from "../src/types";

/** Column-major runs of a boolean image (the reference encoder, written the obvious way). */
function encode(img: boolean[][]): MaskRLE {
  const H = img.length;
  const W = img[0]?.length ?? 0;
  const counts: number[] = [];
  let cur = false;
  let run = 0;
  for (let x = 0; x < W; x++) {
    for (let y = 0; y < H; y++) {
      const v = img[y]?.[x] ?? false;
      if (v === cur) run++;
      else {
        counts.push(run);
        cur = v;
        run = 1;
      }
    }
  }
  counts.push(run);
  return { size: [H, W], counts };
}

function pixels(rle: MaskRLE): boolean[][] {
  const [H, W] = rle.size;
  const img = Array.from({ length: H }, () => new Array<boolean>(W).fill(false));
  let i = 0;
  let v = false;
  for (const n of rle.counts) {
    for (let k = 0; k < n; k++, i++) {
      const x = Math.floor(i / H);
      const row = img[i % H];
      if (row && x < W) row[x] = v;
    }
    v = !v;
  }
  return img;
}

function image(H: number, W: number, inside: (x: number, y: number) => boolean): boolean[][] {
  return Array.from({ length: H }, (_, y) => Array.from({ length: W }, (_, x) => inside(x, y)));
}

test("decode then encode with an empty patch changes nothing", () => {
  const img = image(20, 30, (x, y) => (x - 12) ** 2 + (y - 9) ** 2 < 40 || (x > 25 && y < 3));
  const rle = encode(img);
  const grid = new MaskGrid(30, 20, 30);
  const raster = decodeMask(rle, grid);
  assert.ok(raster);
  const again = encodePatched(rle, { x0: 0, y0: 0, w: 0, h: 0, bits: new Uint8Array(0) }, grid);
  assert.deepEqual(again, rle);
});

test("painting a patch sets exactly its cells at full resolution", () => {
  const grid = new MaskGrid(30, 20, 30); // grid = image
  const bits = new Uint8Array(4 * 3).fill(1);
  const out = encodePatched(null, { x0: 5, y0: 6, w: 4, h: 3, bits }, grid);
  assert.ok(out);
  assert.deepEqual(pixels(out), image(20, 30, (x, y) => x >= 5 && x < 9 && y >= 6 && y < 9));
});

test("on a coarse grid, detail outside the stroke survives at full resolution", () => {
  // a 1-px checker pattern at full resolution, painted on a grid of half the size
  const fine = image(16, 16, (x, y) => (x + y) % 2 === 0);
  const grid = new MaskGrid(16, 16, 8);
  assert.equal(grid.dw, 8);
  const bits = new Uint8Array(2 * 2); // erase a 2x2 grid patch = 4x4 image pixels at (4, 4)
  const out = encodePatched(encode(fine), { x0: 2, y0: 2, w: 2, h: 2, bits }, grid);
  assert.ok(out);
  const got = pixels(out);
  for (let y = 0; y < 16; y++) {
    for (let x = 0; x < 16; x++) {
      const inPatch = x >= 4 && x < 8 && y >= 4 && y < 8;
      assert.equal(got[y]?.[x], inPatch ? false : (x + y) % 2 === 0, `pixel ${x},${y}`);
    }
  }
});

test("erasing everything gives no mask; translating cuts at the border", () => {
  const grid = new MaskGrid(10, 10, 10);
  const square = encode(image(10, 10, (x, y) => x >= 2 && x < 5 && y >= 2 && y < 5));
  assert.equal(encodePatched(square, { x0: 0, y0: 0, w: 10, h: 10, bits: new Uint8Array(100) }, grid), null);
  const moved = translateMask(square, 6, -1);
  assert.ok(moved);
  assert.deepEqual(pixels(moved), image(10, 10, (x, y) => x >= 8 && x < 10 && y >= 1 && y < 4));
  assert.equal(translateMask(square, 20, 0), null);
});
