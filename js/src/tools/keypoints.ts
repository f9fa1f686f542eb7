// The keypoints tool: places the current class's named points in order, one click each, with a prompt
// naming the next point. Alt+click places it as occluded (labelled, not visible); N skips it (not
// labelled); Backspace goes back one point; Enter finishes early. The points of the selected shape can
// be dragged, and X toggles the hovered point between visible and occluded. With a skeleton selected that
// lacks points (skipped with N, or imported that way), a click places its first missing point. A finished
// skeleton is not kept selected (the next click starts the next one): the user selects one to complete it.
import { clamp, round2, withGeometry } from "../geometry";
import { drawKeypoints, drawLabel } from "../render";
import type { Action, ClassDef, ShapeDTO } from "../types";
import { grabAt, HandleDrag, selectedShape, type Gesture, type Grab } from "./edit";
import type { EditorApi, Pointer, Tool } from "./tool";

interface Draft {
  cls: ClassDef;
  points: Record<string, [number, number, number]>;
  next: number;
}

export class KeypointsTool implements Tool {
  readonly name = "keypoints" as const;
  private draft: Draft | null = null;
  private gesture: Gesture | null = null;
  private pointer: Pointer | null = null;
  private hot: Grab | null = null;

  constructor(private readonly api: EditorApi) {}

  activate(): void {
    this.updatePrompt();
  }

  private currentClass(): ClassDef | null {
    const cls = this.api.classOf(this.api.label);
    return cls && cls.keypoints.length ? cls : null;
  }

  down(p: Pointer): void {
    const api = this.api;
    if (this.draft) {
      if (this.inside(p)) this.place(p, p.alt ? 1 : 2);
      return;
    }
    const grabbed = grabAt(api, p);
    if (grabbed && grabbed.grab.kind === "keypoint") {
      this.gesture = new HandleDrag(api, grabbed.shape, grabbed.grab);
      return;
    }
    if (!this.inside(p)) return;
    const gap = this.missing();
    if (gap) {
      const { shape, name } = gap;
      const g = shape.geometry;
      if (g.kind !== "keypoints") return;
      const pt: [number, number, number] = [round2(clamp(p.x, 0, api.info.width)), round2(clamp(p.y, 0, api.info.height)), p.alt ? 1 : 2];
      api.commit([{ cid: shape.cid, after: withGeometry(shape, { kind: "keypoints", points: { ...g.points, [name]: pt } }) }]);
      this.updatePrompt();
      return;
    }
    const cls = this.currentClass();
    if (!cls) {
      api.message("Choose a class that has keypoints");
      return;
    }
    this.draft = { cls, points: {}, next: 0 };
    this.place(p, p.alt ? 1 : 2);
  }

  /** The selected skeleton and the first of its class's points it lacks, if there is one. */
  private missing(): { shape: ShapeDTO; cls: ClassDef; name: string; left: number } | null {
    const shape = selectedShape(this.api);
    if (!shape || shape.geometry.kind !== "keypoints") return null;
    const cls = this.api.classOf(shape.label);
    const points = shape.geometry.points;
    const absent = (cls?.keypoints ?? []).filter((n) => !points[n] || points[n][2] === 0);
    const name = absent[0];
    return cls && name !== undefined ? { shape, cls, name, left: absent.length } : null;
  }

  /** A point goes where the click is: a click beside the image places nothing (clamped to the edge it
   * would land somewhere the user did not click). */
  private inside(p: Pointer): boolean {
    const { width, height } = this.api.info;
    if (p.x >= 0 && p.y >= 0 && p.x <= width && p.y <= height) return true;
    this.api.message("Click on the image to place a point");
    return false;
  }

  private place(p: Pointer, v: number): void {
    const d = this.draft;
    if (!d) return;
    const name = d.cls.keypoints[d.next];
    if (name === undefined) return;
    d.points[name] = [round2(clamp(p.x, 0, this.api.info.width)), round2(clamp(p.y, 0, this.api.info.height)), v];
    this.advance();
  }

  private advance(): void {
    const d = this.draft;
    if (!d) return;
    d.next++;
    if (d.next >= d.cls.keypoints.length) this.finish();
    else {
      this.updatePrompt();
      this.api.redrawOverlay();
    }
  }

  finish(): void {
    const api = this.api;
    const d = this.draft;
    this.draft = null;
    this.updatePrompt();
    api.redrawOverlay();
    if (!d || !Object.keys(d.points).length) return;
    const shape = api.newShape(d.cls.name, { kind: "keypoints", points: d.points });
    api.commit([{ cid: shape.cid, after: shape }]);
    api.select([]); // finished: the next click starts the next skeleton, a class key picks its class
    this.updatePrompt();
  }

  move(p: Pointer, pressed: boolean): void {
    this.pointer = p;
    if (!this.draft) this.updatePrompt(); // the selection may have changed (Esc, undo)
    if (this.gesture) {
      this.gesture.update(p);
      return;
    }
    if (!pressed && !this.draft) {
      const grabbed = grabAt(this.api, p);
      this.hot = grabbed?.grab.kind === "keypoint" ? grabbed.grab : null;
      this.api.setCursor(this.hot ? "move" : "crosshair");
    }
    this.api.redrawOverlay();
  }

  up(): void {
    if (this.gesture) {
      this.gesture.finish();
      this.gesture = null;
    }
  }

  action(a: Action): boolean {
    const d = this.draft;
    if (!d) return false;
    if (a === "close_polygon") {
      this.finish();
      return true;
    }
    if (a === "toggle_keypoint_visibility") {
      // While placing, X flips the point nearest the pointer (usually the one just placed).
      let target: string | null = null;
      let best = Infinity;
      for (const [name, pt] of Object.entries(d.points)) {
        const dist = this.pointer ? Math.hypot(this.api.view.toScreenX(pt[0]) - this.pointer.sx, this.api.view.toScreenY(pt[1]) - this.pointer.sy) : 0;
        if (dist < best) {
          best = dist;
          target = name;
        }
      }
      const pt = target ? d.points[target] : undefined;
      if (pt) pt[2] = pt[2] === 2 ? 1 : 2;
      this.api.redrawOverlay();
      return true;
    }
    return false;
  }

  key(e: KeyboardEvent): boolean {
    const d = this.draft;
    if (!d || e.ctrlKey || e.metaKey || e.altKey) return false;
    if (e.key === "n" || e.key === "N") {
      this.advance();
      return true;
    }
    if (e.key === "Backspace") {
      if (d.next === 0) {
        this.cancel();
        return true;
      }
      d.next--;
      delete d.points[d.cls.keypoints[d.next] ?? ""];
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

  private prompt: string | null = null;

  private setPrompt(text: string | null): void {
    if (text === this.prompt) return;
    this.prompt = text;
    this.api.setPrompt(text);
  }

  /** The prompt names the next point; it is the tool's main guidance. */
  updatePrompt(): void {
    const d = this.draft;
    if (d) {
      const name = d.cls.keypoints[d.next] ?? "";
      this.setPrompt(
        `${d.cls.name}: click “${name}” (${d.next + 1}/${d.cls.keypoints.length}) · Alt+click: occluded · N: skip · Backspace: back · Enter: finish · Esc: cancel`,
      );
      return;
    }
    const gap = this.missing();
    if (gap) {
      this.setPrompt(
        `Click to add “${gap.name}” to the selected ${gap.cls.name} (${gap.left} missing) · Alt+click: occluded · Esc: deselect to start a new one`,
      );
      return;
    }
    const cls = this.currentClass();
    this.setPrompt(
      cls
        ? `Click to place “${cls.keypoints[0] ?? ""}” (1/${cls.keypoints.length}) of a new ${cls.name}`
        : "Choose a class that has keypoints",
    );
  }

  draw(ctx: CanvasRenderingContext2D): void {
    const api = this.api;
    const dpr = api.dpr;
    const d = this.draft;
    if (d) {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      drawKeypoints(ctx, api.view, { kind: "keypoints", points: d.points }, d.cls, d.cls.color, 5, 0, 0);
    }
    const p = this.pointer;
    const gap = d ? null : this.missing();
    const cls = d?.cls ?? gap?.cls ?? this.currentClass();
    if (p && cls && !this.gesture && !this.hot) {
      const name = gap ? gap.name : cls.keypoints[d ? d.next : 0];
      if (name) drawLabel(ctx, dpr, name, cls.color, p.sx + 12, p.sy + 26);
    }
    const sel = selectedShape(api);
    if (this.hot && this.hot.kind === "keypoint" && sel && sel.geometry.kind === "keypoints") {
      const pt = sel.geometry.points[this.hot.name];
      if (pt) drawLabel(ctx, dpr, this.hot.name, api.colorOf(sel.label), api.view.toScreenX(pt[0]) + 8, api.view.toScreenY(pt[1]) - 4);
    }
  }

  deactivate(): void {
    this.cancel();
    this.setPrompt(null);
    this.pointer = null;
    this.hot = null;
  }

  leave(): void {
    this.pointer = null;
    this.api.redrawOverlay();
  }
}
