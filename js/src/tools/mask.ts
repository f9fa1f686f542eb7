// The mask brush and eraser. A stroke paints on a work canvas at the mask grid's resolution (the
// bitmap's, see mask.ts); on release only the cells the stroke touched are read back and merged into
// the shape's full-resolution runs, so a stroke costs its own area, not the image's. The brush adds to
// the selected mask of the current class, else to the mask being painted (the one the last strokes made,
// until Esc, another class or a tool other than brush and eraser: one object takes several strokes), else
// starts a new one. A mask it made is not selected, so a class key picks the class of the next mask, as
// after any drawing. The eraser removes from the selected mask, else the one being painted, else the one
// under the pointer; erasing a mask entirely deletes it.
import { withGeometry } from "../geometry";
import { encodePatched, rasterImageData } from "../mask";
import type { Action, ShapeDTO } from "../types";
import { selectedShape } from "./edit";
import type { EditorApi, Pointer, Tool } from "./tool";

/** The mask being painted, per editor: shared by its brush and its eraser. */
const painted = new WeakMap<EditorApi, { cid: string | null }>();

/** Another tool was picked: the next brush stroke starts a new mask. */
export function forgetPaintedMask(api: EditorApi): void {
  const s = painted.get(api);
  if (s) s.cid = null;
}

interface Stroke {
  target: ShapeDTO | null;
  label: string | null;
  color: string;
  lastX: number;
  lastY: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export class MaskTool implements Tool {
  private work: HTMLCanvasElement | null = null;
  private stroke: Stroke | null = null;
  private pointer: Pointer | null = null;
  private readonly painting: { cid: string | null };

  constructor(
    private readonly api: EditorApi,
    readonly name: "mask" | "eraser",
  ) {
    let session = painted.get(api);
    if (!session) painted.set(api, (session = { cid: null }));
    this.painting = session;
  }

  activate(): void {
    this.updatePrompt();
  }

  private workCtx(): CanvasRenderingContext2D | null {
    const { dw, dh } = this.api.grid;
    if (!this.work) this.work = document.createElement("canvas");
    if (this.work.width !== dw || this.work.height !== dh) {
      this.work.width = dw;
      this.work.height = dh;
    }
    return this.work.getContext("2d", { willReadFrequently: true });
  }

  private pickTarget(p: Pointer): ShapeDTO | null | "none" {
    const api = this.api;
    const sel = selectedShape(api);
    if (this.name === "mask") {
      const target = sel ?? this.paintingShape();
      return target && target.geometry.kind === "mask" && target.label === api.label ? target : null;
    }
    if (sel && sel.geometry.kind === "mask") return sel;
    const current = this.paintingShape();
    if (current && current.geometry.kind === "mask") return current;
    const hit = api.shapeAt(p.x, p.y);
    if (hit && hit.geometry.kind === "mask") {
      api.select([hit.cid]);
      return hit;
    }
    return "none";
  }

  down(p: Pointer): void {
    const api = this.api;
    const target = this.pickTarget(p);
    if (target === "none") {
      api.message("Select a mask to erase from (or click on one)");
      return;
    }
    if (!target && !api.label) {
      api.message("Choose a class first (1–9 or the class list)");
      return;
    }
    const ctx = this.workCtx();
    if (!ctx) return;
    const label = target ? target.label : api.label;
    const color = api.colorOf(label);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalCompositeOperation = "source-over";
    ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    if (target && target.geometry.kind === "mask") {
      const r = api.painter.raster(target.geometry);
      if (r && r.w && r.h) ctx.putImageData(rasterImageData(r, color), r.x0, r.y0);
      api.setPreview([{ shape: target, dx: 0, dy: 0, hidden: true }]);
    }
    const [gx, gy] = this.toGrid(p);
    this.stroke = { target, label, color, lastX: gx, lastY: gy, x0: gx, y0: gy, x1: gx, y1: gy };
    this.paint(gx, gy);
  }

  /** The mask being painted, while it exists and nothing else is selected. */
  private paintingShape(): ShapeDTO | null {
    const cid = this.painting.cid;
    if (cid === null || this.api.selection.size) return null;
    return this.api.store.get(cid) ?? null;
  }

  private toGrid(p: Pointer): [number, number] {
    const { W, H, dw, dh } = this.api.grid;
    return [(p.x * dw) / W, (p.y * dh) / H];
  }

  /** Brush diameter in grid cells. */
  private gridSize(): number {
    const { W, dw } = this.api.grid;
    return Math.max(1, (this.api.brushSize * dw) / W);
  }

  private paint(gx: number, gy: number): void {
    const s = this.stroke;
    const ctx = this.work?.getContext("2d", { willReadFrequently: true });
    if (!s || !ctx) return;
    const size = this.gridSize();
    ctx.globalCompositeOperation = this.name === "eraser" ? "destination-out" : "source-over";
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = size;
    ctx.beginPath();
    if (s.lastX === gx && s.lastY === gy) {
      ctx.arc(gx, gy, size / 2, 0, Math.PI * 2);
      ctx.fill();
    } else {
      ctx.moveTo(s.lastX, s.lastY);
      ctx.lineTo(gx, gy);
      ctx.stroke();
    }
    s.x0 = Math.min(s.x0, gx);
    s.y0 = Math.min(s.y0, gy);
    s.x1 = Math.max(s.x1, gx);
    s.y1 = Math.max(s.y1, gy);
    s.lastX = gx;
    s.lastY = gy;
  }

  move(p: Pointer): void {
    this.pointer = p;
    if (this.stroke) {
      const [gx, gy] = this.toGrid(p);
      this.paint(gx, gy);
    }
    this.api.setCursor("none");
    this.api.redrawOverlay();
  }

  up(): void {
    const s = this.stroke;
    this.stroke = null;
    if (!s) return;
    const api = this.api;
    const ctx = this.work?.getContext("2d", { willReadFrequently: true });
    api.setPreview(null);
    if (!ctx) return;
    const { dw, dh } = api.grid;
    const r = this.gridSize() / 2 + 2;
    const x0 = Math.max(0, Math.floor(s.x0 - r));
    const y0 = Math.max(0, Math.floor(s.y0 - r));
    const x1 = Math.min(dw, Math.ceil(s.x1 + r));
    const y1 = Math.min(dh, Math.ceil(s.y1 + r));
    if (x1 <= x0 || y1 <= y0) return;
    const w = x1 - x0;
    const h = y1 - y0;
    const data = ctx.getImageData(x0, y0, w, h).data;
    const bits = new Uint8Array(w * h);
    for (let i = 0; i < bits.length; i++) bits[i] = (data[i * 4 + 3] ?? 0) >= 128 ? 1 : 0;
    const old = s.target && s.target.geometry.kind === "mask" ? s.target.geometry.rle : null;
    const rle = encodePatched(old, { x0, y0, w, h, bits }, api.grid);
    if (s.target) {
      api.commit([{ cid: s.target.cid, after: rle ? withGeometry(s.target, { kind: "mask", rle }) : null }]);
      if (!rle) api.message("Mask erased entirely: deleted (Ctrl+Z brings it back)");
    } else if (rle) {
      const shape = api.newShape(s.label, { kind: "mask", rle });
      api.commit([{ cid: shape.cid, after: shape }]);
      api.select([]);
      this.painting.cid = shape.cid;
    }
    this.updatePrompt();
  }

  cancel(): boolean {
    if (this.stroke) {
      this.stroke = null;
      this.api.setPreview(null);
      this.api.redrawOverlay();
      return true;
    }
    return false;
  }

  /** Esc with no stroke under way lets go of the mask being painted: the next stroke starts a new one. */
  action(a: Action): boolean {
    if (a !== "cancel" || this.stroke || !this.paintingShape()) return false;
    this.painting.cid = null;
    this.updatePrompt();
    return true;
  }

  updatePrompt(): void {
    const api = this.api;
    const sel = selectedShape(api);
    const size = `${Math.round(api.brushSize)} px brush ([ and ] change it)`;
    const into = sel ?? this.paintingShape();
    const which = sel ? "selected" : "current";
    if (this.name === "eraser") {
      api.setPrompt(into && into.geometry.kind === "mask" ? `Erasing from the ${which} ${into.label ?? ""} mask · ${size}` : `Click a mask to erase from it · ${size}`);
      return;
    }
    api.setPrompt(
      into && into.geometry.kind === "mask" && into.label === api.label
        ? `Painting into the ${which} ${api.label ?? ""} mask · Esc: start a new one · ${size}`
        : `Paint a new ${api.label ?? "?"} mask · ${size}`,
    );
  }

  draw(ctx: CanvasRenderingContext2D): void {
    const api = this.api;
    const v = api.view;
    const dpr = api.dpr;
    const s = this.stroke;
    if (s && this.work) {
      ctx.setTransform(dpr * v.scale, 0, 0, dpr * v.scale, dpr * v.tx, dpr * v.ty);
      ctx.imageSmoothingEnabled = false;
      ctx.globalAlpha = 0.55;
      ctx.drawImage(this.work, 0, 0, api.info.width, api.info.height);
      ctx.globalAlpha = 1;
    }
    const p = this.pointer;
    if (p) {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      const radius = Math.max(2, (api.brushSize * v.scale) / 2);
      ctx.beginPath();
      ctx.arc(p.sx, p.sy, radius, 0, Math.PI * 2);
      ctx.lineWidth = 3;
      ctx.strokeStyle = "rgba(0,0,0,0.55)";
      ctx.stroke();
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = this.name === "eraser" ? "#ffffff" : api.colorOf(s?.label ?? api.label);
      ctx.stroke();
      if (this.name === "eraser") {
        ctx.beginPath();
        ctx.moveTo(p.sx - 4, p.sy);
        ctx.lineTo(p.sx + 4, p.sy);
        ctx.stroke();
      }
    }
  }

  deactivate(): void {
    this.cancel();
    this.pointer = null;
    this.api.setPrompt(null);
    if (this.work) {
      this.work.width = 0; // free the backing store now
      this.work.height = 0;
      this.work = null;
    }
  }

  leave(): void {
    this.pointer = null;
    this.api.redrawOverlay();
  }
}
