// The grader's canvas: the image (the Annotator's ImageLayer: the stored preview first, the full image
// swapped in once Python sends it, a huge image as tiles asked for here) and, over it, what the scene draws;
// the wheel zooms at the pointer, a drag pans, a click picks (the panel decides what). One canvas redrawn
// whole on the next animation frame after any change: an exam image carries tens of instances, not
// thousands, so the Annotator's layer caching would buy nothing here.
import type { Disposer } from "../disposer";
import { ImageLayer } from "../imagelayer";
import { isTiled, TileSet } from "../tiles";
import type { ImageInfo } from "../types";
import { h } from "../ui/dom";
import { Viewport, type Rect } from "../view";
import { tileModel, type GraderModel } from "./model";

/** A press that moves less than this (CSS px) is a click, not a pan. */
const CLICK_SLOP = 4;
/** Screen px kept around the instances Focus zooms to. */
const FOCUS_PAD = 60;

export class Stage {
  readonly el: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  readonly view = new Viewport();
  readonly image: ImageLayer;
  private readonly ctx: CanvasRenderingContext2D;
  private info: ImageInfo | null = null;
  private raf = 0;
  private press: { x: number; y: number; panning: boolean; id: number } | null = null;

  constructor(
    private readonly model: GraderModel,
    /** Draws the scene over the image (image coordinates through `view`). */
    private readonly paint: (ctx: CanvasRenderingContext2D, view: Viewport, dpr: number) => void,
    /** A click at image point (x, y) within `tol` image px. */
    private readonly onClick: (x: number, y: number, tol: number) => void,
    onError: (message: string) => void,
    disposer: Disposer,
  ) {
    this.canvas = h("canvas", { class: "lgr-canvas", "aria-hidden": "true" });
    const ctx = this.canvas.getContext("2d");
    if (!ctx) throw new Error("labnb: this browser gives no 2D canvas");
    this.ctx = ctx;
    this.el = h("div", { class: "lgr-stage", "data-testid": "grader-stage" }, this.canvas);
    this.image = new ImageLayer(() => this.schedule(), onError);
    const ro = new ResizeObserver(() => this.resized());
    ro.observe(this.el);
    disposer.add(() => ro.disconnect());
    disposer.listen<WheelEvent>(this.el, "wheel", (e) => this.wheel(e), { passive: false });
    disposer.listen<PointerEvent>(this.el, "pointerdown", (e) => this.down(e));
    disposer.listen<PointerEvent>(this.el, "pointermove", (e) => this.move(e));
    disposer.listen<PointerEvent>(this.el, "pointerup", (e) => this.up(e));
    disposer.listen<PointerEvent>(this.el, "pointercancel", () => (this.press = null));
    disposer.add(() => this.dispose());
  }

  /** Show an image: another showing loads it anew and fits it, the same one takes the better bytes. */
  show(info: ImageInfo | null, image: DataView | null, preview: DataView | null): void {
    const same = info !== null && this.info !== null && this.info.asset_id === info.asset_id && this.info.shown === info.shown;
    const before = this.info;
    this.info = info;
    if (!info) {
      this.image.dispose();
      this.schedule();
      return;
    }
    if (same) this.image.update(info, image, preview);
    else {
      const tiles = isTiled(info) ? new TileSet(tileModel(this.model), info, () => this.schedule(), () => undefined) : null;
      const wantFull = (): void => this.model.send({ type: "want_full", asset_id: info.asset_id });
      this.image.load(info, image ?? new DataView(new ArrayBuffer(0)), { preview, tiles, wantFull });
      if (!before || before.asset_id !== info.asset_id) this.view.setImage(info.width, info.height);
    }
    this.schedule();
  }

  get busy(): boolean {
    return this.raf !== 0 || this.image.loading || this.image.refining;
  }

  /** Redraw on the next frame. */
  schedule(): void {
    if (this.raf) return;
    this.raf = requestAnimationFrame(() => {
      this.raf = 0;
      this.draw();
    });
  }

  fit(): void {
    this.view.fit();
    this.schedule();
  }

  /** Zoom so that image rectangle `r` fills the stage (never past the view's limits). */
  zoomTo(r: Rect): void {
    const v = this.view;
    const w = Math.max(1, r.maxX - r.minX);
    const hh = Math.max(1, r.maxY - r.minY);
    const scale = Math.min((v.width - 2 * FOCUS_PAD) / w, (v.height - 2 * FOCUS_PAD) / hh);
    v.zoomAt(Math.max(1e-6, scale) / v.scale, v.width / 2, v.height / 2);
    v.panBy(v.width / 2 - v.toScreenX((r.minX + r.maxX) / 2), v.height / 2 - v.toScreenY((r.minY + r.maxY) / 2));
    this.schedule();
  }

  /** Client (page) position of image point (x, y). */
  toClient(x: number, y: number): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [r.left + this.view.toScreenX(x), r.top + this.view.toScreenY(y)];
  }

  private resized(): void {
    const w = this.el.clientWidth;
    const hh = this.el.clientHeight;
    if (!w || !hh) return;
    this.view.setSize(w, hh);
    this.schedule();
  }

  private draw(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = this.el.clientWidth;
    const hh = this.el.clientHeight;
    const cw = Math.max(1, Math.round(w * dpr));
    const ch = Math.max(1, Math.round(hh * dpr));
    if (this.canvas.width !== cw || this.canvas.height !== ch) {
      this.canvas.width = cw;
      this.canvas.height = ch;
      this.canvas.style.width = `${w}px`;
      this.canvas.style.height = `${hh}px`;
    }
    const ctx = this.ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, cw, ch);
    if (!this.info) return;
    this.image.draw(ctx, this.view, dpr, this.info);
    this.paint(ctx, this.view, dpr);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
  }

  private local(e: MouseEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  private wheel(e: WheelEvent): void {
    if (!this.info) return;
    e.preventDefault();
    const [sx, sy] = this.local(e);
    this.view.zoomAt(Math.exp(-e.deltaY * 0.002), sx, sy);
    this.schedule();
  }

  private down(e: PointerEvent): void {
    if (e.button !== 0) return;
    this.press = { x: e.clientX, y: e.clientY, panning: false, id: e.pointerId };
    this.el.setPointerCapture?.(e.pointerId);
  }

  private move(e: PointerEvent): void {
    const p = this.press;
    if (!p || p.id !== e.pointerId) return;
    if (!p.panning && Math.hypot(e.clientX - p.x, e.clientY - p.y) < CLICK_SLOP) return;
    if (!p.panning) this.el.classList.add("lgr-panning");
    p.panning = true;
    this.view.panBy(e.clientX - p.x, e.clientY - p.y);
    p.x = e.clientX;
    p.y = e.clientY;
    this.schedule();
  }

  private up(e: PointerEvent): void {
    const p = this.press;
    this.press = null;
    this.el.classList.remove("lgr-panning");
    if (!p || p.id !== e.pointerId || p.panning || !this.info) return;
    const [sx, sy] = this.local(e);
    this.onClick(this.view.toImageX(sx), this.view.toImageY(sy), 4 / Math.max(1e-9, this.view.scale));
  }

  private dispose(): void {
    if (this.raf) cancelAnimationFrame(this.raf);
    this.raf = 0;
    this.image.dispose();
    this.canvas.width = 0;
    this.canvas.height = 0;
  }
}
