// The polygon tool. Click to add points; click the first point, press Enter or double-click to finish;
// Shift+click closes the current part and starts another part of the same object (or, with a polygon
// selected and nothing being drawn, adds a part to it); Backspace removes the last point. The vertices
// of the selected polygon can be dragged, Alt+clicked away, and a double-click on an edge adds one.
import { clamp, round2, withGeometry } from "../geometry";
import { drawHandles, rgba } from "../render";
import type { Action, ShapeDTO } from "../types";
import { deleteVertex, grabAt, HandleDrag, hotName, insertVertex, selectedShape, type Gesture, type Grab } from "./edit";
import type { EditorApi, Pointer, Tool } from "./tool";

const CLOSE_PX = 9;

interface Draft {
  parts: number[][];
  current: number[];
  /** The selected polygon that gets the new parts, or null for a new shape. */
  target: ShapeDTO | null;
}

export class PolygonTool implements Tool {
  readonly name = "polygon" as const;
  private draft: Draft | null = null;
  private gesture: Gesture | null = null;
  private pointer: Pointer | null = null;
  private hot: Grab | null = null;

  constructor(private readonly api: EditorApi) {}

  private nearFirst(p: Pointer): boolean {
    const cur = this.draft?.current;
    if (!cur || cur.length < 6) return false;
    const v = this.api.view;
    return Math.hypot(v.toScreenX(cur[0] ?? 0) - p.sx, v.toScreenY(cur[1] ?? 0) - p.sy) <= CLOSE_PX;
  }

  down(p: Pointer): void {
    const api = this.api;
    const x = round2(clamp(p.x, 0, api.info.width));
    const y = round2(clamp(p.y, 0, api.info.height));
    const d = this.draft;
    if (d) {
      if (this.nearFirst(p)) {
        if (p.shift) this.closePart();
        else this.finish();
        return;
      }
      if (p.shift && d.current.length >= 6) {
        this.closePart();
        d.current = [x, y];
      } else {
        const n = d.current.length;
        const v = api.view;
        const dup = n >= 2 && Math.hypot(v.toScreenX(d.current[n - 2] ?? 0) - p.sx, v.toScreenY(d.current[n - 1] ?? 0) - p.sy) < 3;
        if (!dup) d.current.push(x, y); // the second click of a double-click adds nothing
      }
      this.updatePrompt();
      api.redrawOverlay();
      return;
    }
    const grabbed = grabAt(api, p);
    if (grabbed && grabbed.grab.kind === "vertex") {
      if (p.alt) deleteVertex(api, grabbed.shape, grabbed.grab.part, grabbed.grab.index);
      else this.gesture = new HandleDrag(api, grabbed.shape, grabbed.grab);
      return;
    }
    const sel = selectedShape(api);
    if (p.shift && sel && sel.geometry.kind === "polygon") {
      this.draft = { parts: [], current: [x, y], target: sel };
    } else {
      if (!api.label) {
        api.message("Choose a class first (1–9 or the class list)");
        return;
      }
      this.draft = { parts: [], current: [x, y], target: null };
    }
    this.updatePrompt();
    api.redrawOverlay();
  }

  private closePart(): void {
    const d = this.draft;
    if (!d || d.current.length < 6) return;
    d.parts.push(d.current);
    d.current = [];
    this.updatePrompt();
    this.api.redrawOverlay();
  }

  /** Turn the draft into a shape (or new parts of the target polygon). */
  finish(): void {
    const api = this.api;
    const d = this.draft;
    if (!d) return;
    this.draft = null;
    if (d.current.length >= 6) d.parts.push(d.current);
    api.redrawOverlay();
    this.updatePrompt();
    if (!d.parts.length) {
      api.message("A polygon needs at least 3 points");
      return;
    }
    if (d.target) {
      const target = api.store.get(d.target.cid);
      if (target && target.geometry.kind === "polygon") {
        api.commit([{ cid: target.cid, after: withGeometry(target, { kind: "polygon", parts: [...target.geometry.parts, ...d.parts] }) }]);
      }
      return;
    }
    const shape = api.newShape(api.label, { kind: "polygon", parts: d.parts });
    api.commit([{ cid: shape.cid, after: shape }]);
    api.select([]); // finished: a class key now picks the class of the next polygon
  }

  move(p: Pointer, pressed: boolean): void {
    this.pointer = p;
    if (this.gesture) {
      this.gesture.update(p);
      return;
    }
    if (this.draft) {
      this.api.setCursor(this.nearFirst(p) ? "pointer" : "crosshair");
      this.api.redrawOverlay();
      return;
    }
    if (!pressed) {
      const grabbed = grabAt(this.api, p);
      const hot = grabbed?.grab.kind === "vertex" ? grabbed.grab : null;
      if (hotName(hot) !== hotName(this.hot)) {
        this.hot = hot;
        this.api.redrawOverlay();
      }
      this.api.setCursor(hot ? "move" : "crosshair");
    }
  }

  up(): void {
    if (this.gesture) {
      this.gesture.finish();
      this.gesture = null;
    }
  }

  dblclick(p: Pointer): void {
    const d = this.draft;
    if (d && (d.parts.length || d.current.length > 2)) {
      this.finish();
      return;
    }
    // A double-click that is not drawing: its first click began a one-point draft; drop it.
    this.draft = null;
    this.updatePrompt();
    const sel = selectedShape(this.api);
    if (sel && sel.geometry.kind === "polygon") insertVertex(this.api, sel, p.x, p.y);
    this.api.redrawOverlay();
  }

  action(a: Action): boolean {
    if (a === "close_polygon" && this.draft) {
      this.finish();
      return true;
    }
    return false;
  }

  key(e: KeyboardEvent): boolean {
    const d = this.draft;
    if (e.key === "Backspace" && d) {
      if (d.current.length) d.current.splice(-2, 2);
      else d.current = d.parts.pop() ?? [];
      if (!d.current.length && !d.parts.length) this.draft = null;
      this.updatePrompt();
      this.api.redrawOverlay();
      return true;
    }
    return false;
  }

  cancel(): boolean {
    if (this.gesture) {
      this.gesture.cancel();
      this.gesture = null;
      return true;
    }
    if (this.draft) {
      this.draft = null;
      this.updatePrompt();
      this.api.redrawOverlay();
      return true;
    }
    return false;
  }

  get drawing(): boolean {
    return this.draft !== null;
  }

  private updatePrompt(): void {
    const d = this.draft;
    if (!d) {
      this.api.setPrompt(null);
      return;
    }
    const n = d.current.length / 2;
    const parts = d.parts.length ? ` · ${d.parts.length} part${d.parts.length > 1 ? "s" : ""} closed` : "";
    this.api.setPrompt(
      n >= 3
        ? `${n} points${parts} — click the first point or press Enter to finish · Shift+click: new part · Backspace: remove a point · Esc: cancel`
        : `${n} point${n === 1 ? "" : "s"}${parts} — click to add points · Backspace: remove a point · Esc: cancel`,
    );
  }

  draw(ctx: CanvasRenderingContext2D): void {
    const api = this.api;
    const v = api.view;
    const dpr = api.dpr;
    const d = this.draft;
    if (!d) {
      const sel = selectedShape(api);
      if (sel && sel.geometry.kind === "polygon" && !this.gesture) {
        drawHandles(ctx, v, dpr, sel, api.colorOf(sel.label), hotName(this.hot));
      }
      return;
    }
    const color = api.colorOf(d.target?.label ?? api.label);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.lineJoin = "round";
    for (const part of d.parts) {
      ctx.beginPath();
      for (let i = 0; i + 1 < part.length; i += 2) ctx.lineTo(v.toScreenX(part[i] ?? 0), v.toScreenY(part[i + 1] ?? 0));
      ctx.closePath();
      ctx.fillStyle = rgba(color, 0.3);
      ctx.fill();
      ctx.lineWidth = 2;
      ctx.strokeStyle = color;
      ctx.stroke();
    }
    const cur = d.current;
    if (!cur.length) return;
    ctx.beginPath();
    for (let i = 0; i + 1 < cur.length; i += 2) ctx.lineTo(v.toScreenX(cur[i] ?? 0), v.toScreenY(cur[i + 1] ?? 0));
    const p = this.pointer;
    if (p) ctx.lineTo(p.sx, p.sy);
    if (cur.length >= 6) {
      ctx.fillStyle = rgba(color, 0.15);
      ctx.fill();
    }
    ctx.lineWidth = 2;
    ctx.strokeStyle = color;
    ctx.stroke();
    const closing = p ? this.nearFirst(p) : false;
    for (let i = 0; i + 1 < cur.length; i += 2) {
      ctx.beginPath();
      const first = i === 0;
      ctx.arc(v.toScreenX(cur[i] ?? 0), v.toScreenY(cur[i + 1] ?? 0), first && closing ? 7 : first ? 5 : 3.5, 0, Math.PI * 2);
      ctx.fillStyle = first && closing ? color : "#ffffff";
      ctx.fill();
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = first && closing ? "#ffffff" : color;
      ctx.stroke();
    }
  }

  deactivate(): void {
    this.cancel();
    this.pointer = null;
    this.hot = null;
  }

  leave(): void {
    this.pointer = null;
    this.api.redrawOverlay();
  }
}
