// The box tool: drag to draw a box of the current class; the handles of the selected box resize it;
// a click without dragging selects what is under the pointer. Guide lines follow the pointer so the
// first corner can be aligned with the object's edges before pressing.
import { clamp, normalizedBox } from "../geometry";
import { drawHandles, drawLabel, rgba } from "../render";
import { cursorFor, grabAt, HandleDrag, hotName, selectedShape, type Gesture, type Grab } from "./edit";
import type { EditorApi, Pointer, Tool } from "./tool";

const MIN_DRAG_PX = 4;

export class BoxTool implements Tool {
  readonly name = "box" as const;
  private draft: { x0: number; y0: number; x1: number; y1: number; start: Pointer } | null = null;
  private gesture: Gesture | null = null;
  private pointer: Pointer | null = null;
  private hot: Grab | null = null;

  constructor(private readonly api: EditorApi) {}

  down(p: Pointer): void {
    const api = this.api;
    const grabbed = grabAt(api, p);
    if (grabbed && grabbed.grab.kind === "box") {
      this.gesture = new HandleDrag(api, grabbed.shape, grabbed.grab);
      return;
    }
    const x = clamp(p.x, 0, api.info.width);
    const y = clamp(p.y, 0, api.info.height);
    this.draft = { x0: x, y0: y, x1: x, y1: y, start: p };
  }

  move(p: Pointer, pressed: boolean): void {
    const api = this.api;
    this.pointer = p;
    if (this.gesture) {
      this.gesture.update(p);
      return;
    }
    if (this.draft) {
      this.draft.x1 = clamp(p.x, 0, api.info.width);
      this.draft.y1 = clamp(p.y, 0, api.info.height);
    } else if (!pressed) {
      const grabbed = grabAt(api, p);
      this.hot = grabbed?.grab.kind === "box" ? grabbed.grab : null;
      api.setCursor(this.hot ? cursorFor(this.hot) : "crosshair");
    }
    api.redrawOverlay();
  }

  up(p: Pointer): void {
    const api = this.api;
    if (this.gesture) {
      this.gesture.finish();
      this.gesture = null;
      return;
    }
    const d = this.draft;
    this.draft = null;
    if (!d) return;
    if (Math.hypot(p.sx - d.start.sx, p.sy - d.start.sy) < MIN_DRAG_PX) {
      const hit = api.shapeAt(p.x, p.y);
      api.select(hit ? [hit.cid] : []);
      return;
    }
    if (!api.label) {
      api.message("Choose a class first (1–9 or the class list)");
      return;
    }
    const g = normalizedBox(d.x0, d.y0, d.x1, d.y1, api.info.width, api.info.height);
    if (g.w < 1 || g.h < 1) return;
    const shape = api.newShape(api.label, g);
    api.commit([{ cid: shape.cid, after: shape }]);
    api.select([]); // finished: a class key now picks the class of the next box (as in CVAT, Label Studio)
  }

  cancel(): boolean {
    if (this.gesture) {
      this.gesture.cancel();
      this.gesture = null;
      return true;
    }
    if (this.draft) {
      this.draft = null;
      this.api.redrawOverlay();
      return true;
    }
    return false;
  }

  draw(ctx: CanvasRenderingContext2D): void {
    const api = this.api;
    const v = api.view;
    const dpr = api.dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const p = this.pointer;
    if (p && !this.gesture && !this.hot) {
      ctx.setLineDash([4, 4]);
      ctx.lineWidth = 1;
      ctx.strokeStyle = "rgba(255,255,255,0.75)";
      ctx.beginPath();
      ctx.moveTo(0, Math.round(p.sy) + 0.5);
      ctx.lineTo(v.width, Math.round(p.sy) + 0.5);
      ctx.moveTo(Math.round(p.sx) + 0.5, 0);
      ctx.lineTo(Math.round(p.sx) + 0.5, v.height);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    const d = this.draft;
    if (d) {
      const color = api.colorOf(api.label);
      const x = v.toScreenX(Math.min(d.x0, d.x1));
      const y = v.toScreenY(Math.min(d.y0, d.y1));
      const w = Math.abs(d.x1 - d.x0) * v.scale;
      const h = Math.abs(d.y1 - d.y0) * v.scale;
      ctx.fillStyle = rgba(color, 0.15);
      ctx.fillRect(x, y, w, h);
      ctx.lineWidth = 2;
      ctx.strokeStyle = color;
      ctx.strokeRect(x, y, w, h);
      const size = `${Math.round(Math.abs(d.x1 - d.x0))} × ${Math.round(Math.abs(d.y1 - d.y0))}`;
      drawLabel(ctx, dpr, `${api.label ?? "?"}  ${size}`, color, x, y);
    }
    const sel = selectedShape(api);
    if (sel && sel.geometry.kind === "box" && !this.gesture && !d) {
      drawHandles(ctx, v, dpr, sel, api.colorOf(sel.label), hotName(this.hot));
    }
  }

  deactivate(): void {
    this.cancel();
    this.pointer = null;
  }

  leave(): void {
    this.pointer = null;
    this.api.redrawOverlay();
  }
}
