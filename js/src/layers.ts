// Stacked canvases: the image, the stored shapes, the model's suggestions (only allocated when the
// annotator has a model), and an overlay for whatever changes with the pointer (the shape being edited,
// handles, hover, selection rectangle, brush cursor). Each layer is
// redrawn only when invalidated, at most once per animation frame, so a pointer move that changes
// nothing costs nothing and a drag repaints only the overlay.
//
// Panning and zooming do not redraw the image and shapes layers on every frame: those two canvases
// extend a margin beyond the stage, and while the view moves they follow it with a CSS transform (a
// compositor operation, no rasterising), until the margin no longer covers the stage or the view has
// been still for a moment; then they are redrawn at the new view. With thousands of shapes this is what
// keeps pan frames cheap in a software-rendered browser.
import { Viewport } from "./view";

export type LayerName = "image" | "shapes" | "ghosts" | "overlay";
const LAYERS: readonly LayerName[] = ["image", "shapes", "ghosts", "overlay"];
const CACHED: readonly LayerName[] = ["image", "shapes", "ghosts"];
/** Redraw the followed layers once the view has been still this long. */
const SETTLE_MS = 120;

export type Painter = (layer: LayerName, ctx: CanvasRenderingContext2D, view: Viewport) => void;

/** Fixed-size ring of recent frame times (ms): no allocation per frame. */
export class FrameTimes {
  private readonly buf: Float64Array;
  private next = 0;
  private count = 0;

  constructor(size = 2000) {
    this.buf = new Float64Array(size);
  }

  push(ms: number): void {
    this.buf[this.next] = ms;
    this.next = (this.next + 1) % this.buf.length;
    this.count = Math.min(this.count + 1, this.buf.length);
  }

  values(): number[] {
    const out: number[] = [];
    const start = (this.next - this.count + this.buf.length) % this.buf.length;
    for (let i = 0; i < this.count; i++) out.push(this.buf[(start + i) % this.buf.length] ?? 0);
    return out;
  }
}

interface Placed {
  scale: number;
  tx: number;
  ty: number;
}

export class LayerStack {
  readonly canvases: Record<LayerName, HTMLCanvasElement>;
  private readonly ctxs: Record<LayerName, CanvasRenderingContext2D>;
  readonly frameTimes = new FrameTimes();
  dpr = 1;
  /** CSS px the image and shapes canvases extend beyond the stage on each side. */
  private margin = 0;
  private cssW = 0;
  private cssH = 0;
  private readonly dirty: Record<LayerName, boolean> = { image: false, shapes: false, ghosts: false, overlay: false };
  /** The view each followed layer was drawn for (null: not drawn yet). */
  private readonly placed: Record<LayerName, Placed | null> = { image: null, shapes: null, ghosts: null, overlay: null };
  /** Layers with no backing store (zero-sized, never painted): the ghosts of an annotator without a model. */
  private readonly off = new Set<LayerName>(["ghosts"]);
  private readonly marginView = new Viewport();
  private raf = 0;
  private settle: ReturnType<typeof setTimeout> | undefined;
  /** Time spent in input handlers since the last frame: part of the frame's cost. */
  private work = 0;

  constructor(
    host: HTMLElement,
    private readonly view: Viewport,
    private readonly paint: Painter,
  ) {
    const make = (name: LayerName): [HTMLCanvasElement, CanvasRenderingContext2D] => {
      const canvas = document.createElement("canvas");
      canvas.className = `lnb-layer lnb-layer-${name}`;
      canvas.setAttribute("aria-hidden", "true");
      host.appendChild(canvas);
      const ctx = canvas.getContext("2d");
      if (!ctx) throw new Error("labnb: this browser gives no 2D canvas");
      return [canvas, ctx];
    };
    const [image, imageCtx] = make("image");
    const [shapes, shapesCtx] = make("shapes");
    const [ghosts, ghostsCtx] = make("ghosts");
    const [overlay, overlayCtx] = make("overlay");
    this.canvases = { image, shapes, ghosts, overlay };
    this.ctxs = { image: imageCtx, shapes: shapesCtx, ghosts: ghostsCtx, overlay: overlayCtx };
  }

  /** Give a layer its backing store (and paint it), or take it away. */
  setEnabled(name: LayerName, on: boolean): void {
    if (on !== this.off.has(name)) return;
    if (on) this.off.delete(name);
    else this.off.add(name);
    this.resize(this.cssW, this.cssH);
  }

  resize(cssW: number, cssH: number): void {
    this.dpr = window.devicePixelRatio || 1;
    this.cssW = cssW;
    this.cssH = cssH;
    this.margin = Math.min(384, Math.round(0.25 * Math.max(cssW, cssH)));
    for (const name of LAYERS) {
      const m = name === "overlay" ? 0 : this.margin;
      const c = this.canvases[name];
      const off = this.off.has(name);
      const w = off ? 0 : Math.max(1, Math.round((cssW + 2 * m) * this.dpr));
      const h = off ? 0 : Math.max(1, Math.round((cssH + 2 * m) * this.dpr));
      if (c.width !== w || c.height !== h) {
        c.width = w;
        c.height = h;
      }
      c.style.width = `${cssW + 2 * m}px`;
      c.style.height = `${cssH + 2 * m}px`;
      c.style.left = `${-m}px`;
      c.style.top = `${-m}px`;
      c.style.transformOrigin = `${m}px ${m}px`; // the stage's top-left corner
    }
    this.invalidate("image", "shapes", "overlay");
  }

  invalidate(...layers: LayerName[]): void {
    for (const l of layers) this.dirty[l] = true;
    if (!this.raf) this.raf = requestAnimationFrame(this.frame);
  }

  /**
   * The view moved or zoomed: the followed layers are transformed to match while they still cover the
   * stage (redrawn once the view is still), else redrawn now. The overlay is always redrawn.
   */
  follow(): void {
    const v = this.view;
    const m = this.margin;
    for (const name of CACHED) {
      if (this.off.has(name)) continue;
      const p = this.placed[name];
      if (!p || this.dirty[name]) {
        this.invalidate(name);
        continue;
      }
      const k = v.scale / p.scale;
      const dx = v.tx - p.tx * k;
      const dy = v.ty - p.ty * k;
      const covers = -m * k + dx <= 0 && -m * k + dy <= 0 && (this.cssW + m) * k + dx >= this.cssW && (this.cssH + m) * k + dy >= this.cssH;
      if (covers && k > 0.5 && k < 2) {
        this.canvases[name].style.transform = k === 1 ? `translate(${dx}px, ${dy}px)` : `translate(${dx}px, ${dy}px) scale(${k})`;
      } else this.invalidate(name);
    }
    this.invalidate("overlay");
    clearTimeout(this.settle);
    this.settle = setTimeout(() => this.invalidate(...CACHED), SETTLE_MS);
  }

  get scheduled(): boolean {
    return this.raf !== 0 || this.settle !== undefined;
  }

  /** Run an input handler, counting its time towards the next frame. */
  measure(fn: () => void): void {
    const t0 = performance.now();
    try {
      fn();
    } finally {
      this.work += performance.now() - t0;
    }
  }

  private readonly frame = (): void => {
    this.raf = 0;
    const t0 = performance.now();
    for (const name of LAYERS) {
      if (!this.dirty[name]) continue;
      this.dirty[name] = false;
      const ctx = this.ctxs[name];
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
      if (this.off.has(name)) continue;
      const cached = name !== "overlay";
      if (cached) {
        this.canvases[name].style.transform = "";
        this.placed[name] = { scale: this.view.scale, tx: this.view.tx, ty: this.view.ty };
      }
      try {
        this.paint(name, ctx, cached ? this.view.withMargin(this.marginView, this.margin) : this.view);
      } catch (err) {
        console.error(`labnb: drawing the ${name} layer failed`, err);
      }
    }
    if (this.settle !== undefined && this.settleDone()) {
      clearTimeout(this.settle); // nothing left to redraw: the layers were drawn at the current view
      this.settle = undefined;
    }
    this.frameTimes.push(performance.now() - t0 + this.work);
    this.work = 0;
  };

  /** The settle redraw has happened (no transform left on the followed layers). */
  private settleDone(): boolean {
    return CACHED.every((n) => this.canvases[n].style.transform === "");
  }

  dispose(): void {
    if (this.raf) cancelAnimationFrame(this.raf);
    this.raf = 0;
    clearTimeout(this.settle);
    for (const name of LAYERS) {
      const c = this.canvases[name];
      // Zero-sized canvases release their backing store at once instead of at garbage collection.
      c.width = 0;
      c.height = 0;
      c.remove();
    }
  }
}
