// What the grader's canvas shows over the image: the gold in gold (dashed outlines, semi-transparent, under
// everything), the trainee's instances in their class colours (the Annotator's ShapePainter), the selection,
// and the verdicts written on the instances: stars on each trainee instance (solid "★★★☆☆" once the grader
// rated it, hollow grey "☆☆☆ proposed" while it is the pre-score's proposal) and "Missing" on a gold instance
// marked so ("Missing?" in grey while only proposed). Focus shows the selected instance alone with its
// matched counterpart. Every text drawn is recorded (`drawn`) for the debug handle.
import { hitPlain } from "../geometry";
import { boundsOf } from "../hittest";
import { LabelLayer } from "../labels";
import { MaskGrid, rasterHit } from "../mask";
import { drawKeypoints, drawPill, PILL_FONT, PILL_HEIGHT, pillWidth, ShapePainter } from "../render";
import type { ClassDef, ImageInfo, ShapeDTO } from "../types";
import { safeColor } from "../ui/dom";
import type { Rect, Viewport } from "../view";
import { missingOf, starsOf, starsText, type Shown } from "./draft";
import type { DraftState, GoldEntry, Item, TraineeEntry } from "./types";

/** The gold's colour. */
export const GOLD = "#ffc400";
const PROPOSED = "#9e9e9e";
const MISSING = "#d32f2f";
const STARS = "#f5b301";
/** The gold's dashes, CSS px. */
const GOLD_DASH = [9, 4];

/** A text drawn on an instance (image coordinates of its pill's top-left), for the debug handle. */
export interface DrawnText {
  kind: "stars" | "missing";
  id: number;
  text: string;
  proposed: boolean;
  x: number;
  y: number;
}

/** What one frame shows. */
export interface SceneState {
  item: Partial<Item>;
  draft: Partial<DraftState>;
  selected: string | null;
  /** Focus: only these (null: everything). */
  only: Shown | null;
  goldShown: boolean;
}

export class Scene {
  private grid = new MaskGrid(1, 1, 1);
  private trainee = new ShapePainter(this.grid);
  private gold = new ShapePainter(this.grid);
  private classes = new Map<string, ClassDef>();
  private readonly labels = new LabelLayer();
  drawn: DrawnText[] = [];
  /** The instances drawn in the last frame (ids), for the debug handle. */
  shownTrainee: number[] = [];
  shownGold: number[] = [];

  /** A new image (or schema): new mask grid and painters. */
  reset(info: ImageInfo, classes: readonly ClassDef[]): void {
    this.grid = new MaskGrid(info.width, info.height, info.bitmap_width || info.width);
    this.trainee = new ShapePainter(this.grid);
    this.gold = new ShapePainter(this.grid);
    this.classes = new Map(classes.map((c) => [c.name, { ...c, color: safeColor(c.color) }]));
  }

  private classOf(label: string | null): ClassDef | undefined {
    return label === null ? undefined : this.classes.get(label);
  }

  private visibleTrainee(s: SceneState): TraineeEntry[] {
    const only = s.only;
    return (s.item.trainee ?? []).filter((e) => !only || only.trainee.has(e.id));
  }

  private visibleGold(s: SceneState): GoldEntry[] {
    if (!s.goldShown) return [];
    const only = s.only;
    return (s.item.gold ?? []).filter((g) => !only || only.gold.has(g.id));
  }

  draw(ctx: CanvasRenderingContext2D, view: Viewport, dpr: number, s: SceneState): void {
    const trainee = this.visibleTrainee(s);
    const gold = this.visibleGold(s);
    this.shownTrainee = trainee.map((e) => e.id);
    this.shownGold = gold.map((g) => g.id);
    for (const g of gold) this.drawGold(ctx, view, dpr, g.shape);
    this.trainee.rebuild(
      trainee.map((e) => e.shape),
      () => false,
      (label) => this.classOf(label),
    );
    this.trainee.draw(ctx, view, dpr);
    const sel = s.selected;
    const selT = sel?.startsWith("t") ? trainee.find((e) => `t${e.id}` === sel) : undefined;
    const selG = sel?.startsWith("g") ? gold.find((g) => `g${g.id}` === sel) : undefined;
    if (selT) this.trainee.drawOne(ctx, view, dpr, selT.shape, this.classOf(selT.label), "selected");
    if (selG) this.gold.drawOne(ctx, view, dpr, selG.shape, this.goldClass(selG.label), "selected");
    this.drawTexts(ctx, view, dpr, s, trainee, gold);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
  }

  private goldClass(label: string | null): ClassDef {
    const c = this.classOf(label);
    return c ? { ...c, color: GOLD } : { id: -1, name: label ?? "", color: GOLD, hotkey: null, keypoints: [], skeleton: [] };
  }

  /** One gold instance: its outline in gold, semi-transparent over a thin dark line that keeps it readable. */
  private drawGold(ctx: CanvasRenderingContext2D, view: Viewport, dpr: number, shape: ShapeDTO): void {
    const g = shape.geometry;
    const k = view.scale;
    ctx.save();
    if (g.kind === "keypoints") {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.globalAlpha = 0.75;
      drawKeypoints(ctx, view, g, this.goldClass(shape.label), GOLD, 4, 0, 0);
    } else if (g.kind === "mask") {
      ctx.setTransform(dpr * k, 0, 0, dpr * k, dpr * view.tx, dpr * view.ty);
      ctx.imageSmoothingEnabled = false;
      ctx.globalAlpha = 0.35;
      this.gold.drawMask(ctx, g, GOLD, 0, 0);
      const r = this.gold.raster(g);
      if (r) {
        ctx.globalAlpha = 0.8;
        ctx.lineWidth = 2 / k;
        ctx.strokeStyle = GOLD;
        ctx.setLineDash([6 / k, 3 / k]);
        ctx.strokeRect(r.bounds.minX, r.bounds.minY, r.bounds.maxX - r.bounds.minX, r.bounds.maxY - r.bounds.minY);
      }
    } else if (g.kind === "box" || g.kind === "polygon") {
      const path = this.gold.pathFor(g);
      ctx.setTransform(dpr * k, 0, 0, dpr * k, dpr * view.tx, dpr * view.ty);
      ctx.lineJoin = "round";
      ctx.setLineDash(GOLD_DASH.map((d) => d / k)); // dashed: told apart from a class of a golden colour
      ctx.globalAlpha = 0.5;
      ctx.lineWidth = 4.5 / k;
      ctx.strokeStyle = "rgba(0,0,0,0.6)";
      ctx.stroke(path);
      ctx.globalAlpha = 0.8;
      ctx.lineWidth = 3 / k;
      ctx.strokeStyle = GOLD;
      ctx.stroke(path);
    }
    ctx.restore();
  }

  private drawTexts(ctx: CanvasRenderingContext2D, view: Viewport, dpr: number, s: SceneState, trainee: TraineeEntry[], gold: GoldEntry[]): void {
    this.labels.begin();
    this.drawn = [];
    if (!s.item.scored) return;
    for (const e of trainee) {
      const b = boundsOf(e.shape);
      if (!b || e.status === null) continue;
      const v = starsOf(s.draft, e);
      const text = `${e.label} ${starsText(v)}${v.proposed ? " proposed" : ""}`;
      const before = this.labels.drawn.length;
      this.labels.add(ctx, view, dpr, text, v.proposed ? PROPOSED : STARS, b);
      const d = this.labels.drawn[before];
      if (d) this.drawn.push({ kind: "stars", id: e.id, text, proposed: v.proposed, x: d.x, y: d.y });
    }
    for (const g of gold) {
      const m = missingOf(s.draft, g);
      const b = boundsOf(g.shape);
      if (!m.value || !b) continue;
      const text = m.proposed ? "Missing?" : "Missing";
      const at = this.centred(ctx, view, dpr, text, b, m.proposed ? PROPOSED : MISSING);
      this.drawn.push({ kind: "missing", id: g.id, text, proposed: m.proposed, x: at[0], y: at[1] });
    }
  }

  /** A pill with `text` in the middle of image bounds `b`; its top-left in image coordinates. */
  private centred(ctx: CanvasRenderingContext2D, view: Viewport, dpr: number, text: string, b: Rect, color: string): [number, number] {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.font = PILL_FONT;
    const w = pillWidth(ctx, text);
    const x = view.toScreenX((b.minX + b.maxX) / 2) - w / 2;
    const y = view.toScreenY((b.minY + b.maxY) / 2) - PILL_HEIGHT / 2;
    drawPill(ctx, text, color, x, y, w);
    return [view.toImageX(x), view.toImageY(y)];
  }

  /** The instance under image point (x, y) within `tol` image px: a trainee's first, the smallest when
   * several overlap, then a shown gold instance. A selection key ("t<id>" or "g<id>") or null. */
  hit(s: SceneState, x: number, y: number, tol: number): string | null {
    const best = (entries: { id: number; shape: ShapeDTO }[], prefix: string, painter: ShapePainter): string | null => {
      let found: string | null = null;
      let area = Infinity;
      for (const e of entries) {
        const g = e.shape.geometry;
        let inside: boolean;
        if (g.kind === "mask") {
          const r = painter.raster(g);
          inside = r !== null && rasterHit(r, this.grid, x, y);
        } else inside = hitPlain(g, x, y, tol);
        if (!inside) continue;
        const b = boundsOf(e.shape);
        const a = g.kind === "keypoints" ? 0 : b ? (b.maxX - b.minX) * (b.maxY - b.minY) : Infinity;
        if (a <= area) {
          area = a;
          found = `${prefix}${e.id}`;
        }
      }
      return found;
    };
    return best(this.visibleTrainee(s), "t", this.trainee) ?? best(this.visibleGold(s), "g", this.gold);
  }

  /** The image bounds of the instances shown (Focus zooms to them). */
  boundsOf(s: SceneState): Rect | null {
    let r: Rect | null = null;
    for (const e of [...this.visibleTrainee(s), ...this.visibleGold(s)]) {
      const b = boundsOf(e.shape);
      if (!b) continue;
      r = r ? { minX: Math.min(r.minX, b.minX), minY: Math.min(r.minY, b.minY), maxX: Math.max(r.maxX, b.maxX), maxY: Math.max(r.maxY, b.maxY) } : { ...b };
    }
    return r;
  }
}
