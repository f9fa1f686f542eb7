// Model assist in the browser: the model's suggestions for the shown image ("ghosts"), which of them are
// shown (assist on, score at or above the threshold, class not hidden, not committed yet: no stored shape
// carries its prediction_id), which are selected or hovered, hit tests, and drawing (the ghosts layer:
// greyed, dashed; masks translucent grey). Committing is an ordinary create (actions.ts); Python copies
// the model, version and score from the stored prediction.
import { hitPlain, plainBounds } from "./geometry";
import { rasterHit, rleBounds } from "./mask";
import type { WidgetModel } from "./model";
import { drawKeypoints, drawLabel, type ClassOf, type ShapePainter } from "./render";
import type { AssistModelInfo, ShapeDTO } from "./types";
import type { Rect, Viewport } from "./view";

export interface Ghost {
  dto: ShapeDTO;
  cid: string;
  predictionId: number;
  score: number;
  bounds: Rect | null;
  area: number;
}

const GHOST_GREY = "#b0b0b0";
/** Above this many shown suggestions, their scores are not written next to them. */
const SCORE_TEXT_LIMIT = 60;

/** A suggestion from Python, checked: a shape with a numeric prediction_id and score. */
function toGhost(d: unknown): Ghost | null {
  if (typeof d !== "object" || d === null) return null;
  const s = d as ShapeDTO;
  if (typeof s.cid !== "string" || typeof s.prediction_id !== "number" || typeof s.geometry !== "object" || s.geometry === null) return null;
  const g = s.geometry;
  if (g.kind === "tag") return null;
  const bounds = g.kind === "mask" ? rleBounds(g.rle) : plainBounds(g);
  const score = typeof s.score === "number" && Number.isFinite(s.score) ? s.score : 0;
  const area = g.kind === "keypoints" ? 0 : bounds ? (bounds.maxX - bounds.minX) * (bounds.maxY - bounds.minY) : Infinity;
  return { dto: s, cid: s.cid, predictionId: s.prediction_id, score, bounds, area };
}

export class Assist {
  /** The model, or null when the annotator has none (then nothing of this shows). */
  model: AssistModelInfo | null = null;
  on = false;
  threshold = 0.3;
  status = "";
  private all: Ghost[] = [];
  private source: unknown = null;
  readonly selected = new Set<string>();
  hover: string | null = null;
  private shown: Ghost[] | null = null;

  get active(): boolean {
    return this.model !== null;
  }

  /** Python's assist traits (model, on, threshold, status, suggestions) into this state. */
  pull(m: WidgetModel): void {
    const info = m.get("assist_model") as AssistModelInfo | undefined;
    const model = info && typeof info.name === "string" && info.name ? info : null;
    this.model = model;
    this.on = model !== null && Boolean(m.get("assist_on"));
    const t = Number(m.get("assist_threshold"));
    if (Number.isFinite(t)) this.threshold = Math.min(1, Math.max(0, t));
    this.status = String(m.get("assist_status") ?? "");
    this.setSuggestions(m.get("suggestions"));
    this.invalidate();
  }

  /** Python's `suggestions` (the same list object again changes nothing). Returns true when they changed. */
  setSuggestions(list: unknown): boolean {
    if (list === this.source) return false;
    this.source = list;
    this.put(Array.isArray(list) ? list.map(toGhost).filter((g): g is Ghost => g !== null) : []);
    return true;
  }

  /**
   * Assist switched off here: forget the suggestions until Python sends them again (switched back on
   * before Python has answered, the old list must not show and then vanish when its "off" arrives).
   */
  clear(): void {
    this.put([]);
  }

  private put(ghosts: Ghost[]): void {
    this.all = ghosts;
    this.all.sort((a, b) => b.score - a.score);
    const cids = new Set(this.all.map((g) => g.cid));
    for (const c of [...this.selected]) if (!cids.has(c)) this.selected.delete(c);
    if (this.hover && !cids.has(this.hover)) this.hover = null;
    this.invalidate();
  }

  get suggestions(): readonly Ghost[] {
    return this.all;
  }

  /** Something that decides what is shown changed (threshold, on, the store, hidden classes). */
  invalidate(): void {
    this.shown = null;
  }

  /**
   * The ghosts shown, highest score first (cached until `invalidate`). Selection and hover keep only
   * shown ones.
   */
  visible(shapes: readonly ShapeDTO[], hidden: ReadonlySet<string>): readonly Ghost[] {
    if (this.shown) return this.shown;
    if (!this.model || !this.on || !this.all.length) this.shown = [];
    else {
      const committed = new Set<number>();
      for (const s of shapes) if (typeof s.prediction_id === "number") committed.add(s.prediction_id);
      this.shown = this.all.filter(
        (g) => g.score >= this.threshold && !committed.has(g.predictionId) && !(g.dto.label !== null && hidden.has(g.dto.label)),
      );
    }
    const ids = new Set(this.shown.map((g) => g.cid));
    for (const c of [...this.selected]) if (!ids.has(c)) this.selected.delete(c);
    if (this.hover && !ids.has(this.hover)) this.hover = null;
    return this.shown;
  }
}

/** The shown ghost at (x, y) within `tol` image px: the smallest when several overlap. */
export function ghostAt(ghosts: readonly Ghost[], painter: ShapePainter, x: number, y: number, tol: number): Ghost | null {
  let best: Ghost | null = null;
  for (const gh of ghosts) {
    const b = gh.bounds;
    if (!b || x < b.minX - tol * 2 || x > b.maxX + tol * 2 || y < b.minY - tol * 2 || y > b.maxY + tol * 2) continue;
    const g = gh.dto.geometry;
    let hit: boolean;
    if (g.kind === "mask") {
      const r = painter.raster(g);
      hit = r !== null && rasterHit(r, painter.grid, x, y);
    } else hit = hitPlain(g, x, y, tol);
    if (hit && (!best || gh.area <= best.area)) best = gh;
  }
  return best;
}

/** The ghosts layer: every shown suggestion, grey and dashed, with its score when there are few. */
export function drawGhosts(
  ctx: CanvasRenderingContext2D,
  view: Viewport,
  dpr: number,
  ghosts: readonly Ghost[],
  painter: ShapePainter,
  classOf: ClassOf,
): void {
  const s = view.scale;
  const image = (): void => ctx.setTransform(dpr * s, 0, 0, dpr * s, dpr * view.tx, dpr * view.ty);
  image();
  ctx.imageSmoothingEnabled = false;
  ctx.globalAlpha = 0.45;
  for (const gh of ghosts) if (gh.dto.geometry.kind === "mask") painter.drawMask(ctx, gh.dto.geometry, GHOST_GREY, 0, 0);
  ctx.globalAlpha = 1;
  const outline = new Path2D();
  let lines = 0;
  for (const gh of ghosts) {
    const g = gh.dto.geometry;
    if (g.kind === "box" || g.kind === "polygon") {
      outline.addPath(painter.pathFor(g));
      lines++;
    } else if (g.kind === "mask" && gh.bounds) {
      const b = gh.bounds;
      outline.rect(b.minX, b.minY, b.maxX - b.minX, b.maxY - b.minY);
      lines++;
    }
  }
  if (lines) {
    ctx.fillStyle = "rgba(160,160,160,0.14)";
    for (const gh of ghosts) {
      const g = gh.dto.geometry;
      if (g.kind === "box" || g.kind === "polygon") ctx.fill(painter.pathFor(g));
    }
    ctx.lineJoin = "round";
    ctx.lineWidth = 3 / s;
    ctx.strokeStyle = "rgba(0,0,0,0.45)";
    ctx.stroke(outline);
    ctx.setLineDash([7 / s, 5 / s]);
    ctx.lineWidth = 1.6 / s;
    ctx.strokeStyle = "#e8e8e8";
    ctx.stroke(outline);
    ctx.setLineDash([]);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  for (const gh of ghosts) {
    const g = gh.dto.geometry;
    if (g.kind === "keypoints") drawKeypoints(ctx, view, g, classOf(gh.dto.label), GHOST_GREY, 3.5, 0, 0);
  }
  if (ghosts.length <= SCORE_TEXT_LIMIT) {
    ctx.font = "600 10px system-ui, -apple-system, Segoe UI, sans-serif";
    ctx.textBaseline = "top";
    for (const gh of ghosts) {
      const b = gh.bounds;
      if (!b) continue;
      const text = gh.score.toFixed(2);
      const x = view.toScreenX(b.minX) + 3;
      const y = view.toScreenY(b.minY) + 3;
      ctx.fillStyle = "rgba(0,0,0,0.55)";
      ctx.fillRect(x - 2, y - 1, ctx.measureText(text).width + 4, 12);
      ctx.fillStyle = "#f0f0f0";
      ctx.fillText(text, x, y);
    }
  }
}

/** A selected or hovered ghost on the overlay, with its class and score. */
export function drawGhostHighlight(
  ctx: CanvasRenderingContext2D,
  view: Viewport,
  dpr: number,
  gh: Ghost,
  painter: ShapePainter,
  classOf: ClassOf,
  mode: "selected" | "hover",
  /** "Space accepts" on a selected ghost ("" when the keymap gives the action no key). */
  acceptHint: string,
): void {
  const color = mode === "selected" ? "#2196f3" : "#ffffff";
  const s = view.scale;
  const g = gh.dto.geometry;
  if (g.kind === "keypoints") {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    drawKeypoints(ctx, view, g, classOf(gh.dto.label), color, 5, 0, 0);
  } else {
    ctx.setTransform(dpr * s, 0, 0, dpr * s, dpr * view.tx, dpr * view.ty);
    const path = new Path2D();
    if (g.kind === "mask") {
      ctx.globalAlpha = 0.6;
      painter.drawMask(ctx, g, mode === "selected" ? color : GHOST_GREY, 0, 0);
      ctx.globalAlpha = 1;
      const b = gh.bounds;
      if (b) path.rect(b.minX, b.minY, b.maxX - b.minX, b.maxY - b.minY);
    } else {
      path.addPath(painter.pathFor(g));
      if (mode === "selected") {
        ctx.fillStyle = "rgba(33,150,243,0.18)";
        ctx.fill(path);
      }
    }
    ctx.setLineDash(mode === "selected" ? [] : [7 / s, 5 / s]);
    ctx.lineJoin = "round";
    ctx.lineWidth = (mode === "selected" ? 2.5 : 2) / s;
    ctx.strokeStyle = color;
    ctx.stroke(path);
    ctx.setLineDash([]);
  }
  const b = gh.bounds;
  if (b) {
    const name = `${gh.dto.label ?? "?"} ${gh.score.toFixed(2)}${mode === "selected" && acceptHint ? ` · ${acceptHint}` : ""}`;
    drawLabel(ctx, dpr, name, mode === "selected" ? color : "#616161", view.toScreenX(b.minX), view.toScreenY(b.minY));
  }
}
