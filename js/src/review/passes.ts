// The other drawn passes of the open image, each in its drawer's colour: overlaid under the editor's shapes
// (dashed, so the pass under review, drawn solid by the editor, stands out), or side by side in panes of
// their own that show the same part of the image as the editor. Drawing reuses the Annotator's modules:
// ShapePainter (render.ts) for the shapes, ImageLayer (imagelayer.ts, sharing the decoded bitmaps) and
// Viewport (view.ts) for the panes. A pane shows the image as the editor does: the stored preview, then
// the full image once Python sends it (swapped in, the pane kept), or for a huge image the tiles of what
// the pane shows, asked for by the pane itself (tiles.ts; Python serves every view of the widget). With
// labels on, every shape carries its class name (labels.ts).
import type { Disposer } from "../disposer";
import { boundsOf } from "../hittest";
import { ImageLayer } from "../imagelayer";
import { LabelLayer, type DrawnLabel } from "../labels";
import { MaskGrid } from "../mask";
import type { WidgetModel } from "../model";
import { ShapePainter } from "../render";
import { isTiled, TileSet } from "../tiles";
import type { ClassDef, ImageInfo } from "../types";
import { h, safeColor, setText } from "../ui/dom";
import { Viewport } from "../view";
import type { PassInfo } from "./types";

/** Dashes of the overlaid passes, CSS px. */
const DASH = [7, 4];

interface Painted {
  pass: PassInfo;
  painter: ShapePainter;
}

/** Painters of the passes not under review, rebuilt when Python sends other passes. */
export class OtherPasses {
  private painted: Painted[] = [];
  /** Draw tasks the reviewer hid (legend). */
  readonly hidden = new Set<number>();

  set(passes: readonly PassInfo[], info: ImageInfo | null, classes: readonly ClassDef[]): void {
    this.painted = [];
    if (!info) return;
    const grid = new MaskGrid(info.width, info.height, info.bitmap_width || info.width);
    const byName = new Map(classes.map((c) => [c.name, c]));
    for (const pass of passes) {
      if (pass.reviewed) continue;
      const color = safeColor(pass.color);
      const painter = new ShapePainter(grid);
      const cls = (label: string | null): ClassDef | undefined => {
        const c = label === null ? undefined : byName.get(label);
        return c ? { ...c, color } : { id: -1, name: label ?? "", color, hotkey: null, keypoints: [], skeleton: [] };
      };
      painter.rebuild(pass.shapes, () => false, cls);
      this.painted.push({ pass, painter });
    }
  }

  get passes(): readonly PassInfo[] {
    return this.painted.map((p) => p.pass);
  }

  /** Every shown pass, dashed (the editor's underlay). */
  drawOverlaid(ctx: CanvasRenderingContext2D, view: Viewport, dpr: number): void {
    const k = Math.max(1e-9, view.scale);
    for (const p of this.painted) {
      if (this.hidden.has(p.pass.draw_task)) continue;
      ctx.save();
      // ShapePainter strokes in image units (its transform scales by dpr * zoom): dashes of fixed screen size.
      ctx.setLineDash(DASH.map((d) => d / k));
      p.painter.draw(ctx, view, dpr);
      ctx.restore();
    }
  }

  /** One pass, solid (a side-by-side pane). */
  drawOne(ctx: CanvasRenderingContext2D, view: Viewport, dpr: number, drawTask: number): void {
    this.painted.find((p) => p.pass.draw_task === drawTask)?.painter.draw(ctx, view, dpr);
  }

  /** The class names of every shown pass (`drawTask`: of that pass only), in its drawer's colour. */
  label(layer: LabelLayer, ctx: CanvasRenderingContext2D, view: Viewport, dpr: number, drawTask: number | null = null): void {
    for (const p of this.painted) {
      if (drawTask === null ? this.hidden.has(p.pass.draw_task) : p.pass.draw_task !== drawTask) continue;
      const color = safeColor(p.pass.color);
      for (const s of p.pass.shapes) {
        const b = s.label === null ? null : boundsOf(s);
        if (b && s.label !== null) layer.add(ctx, view, dpr, s.label, color, b);
      }
    }
  }
}

/** One side-by-side pane: the image and one pass, following the editor's view. */
class Pane {
  readonly el: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  readonly view = new Viewport();
  private readonly ctx: CanvasRenderingContext2D;
  readonly image: ImageLayer;
  readonly labels = new LabelLayer();

  constructor(
    public pass: PassInfo,
    private readonly schedule: () => void,
  ) {
    this.canvas = h("canvas", { class: "lrv-pane-canvas", "aria-hidden": "true" });
    const ctx = this.canvas.getContext("2d");
    if (!ctx) throw new Error("labnb: this browser gives no 2D canvas");
    this.ctx = ctx;
    const title = h("span", { class: "lrv-pane-title" });
    setText(title, `${pass.drawer} · pass ${pass.pass + 1}`);
    this.el = h(
      "figure",
      { class: "lrv-pane", "data-testid": "pane", "data-drawer": pass.drawer, "data-draw-task": pass.draw_task },
      h("figcaption", {}, h("span", { class: "lrv-swatch", style: `background:${safeColor(pass.color)}` }), title),
      this.canvas,
    );
    this.image = new ImageLayer(
      () => this.schedule(),
      () => undefined,
    );
  }

  draw(dpr: number, info: ImageInfo, passes: OtherPasses, labels: boolean): void {
    const w = this.canvas.clientWidth;
    const hh = this.canvas.clientHeight;
    const cw = Math.max(1, Math.round(w * dpr));
    const ch = Math.max(1, Math.round(hh * dpr));
    if (this.canvas.width !== cw || this.canvas.height !== ch) {
      this.canvas.width = cw;
      this.canvas.height = ch;
    }
    const ctx = this.ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, cw, ch);
    this.image.draw(ctx, this.view, dpr, info);
    passes.drawOne(ctx, this.view, dpr, this.pass.draw_task);
    this.labels.begin();
    if (labels) passes.label(this.labels, ctx, this.view, dpr, this.pass.draw_task);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
  }

  dispose(): void {
    this.image.dispose();
    this.canvas.width = 0;
    this.canvas.height = 0;
    this.el.remove();
  }
}

/** The images of a showing: the bytes (empty until Python sends them; never for tiles) and the stored preview. */
export interface PaneImages {
  image: DataView | null;
  preview: DataView | null;
}

/** The same showing of the same image (Python's `shown`; without it, the same bytes). */
function sameShowing(a: ImageInfo | null, b: ImageInfo, aImages: PaneImages, bImages: PaneImages): boolean {
  if (!a || a.asset_id !== b.asset_id) return false;
  return b.shown !== undefined ? a.shown === b.shown : aImages.image === bImages.image;
}

/** The side-by-side panes of the passes not under review. */
export class Panes {
  readonly el = h("div", { class: "lrv-panes", "data-testid": "panes" });
  private panes: Pane[] = [];
  private info: ImageInfo | null = null;
  private bytes: PaneImages = { image: null, preview: null };
  /** Class names on the shapes (the panel's labels toggle). */
  labels = false;
  private raf = 0;
  private last: Viewport | null = null;
  private readonly ro: ResizeObserver;

  constructor(
    private readonly passes: OtherPasses,
    /** The panel's model as the editor sees it: tile requests and the full image go through it. */
    private readonly model: WidgetModel,
    disposer: Disposer,
  ) {
    this.ro = new ResizeObserver(() => this.follow(this.last));
    this.ro.observe(this.el);
    disposer.add(() => this.dispose());
  }

  /**
   * New passes, a new image, or better bytes of the same one. The panes of the same showing and passes are
   * kept (their tiles and bitmaps with them): the full image arriving after the preview is swapped in, and
   * passes Python read again (another widget's edits) are only redrawn.
   */
  set(info: ImageInfo | null, images: PaneImages): void {
    const passes = this.passes.passes;
    const same =
      info !== null &&
      sameShowing(this.info, info, this.bytes, images) &&
      passes.length === this.panes.length &&
      passes.every((p, i) => this.panes[i]?.pass.draw_task === p.draw_task);
    this.bytes = images;
    if (same) {
      this.info = info;
      passes.forEach((p, i) => {
        const pane = this.panes[i];
        if (!pane) return;
        pane.pass = p;
        pane.image.update(info, images.image, images.preview);
      });
      this.schedule();
      return;
    }
    for (const p of this.panes) p.dispose();
    this.panes = [];
    this.info = info;
    if (!info) return;
    for (const pass of passes) {
      const pane = new Pane(pass, () => this.schedule());
      const tiles = isTiled(info) ? new TileSet(this.model, info, () => this.schedule(), () => undefined) : null;
      const wantFull = (): void => this.model.send({ type: "want_full", asset_id: info.asset_id });
      pane.image.load(info, images.image ?? new DataView(new ArrayBuffer(0)), { preview: images.preview, tiles, wantFull });
      this.panes.push(pane);
      this.el.append(pane.el);
    }
    this.follow(this.last);
  }

  /** Show what the editor's view shows (scaled to each pane), or the whole image without one. */
  follow(editor: Viewport | null): void {
    this.last = editor;
    const info = this.info;
    if (!info) return;
    for (const p of this.panes) {
      const w = p.canvas.clientWidth;
      const hh = p.canvas.clientHeight;
      if (!w || !hh) continue;
      p.view.setSize(w, hh);
      p.view.setImage(info.width, info.height);
      if (editor && editor.width > 0 && editor.height > 0 && !editor.fitted) {
        const k = Math.min(w / editor.width, hh / editor.height);
        p.view.scale = editor.scale * k;
        p.view.tx = editor.tx * k + (w - editor.width * k) / 2;
        p.view.ty = editor.ty * k + (hh - editor.height * k) / 2;
        p.view.fitted = false;
      }
    }
    this.schedule();
  }

  /** Redraw every pane on the next frame (hidden passes' panes too: hiding is for the overlay). */
  schedule(): void {
    if (this.raf) return;
    this.raf = requestAnimationFrame(() => {
      this.raf = 0;
      const info = this.info;
      if (!info) return;
      const dpr = window.devicePixelRatio || 1;
      for (const p of this.panes) p.draw(dpr, info, this.passes, this.labels);
    });
  }

  get busy(): boolean {
    return this.raf !== 0 || this.panes.some((p) => p.image.loading || p.image.refining);
  }

  /** What each pane's image layer shows (the test handle): which bitmap, and tiles held per level. */
  images(): ReturnType<ImageLayer["describe"]>[] {
    return this.panes.map((p) => p.image.describe());
  }

  /** The labels drawn in each pane (the test handle). */
  drawnLabels(): DrawnLabel[][] {
    return this.panes.map((p) => p.labels.drawn);
  }

  /** Screen position of image point (x, y) in pane `i` (the test handle). */
  toScreen(i: number, x: number, y: number): [number, number] | null {
    const p = this.panes[i];
    if (!p) return null;
    const r = p.canvas.getBoundingClientRect();
    return [r.left + p.view.toScreenX(x), r.top + p.view.toScreenY(y)];
  }

  dispose(): void {
    if (this.raf) cancelAnimationFrame(this.raf);
    this.raf = 0;
    this.ro.disconnect();
    for (const p of this.panes) p.dispose();
    this.panes = [];
  }
}
