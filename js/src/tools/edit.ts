// Editing existing shapes, shared by the tools: grabbing a handle of the selected shape (box corners
// and edges, polygon vertices, keypoints), moving the selection, inserting and deleting vertices.
// A drag previews on the overlay and becomes one command when the button is released.
import {
  BOX_EDGES,
  boxHandle,
  clamp,
  clampDelta,
  emptyRect,
  isEmpty,
  nearestEdge,
  normalizedBox,
  plainBounds,
  round2,
  translatePlain,
  unionInto,
  withGeometry,
  type BoxEdge,
  type PolygonGeometry,
} from "../geometry";
import { translateMask } from "../mask";
import type { Geometry, ShapeDTO } from "../types";
import type { EditorApi, Pointer, PreviewItem } from "./tool";

export type Grab =
  | { kind: "box"; edge: BoxEdge }
  | { kind: "vertex"; part: number; index: number }
  | { kind: "keypoint"; name: string };

const GRAB_PX = 8;

export function selectedShape(api: EditorApi): ShapeDTO | null {
  if (api.selection.size !== 1) return null;
  const [cid] = api.selection;
  return (cid && api.store.get(cid)) || null;
}

/** The handle of the single selected shape under the pointer. */
export function grabAt(api: EditorApi, p: Pointer): { shape: ShapeDTO; grab: Grab } | null {
  const shape = selectedShape(api);
  if (!shape) return null;
  const g = shape.geometry;
  const v = api.view;
  const near = (x: number, y: number): number => Math.hypot(v.toScreenX(x) - p.sx, v.toScreenY(y) - p.sy);
  let best: Grab | null = null;
  let bestD = GRAB_PX;
  if (g.kind === "box") {
    for (const edge of BOX_EDGES) {
      const [x, y] = boxHandle(g, edge);
      const d = near(x, y);
      if (d <= bestD) {
        bestD = d;
        best = { kind: "box", edge };
      }
    }
  } else if (g.kind === "polygon") {
    g.parts.forEach((part, pi) => {
      for (let i = 0; i + 1 < part.length; i += 2) {
        const d = near(part[i] ?? 0, part[i + 1] ?? 0);
        if (d <= bestD) {
          bestD = d;
          best = { kind: "vertex", part: pi, index: i / 2 };
        }
      }
    });
  } else if (g.kind === "keypoints") {
    for (const [name, pt] of Object.entries(g.points)) {
      if (pt[2] <= 0) continue;
      const d = near(pt[0], pt[1]);
      if (d <= bestD) {
        bestD = d;
        best = { kind: "keypoint", name };
      }
    }
  }
  return best ? { shape, grab: best } : null;
}

/** How render.drawHandles names the highlighted handle. */
export function hotName(grab: Grab | null): string | null {
  if (!grab) return null;
  if (grab.kind === "box") return grab.edge;
  if (grab.kind === "vertex") return `${grab.part}:${grab.index}`;
  return grab.name;
}

export function cursorFor(grab: Grab): string {
  if (grab.kind !== "box") return "move";
  const e = grab.edge;
  return e === "nw" || e === "se" ? "nwse-resize" : e === "ne" || e === "sw" ? "nesw-resize" : e === "n" || e === "s" ? "ns-resize" : "ew-resize";
}

export function shapeBounds(api: EditorApi, s: ShapeDTO) {
  const g = s.geometry;
  if (g.kind === "mask") return api.painter.raster(g)?.bounds ?? null;
  return plainBounds(g);
}

export function translated(s: ShapeDTO, dx: number, dy: number): ShapeDTO | null {
  const g = s.geometry;
  if (g.kind === "mask") {
    const rle = translateMask(g.rle, Math.round(dx), Math.round(dy));
    return rle ? withGeometry(s, { kind: "mask", rle }) : null;
  }
  return withGeometry(s, translatePlain(g, dx, dy));
}

export interface Gesture {
  update(p: Pointer): void;
  finish(): void;
  cancel(): void;
}

/** Move shapes by dragging: the overlay draws them offset; one command on release. */
export class MoveDrag implements Gesture {
  private readonly items: PreviewItem[];
  private readonly bounds = emptyRect();
  private readonly whole: boolean;
  private dx = 0;
  private dy = 0;

  constructor(
    private readonly api: EditorApi,
    private readonly shapes: ShapeDTO[],
    private readonly start: Pointer,
  ) {
    for (const s of shapes) {
      const b = shapeBounds(api, s);
      if (b) unionInto(this.bounds, b);
    }
    // Masks move by whole pixels; the rest of the selection moves with them to keep its layout.
    this.whole = shapes.some((s) => s.geometry.kind === "mask");
    this.items = shapes.map((shape) => ({ shape, dx: 0, dy: 0 }));
    api.setPreview(this.items);
  }

  update(p: Pointer): void {
    let dx = p.x - this.start.x;
    let dy = p.y - this.start.y;
    if (!isEmpty(this.bounds)) [dx, dy] = clampDelta(this.bounds, dx, dy, this.api.info.width, this.api.info.height);
    if (this.whole) {
      dx = Math.round(dx);
      dy = Math.round(dy);
    }
    this.dx = dx;
    this.dy = dy;
    for (const it of this.items) {
      it.dx = dx;
      it.dy = dy;
    }
    this.api.redrawOverlay();
  }

  finish(): void {
    this.api.setPreview(null);
    if (Math.abs(this.dx) < 0.01 && Math.abs(this.dy) < 0.01) return;
    this.api.commit(this.shapes.map((s) => ({ cid: s.cid, after: translated(s, this.dx, this.dy) })));
  }

  cancel(): void {
    this.api.setPreview(null);
  }
}

/** Drag one handle: resize a box, move a polygon vertex or a keypoint. */
export class HandleDrag implements Gesture {
  private current: Geometry;
  private readonly item: PreviewItem;

  constructor(
    private readonly api: EditorApi,
    private readonly shape: ShapeDTO,
    private readonly grab: Grab,
  ) {
    this.current = shape.geometry;
    this.item = { shape, dx: 0, dy: 0 };
    api.setPreview([this.item]);
  }

  update(p: Pointer): void {
    const x = round2(clamp(p.x, 0, this.api.info.width));
    const y = round2(clamp(p.y, 0, this.api.info.height));
    const g = this.shape.geometry;
    const grab = this.grab;
    if (g.kind === "box" && grab.kind === "box") {
      let x0 = g.x;
      let y0 = g.y;
      let x1 = g.x + g.w;
      let y1 = g.y + g.h;
      if (grab.edge.includes("w")) x0 = x;
      if (grab.edge.includes("e")) x1 = x;
      if (grab.edge.includes("n")) y0 = y;
      if (grab.edge.includes("s")) y1 = y;
      this.current = normalizedBox(x0, y0, x1, y1, this.api.info.width, this.api.info.height);
    } else if (g.kind === "polygon" && grab.kind === "vertex") {
      const parts = g.parts.map((part, pi) => (pi === grab.part ? part.slice() : part));
      const part = parts[grab.part];
      if (part) {
        part[2 * grab.index] = x;
        part[2 * grab.index + 1] = y;
      }
      this.current = { kind: "polygon", parts };
    } else if (g.kind === "keypoints" && grab.kind === "keypoint") {
      const old = g.points[grab.name];
      this.current = { kind: "keypoints", points: { ...g.points, [grab.name]: [x, y, old?.[2] ?? 2] } };
    }
    this.item.shape = withGeometry(this.shape, this.current);
    this.api.redrawOverlay();
  }

  finish(): void {
    this.api.setPreview(null);
    const g = this.current;
    if (g === this.shape.geometry) return;
    if (g.kind === "box" && (g.w < 1 || g.h < 1)) {
      this.api.message("A box needs a width and a height: resize undone");
      return;
    }
    this.api.commit([{ cid: this.shape.cid, after: withGeometry(this.shape, g) }]);
  }

  cancel(): void {
    this.api.setPreview(null);
  }
}

/** Alt+click on a vertex: remove it (or its whole part when that part would fall under 3 points). */
export function deleteVertex(api: EditorApi, shape: ShapeDTO, part: number, index: number): void {
  const g = shape.geometry;
  if (g.kind !== "polygon") return;
  const ring = g.parts[part];
  if (!ring) return;
  let parts: number[][];
  if (ring.length / 2 > 3) parts = g.parts.map((p, pi) => (pi === part ? p.filter((_, i) => i >> 1 !== index) : p));
  else if (g.parts.length > 1) parts = g.parts.filter((_, pi) => pi !== part);
  else {
    api.message("A polygon needs at least 3 points (Delete removes the whole polygon)");
    return;
  }
  api.commit([{ cid: shape.cid, after: withGeometry(shape, { kind: "polygon", parts }) }]);
}

/** Double-click on an edge of the selected polygon: a new vertex there. */
export function insertVertex(api: EditorApi, shape: ShapeDTO, x: number, y: number): boolean {
  const g = shape.geometry;
  if (g.kind !== "polygon") return false;
  const hit = nearestEdge(g as PolygonGeometry, x, y, api.px(8));
  if (!hit) return false;
  const parts = g.parts.map((p, pi) => {
    if (pi !== hit.part) return p;
    const out = p.slice();
    out.splice(2 * hit.after + 2, 0, round2(hit.x), round2(hit.y));
    return out;
  });
  api.commit([{ cid: shape.cid, after: withGeometry(shape, { kind: "polygon", parts }) }]);
  return true;
}

/** The labelled keypoint nearest the pointer among the visible keypoint shapes (within 8 px). */
export function keypointAt(api: EditorApi, p: Pointer): { shape: ShapeDTO; name: string } | null {
  const r = api.px(GRAB_PX);
  let best: { shape: ShapeDTO; name: string } | null = null;
  let bestD = GRAB_PX;
  for (const shape of api.shapesIn({ minX: p.x - r, minY: p.y - r, maxX: p.x + r, maxY: p.y + r }, false)) {
    const g = shape.geometry;
    if (g.kind !== "keypoints") continue;
    for (const [name, pt] of Object.entries(g.points)) {
      if (pt[2] <= 0) continue;
      const d = Math.hypot(api.view.toScreenX(pt[0]) - p.sx, api.view.toScreenY(pt[1]) - p.sy);
      if (d <= bestD) {
        bestD = d;
        best = { shape, name };
      }
    }
  }
  return best;
}

/** Visible (2) <-> labelled but occluded (1). */
export function toggleKeypoint(api: EditorApi, shape: ShapeDTO, name: string): void {
  const g = shape.geometry;
  if (g.kind !== "keypoints") return;
  const pt = g.points[name];
  if (!pt) return;
  const points = { ...g.points, [name]: [pt[0], pt[1], pt[2] === 2 ? 1 : 2] as [number, number, number] };
  api.commit([{ cid: shape.cid, after: withGeometry(shape, { kind: "keypoints", points }) }]);
}
