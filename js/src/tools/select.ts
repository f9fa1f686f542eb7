// The select tool: click selects (Shift+click adds or removes; also the model's suggestions, whose
// selection Space accepts), a drag on a shape moves the selection,
// a drag on a handle of the one selected shape resizes or reshapes it, Shift+drag on empty canvas
// selects by rectangle, and a plain drag on empty canvas pans.
import { drawHandles } from "../render";
import type { Action } from "../types";
import {
  cursorFor,
  deleteVertex,
  grabAt,
  HandleDrag,
  hotName,
  insertVertex,
  MoveDrag,
  selectedShape,
  type Gesture,
  type Grab,
} from "./edit";
import type { EditorApi, Pointer, Tool } from "./tool";

const DRAG_START_PX = 3;

export class SelectTool implements Tool {
  readonly name = "select" as const;
  private gesture: Gesture | null = null;
  private pressed: Pointer | null = null;
  private band: { x0: number; y0: number; x1: number; y1: number; base: string[] } | null = null;
  private hot: Grab | null = null;

  constructor(private readonly api: EditorApi) {}

  down(p: Pointer): "pan" | void {
    const api = this.api;
    if (api.readonly) {
      const hit = api.shapeAt(p.x, p.y);
      if (!hit) return "pan";
      api.select([hit.cid], p.shift ? "toggle" : "replace");
      return;
    }
    const grabbed = grabAt(api, p);
    if (grabbed) {
      const { shape, grab } = grabbed;
      if (p.alt && grab.kind === "vertex") {
        deleteVertex(api, shape, grab.part, grab.index);
        return;
      }
      this.gesture = new HandleDrag(api, shape, grab);
      return;
    }
    const hit = api.shapeAt(p.x, p.y);
    const ghost = api.ghostAt(p.x, p.y, hit);
    if (ghost) {
      api.selectGhost(ghost.cid, p.shift ? "toggle" : "replace");
      return;
    }
    if (hit) {
      if (p.shift) {
        api.select([hit.cid], "toggle");
        return;
      }
      if (!api.selection.has(hit.cid)) api.select([hit.cid]);
      this.pressed = p;
      return;
    }
    if (p.shift) {
      this.band = { x0: p.x, y0: p.y, x1: p.x, y1: p.y, base: [...api.selection] };
      return;
    }
    return "pan";
  }

  click(): void {
    this.api.select([]);
  }

  move(p: Pointer, pressed: boolean): void {
    const api = this.api;
    if (this.pressed && !this.gesture) {
      if (Math.hypot(p.sx - this.pressed.sx, p.sy - this.pressed.sy) < DRAG_START_PX) return;
      const shapes = [...api.selection].map((c) => api.store.get(c)).filter((s) => s !== undefined);
      this.gesture = new MoveDrag(api, shapes, this.pressed);
      api.setCursor("move");
    }
    if (this.gesture) {
      this.gesture.update(p);
      return;
    }
    if (this.band) {
      const b = this.band;
      b.x1 = p.x;
      b.y1 = p.y;
      const r = { minX: Math.min(b.x0, b.x1), minY: Math.min(b.y0, b.y1), maxX: Math.max(b.x0, b.x1), maxY: Math.max(b.y0, b.y1) };
      api.select([...b.base, ...api.shapesIn(r, true).map((s) => s.cid)]);
      api.redrawOverlay();
      return;
    }
    if (!pressed) this.hover(p);
  }

  /** Hover feedback: the handle or shape under the pointer, and the matching cursor. */
  private hover(p: Pointer): void {
    const api = this.api;
    const grabbed = api.readonly ? null : grabAt(api, p);
    const hot = grabbed?.grab ?? null;
    if (hotName(hot) !== hotName(this.hot)) {
      this.hot = hot;
      api.redrawOverlay();
    }
    if (grabbed) {
      api.setHover(null);
      api.setGhostHover(null);
      api.setCursor(cursorFor(grabbed.grab));
      return;
    }
    const hit = api.shapeAt(p.x, p.y);
    const ghost = api.readonly ? null : api.ghostAt(p.x, p.y, hit);
    api.setGhostHover(ghost?.cid ?? null);
    api.setHover(ghost ? null : (hit?.cid ?? null));
    api.setCursor(ghost ? "pointer" : hit ? (api.readonly ? "pointer" : "move") : "default");
  }

  up(): void {
    this.gesture?.finish();
    this.gesture = null;
    this.pressed = null;
    if (this.band) {
      this.band = null;
      this.api.redrawOverlay();
    }
  }

  dblclick(p: Pointer): void {
    const shape = selectedShape(this.api);
    if (shape && shape.geometry.kind === "polygon") insertVertex(this.api, shape, p.x, p.y);
  }

  action(_a: Action): boolean {
    return false;
  }

  cancel(): boolean {
    if (this.gesture) {
      this.gesture.cancel();
      this.gesture = null;
      this.pressed = null;
      return true;
    }
    if (this.band) {
      this.api.select(this.band.base);
      this.band = null;
      this.api.redrawOverlay();
      return true;
    }
    return false;
  }

  draw(ctx: CanvasRenderingContext2D): void {
    const api = this.api;
    const shape = selectedShape(api);
    if (shape && !this.gesture && !api.readonly) drawHandles(ctx, api.view, api.dpr, shape, api.colorOf(shape.label), hotName(this.hot));
    if (this.band) drawBand(ctx, api, this.band);
  }

  deactivate(): void {
    this.cancel();
    this.hot = null;
  }

  leave(): void {
    this.api.setHover(null);
    this.api.setGhostHover(null);
  }
}

function drawBand(
  ctx: CanvasRenderingContext2D,
  api: EditorApi,
  b: { x0: number; y0: number; x1: number; y1: number },
): void {
  const v = api.view;
  ctx.setTransform(api.dpr, 0, 0, api.dpr, 0, 0);
  const x = v.toScreenX(Math.min(b.x0, b.x1));
  const y = v.toScreenY(Math.min(b.y0, b.y1));
  const w = Math.abs(b.x1 - b.x0) * v.scale;
  const h = Math.abs(b.y1 - b.y0) * v.scale;
  ctx.fillStyle = "rgba(33,150,243,0.12)";
  ctx.fillRect(x, y, w, h);
  ctx.setLineDash([5, 4]);
  ctx.lineWidth = 1;
  ctx.strokeStyle = "#2196f3";
  ctx.strokeRect(x + 0.5, y + 0.5, w, h);
  ctx.setLineDash([]);
}
