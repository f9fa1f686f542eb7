// What is under the pointer, and what lies inside a rectangle: the R-tree narrows thousands of shapes
// down to the few whose bounds are there, then each kind's exact test decides.
import { hitPlain, plainBounds } from "./geometry";
import type { HitIndex } from "./hitindex";
import { rasterHit, rleBounds, type MaskGrid } from "./mask";
import type { ShapePainter } from "./render";
import type { Store } from "./store";
import type { ShapeDTO } from "./types";
import type { Rect } from "./view";

export interface HitScene {
  store: Store;
  index: HitIndex;
  painter: ShapePainter;
  grid: MaskGrid;
  isVisible(s: ShapeDTO): boolean;
}

/** Bounds for the index (masks from their runs, without decoding them). */
export function boundsOf(s: ShapeDTO): Rect | null {
  return s.geometry.kind === "mask" ? rleBounds(s.geometry.rle) : plainBounds(s.geometry);
}

/** The index follows the store: every shape anew (`cids` null, a reset), or only the shapes that changed. */
export function reindex(index: HitIndex, store: Store, cids: readonly string[] | null): void {
  if (cids === null) {
    const entries: [string, Rect][] = [];
    for (const s of store.all()) {
      const b = boundsOf(s);
      if (b) entries.push([s.cid, b]);
    }
    index.reset(entries);
  } else {
    for (const cid of cids) {
      const s = store.get(cid);
      index.set(cid, s ? boundsOf(s) : null);
    }
  }
}

/** The visible shape at (x, y) within `tol` image px; the smallest one when several overlap. */
export function shapeAt(sc: HitScene, x: number, y: number, tol: number): ShapeDTO | null {
  let best: ShapeDTO | null = null;
  let bestArea = Infinity;
  for (const cid of sc.index.search({ minX: x - tol, minY: y - tol, maxX: x + tol, maxY: y + tol })) {
    const s = sc.store.get(cid);
    if (!s || !sc.isVisible(s)) continue;
    const g = s.geometry;
    let hit: boolean;
    if (g.kind === "mask") {
      const r = sc.painter.raster(g);
      hit = r !== null && rasterHit(r, sc.grid, x, y);
    } else hit = hitPlain(g, x, y, tol);
    if (!hit) continue;
    const b = sc.index.bounds(cid);
    // The smallest object under the pointer wins, so nested objects stay reachable.
    const area = g.kind === "keypoints" ? 0 : b ? (b.maxX - b.minX) * (b.maxY - b.minY) : Infinity;
    if (area <= bestArea) {
      best = s;
      bestArea = area;
    }
  }
  return best;
}

/** Visible shapes whose bounds meet (or, `contained`, lie inside) `r`. */
export function shapesIn(sc: HitScene, r: Rect, contained: boolean): ShapeDTO[] {
  const out: ShapeDTO[] = [];
  for (const cid of sc.index.search(r)) {
    const s = sc.store.get(cid);
    const b = sc.index.bounds(cid);
    if (!s || !b || !sc.isVisible(s)) continue;
    if (contained && (b.minX < r.minX || b.minY < r.minY || b.maxX > r.maxX || b.maxY > r.maxY)) continue;
    out.push(s);
  }
  return out;
}
