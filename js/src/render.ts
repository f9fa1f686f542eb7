// Drawing shapes. The shapes layer draws every stored shape from per-class batches: one Path2D of all
// boxes and one of all polygons per class, in image coordinates, rebuilt only when the shapes, the
// hidden classes or the set being edited change. Panning or zooming then costs a handful of fill and
// stroke calls whatever the number of shapes, with nothing allocated per frame. Masks are drawn from
// per-geometry canvases cached until their geometry object changes. The overlay's few shapes (being
// edited, selected, hovered) are drawn one by one with the same caches.
import { boxHandle, BOX_EDGES, type BoxGeometry, type KeypointsGeometry, type MaskGeometry } from "./geometry";
import { decodeMask, rasterCanvas, type MaskGrid, type MaskRaster } from "./mask";
import type { ClassDef, Geometry, ShapeDTO } from "./types";
import type { Viewport } from "./view";

export const UNKNOWN_COLOR = "#9e9e9e";
/** Keypoint radius, CSS px: large enough for an occluded point's hole to read as one. */
const KP_RADIUS = 5;
/** Just under one device pixel, so that rounding never pushes a line off Skia's hairline path. */
const HAIRLINE = 0.999;
/** Above this many boxes, boxes are outlined only. */
const BOX_FILL_LIMIT = 1500;

export function rgba(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return `rgba(158,158,158,${alpha})`;
  return `rgba(${parseInt(m[1] ?? "0", 16)},${parseInt(m[2] ?? "0", 16)},${parseInt(m[3] ?? "0", 16)},${alpha})`;
}

interface Group {
  color: string;
  cls: ClassDef | undefined;
  boxFill: string;
  polyFill: string;
  boxes: Path2D;
  polys: Path2D;
  nBoxes: number;
  nPolys: number;
  keypoints: KeypointsGeometry[];
  masks: MaskGeometry[];
}

export type ClassOf = (label: string | null) => ClassDef | undefined;

export class ShapePainter {
  private readonly paths = new WeakMap<Geometry, Path2D>();
  private readonly rasters = new WeakMap<Geometry, MaskRaster | null>();
  private readonly maskCanvases = new WeakMap<Geometry, { color: string; canvas: HTMLCanvasElement }>();
  private groups: Group[] = [];

  constructor(public grid: MaskGrid) {}

  /** Path of a box or polygon in image coordinates (cached per geometry object). */
  pathFor(g: Geometry): Path2D {
    let p = this.paths.get(g);
    if (p) return p;
    p = new Path2D();
    if (g.kind === "box") p.rect(g.x, g.y, g.w, g.h);
    else if (g.kind === "polygon") addPolygon(p, g.parts);
    this.paths.set(g, p);
    return p;
  }

  raster(g: MaskGeometry): MaskRaster | null {
    if (this.rasters.has(g)) return this.rasters.get(g) ?? null;
    const r = decodeMask(g.rle, this.grid);
    this.rasters.set(g, r);
    return r;
  }

  /** Tell the cache a geometry's raster, when the brush already produced it. */
  primeRaster(g: MaskGeometry, r: MaskRaster | null): void {
    this.rasters.set(g, r);
  }

  maskCanvas(g: MaskGeometry, color: string): { r: MaskRaster; canvas: HTMLCanvasElement } | null {
    const r = this.raster(g);
    if (!r || !r.w || !r.h) return null;
    const hit = this.maskCanvases.get(g);
    if (hit && hit.color === color) return { r, canvas: hit.canvas };
    const canvas = rasterCanvas(r, color);
    this.maskCanvases.set(g, { color, canvas });
    return { r, canvas };
  }

  /** Rebuild the per-class batches from the shapes to draw. */
  rebuild(shapes: readonly ShapeDTO[], skip: (s: ShapeDTO) => boolean, classOf: ClassOf): void {
    const byLabel = new Map<string, Group>();
    for (const s of shapes) {
      const g = s.geometry;
      if (g.kind === "tag" || skip(s)) continue;
      const key = s.label ?? "";
      let group = byLabel.get(key);
      if (!group) {
        const cls = classOf(s.label);
        const color = cls?.color ?? UNKNOWN_COLOR;
        group = {
          color,
          cls,
          boxFill: rgba(color, 0.1),
          polyFill: rgba(color, 0.28),
          boxes: new Path2D(),
          polys: new Path2D(),
          nBoxes: 0,
          nPolys: 0,
          keypoints: [],
          masks: [],
        };
        byLabel.set(key, group);
      }
      if (g.kind === "box") {
        group.boxes.rect(g.x, g.y, g.w, g.h);
        group.nBoxes++;
      } else if (g.kind === "polygon") {
        group.polys.addPath(this.pathFor(g));
        group.nPolys++;
      } else if (g.kind === "keypoints") group.keypoints.push(g);
      else if (g.kind === "mask") group.masks.push(g);
    }
    this.groups = [...byLabel.values()];
  }

  /** The shapes layer. */
  draw(ctx: CanvasRenderingContext2D, view: Viewport, dpr: number): void {
    const s = dpr * view.scale;
    const tx = dpr * view.tx;
    const ty = dpr * view.ty;
    ctx.setTransform(s, 0, 0, s, tx, ty);
    ctx.imageSmoothingEnabled = false;
    ctx.globalAlpha = 0.5;
    for (const g of this.groups) for (const m of g.masks) this.drawMask(ctx, m, g.color, 0, 0);
    ctx.globalAlpha = 1;
    let boxes = 0;
    for (const g of this.groups) boxes += g.nBoxes;
    for (const g of this.groups) {
      if (g.nPolys) {
        ctx.fillStyle = g.polyFill;
        ctx.fill(g.polys);
      }
      // A faint fill helps with a few boxes; with thousands it only costs raster time and hides the image.
      if (g.nBoxes && boxes <= BOX_FILL_LIMIT) {
        ctx.fillStyle = g.boxFill;
        ctx.fill(g.boxes);
      }
    }
    // Outlines are drawn as one-device-pixel lines, offset by a pixel to look ~2 px wide: Skia draws
    // those with its hairline rasteriser, several times faster than a 2 px stroke (which goes through
    // the general stroker: 40 ms for 5,000 boxes in software against ~4 ms). The darker line offset
    // furthest is a shadow that keeps light colours visible on bright images.
    ctx.lineWidth = HAIRLINE / s;
    const lines = Math.max(2, Math.round(1.5 * dpr));
    ctx.setTransform(s, 0, 0, s, tx + lines, ty + lines);
    ctx.strokeStyle = "rgba(0,0,0,0.55)";
    for (const g of this.groups) {
      if (g.nPolys) ctx.stroke(g.polys);
      if (g.nBoxes) ctx.stroke(g.boxes);
    }
    for (let o = 0; o < lines; o++) {
      ctx.setTransform(s, 0, 0, s, tx + o, ty + o);
      for (const g of this.groups) {
        ctx.strokeStyle = g.color;
        if (g.nPolys) ctx.stroke(g.polys);
        if (g.nBoxes) ctx.stroke(g.boxes);
      }
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    for (const g of this.groups) {
      for (const kp of g.keypoints) drawKeypoints(ctx, view, kp, g.cls, g.color, KP_RADIUS, 0, 0);
    }
  }

  /** A mask's cached canvas at its place (offset in image px while it is dragged). */
  drawMask(ctx: CanvasRenderingContext2D, g: MaskGeometry, color: string, dx: number, dy: number): void {
    const m = this.maskCanvas(g, color);
    if (!m) return;
    const { W, H, dw, dh } = this.grid;
    const sx = W / dw;
    const sy = H / dh;
    ctx.drawImage(m.canvas, m.r.x0 * sx + dx, m.r.y0 * sy + dy, m.r.w * sx, m.r.h * sy);
  }

  /**
   * One shape on the overlay: emphasised outline (selected or hovered) or drawn in full (being edited).
   * (dx, dy) offsets a mask being dragged, whose pixels are moved only when the drag ends.
   */
  drawOne(
    ctx: CanvasRenderingContext2D,
    view: Viewport,
    dpr: number,
    shape: ShapeDTO,
    cls: ClassDef | undefined,
    mode: "edit" | "selected" | "hover",
    dx = 0,
    dy = 0,
    light = false,
  ): void {
    const color = cls?.color ?? UNKNOWN_COLOR;
    const g = shape.geometry;
    const s = view.scale;
    if (g.kind === "tag") return;
    if (g.kind === "keypoints") {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      drawKeypoints(ctx, view, g, cls, color, mode === "hover" ? KP_RADIUS + 1 : KP_RADIUS + 1.5, dx, dy);
      return;
    }
    ctx.setTransform(dpr * s, 0, 0, dpr * s, dpr * (view.tx + dx * s), dpr * (view.ty + dy * s));
    if (g.kind === "mask") {
      ctx.imageSmoothingEnabled = false;
      ctx.globalAlpha = mode === "edit" ? 0.55 : mode === "selected" ? 0.65 : 0.6;
      this.drawMask(ctx, g, color, 0, 0);
      ctx.globalAlpha = 1;
      const r = this.raster(g);
      if (r && mode !== "hover") {
        ctx.setLineDash([4 / s, 3 / s]);
        ctx.lineWidth = 1 / s;
        ctx.strokeStyle = color;
        ctx.strokeRect(r.bounds.minX, r.bounds.minY, r.bounds.maxX - r.bounds.minX, r.bounds.maxY - r.bounds.minY);
        ctx.setLineDash([]);
      }
      return;
    }
    const path = this.pathFor(g);
    if (light) {
      // Many shapes at once (select all, moving hundreds): thin lines keep the frame cheap.
      const base = dpr * s;
      ctx.lineWidth = HAIRLINE / base;
      ctx.strokeStyle = "#ffffff";
      for (let o = -1; o <= 1; o += 2) {
        ctx.setTransform(base, 0, 0, base, dpr * (view.tx + dx * s) + o, dpr * (view.ty + dy * s) + o);
        ctx.stroke(path);
      }
      ctx.strokeStyle = color;
      ctx.setTransform(base, 0, 0, base, dpr * (view.tx + dx * s), dpr * (view.ty + dy * s));
      ctx.stroke(path);
      return;
    }
    if (mode === "edit") {
      ctx.fillStyle = rgba(color, g.kind === "box" ? 0.12 : 0.3);
      ctx.fill(path);
    } else if (mode === "selected") {
      ctx.fillStyle = rgba(color, 0.22);
      ctx.fill(path);
    }
    ctx.lineJoin = "round";
    ctx.lineWidth = (mode === "hover" ? 4 : 5) / s;
    ctx.strokeStyle = mode === "hover" ? "rgba(255,255,255,0.6)" : "rgba(255,255,255,0.9)";
    ctx.stroke(path);
    ctx.lineWidth = (mode === "hover" ? 2 : 2.5) / s;
    ctx.strokeStyle = color;
    ctx.stroke(path);
  }
}

function addPolygon(p: Path2D, parts: readonly (readonly number[])[]): void {
  for (const part of parts) {
    for (let i = 0; i + 1 < part.length; i += 2) {
      if (i === 0) p.moveTo(part[0] ?? 0, part[1] ?? 0);
      else p.lineTo(part[i] ?? 0, part[i + 1] ?? 0);
    }
    p.closePath();
  }
}

/** Keypoints in screen space (constant size whatever the zoom): skeleton, then points. Skeleton lines stop
 * at the points' outlines, so an occluded point's hollow middle shows the image, not a line's end. */
export function drawKeypoints(
  ctx: CanvasRenderingContext2D,
  view: Viewport,
  g: KeypointsGeometry,
  cls: ClassDef | undefined,
  color: string,
  radius: number,
  dx: number,
  dy: number,
): void {
  const pts = g.points;
  const names = cls?.keypoints ?? Object.keys(pts);
  if (cls) {
    ctx.beginPath();
    for (let i = 0; i < cls.skeleton.length; i++) {
      const edge = cls.skeleton[i];
      if (!edge) continue;
      const a = pts[names[edge[0]] ?? ""];
      const b = pts[names[edge[1]] ?? ""];
      if (!a || !b || a[2] <= 0 || b[2] <= 0) continue;
      const ax = view.toScreenX(a[0] + dx);
      const ay = view.toScreenY(a[1] + dy);
      const bx = view.toScreenX(b[0] + dx);
      const by = view.toScreenY(b[1] + dy);
      const len = Math.hypot(bx - ax, by - ay);
      const cut = radius + 2 * KP_RING;
      if (len <= 2 * cut) continue; // the points touch: no line between them
      const ux = ((bx - ax) / len) * cut;
      const uy = ((by - ay) / len) * cut;
      ctx.moveTo(ax + ux, ay + uy);
      ctx.lineTo(bx - ux, by - uy);
    }
    ctx.lineWidth = 2;
    ctx.strokeStyle = color;
    ctx.stroke();
  }
  for (let i = 0; i < names.length; i++) {
    const p = pts[names[i] ?? ""];
    if (!p || p[2] <= 0) continue;
    drawKeypoint(ctx, view.toScreenX(p[0] + dx), view.toScreenY(p[1] + dy), radius, color, p[2] === 2);
  }
}

/** Width of each ring of a keypoint's outline, CSS px. */
const KP_RING = 1.5;

/**
 * One keypoint at a screen position. Visible (v = 2): a disc filled with the class colour. Occluded (v = 1):
 * hollow, a ring of the class colour with the image showing through its middle. Both are outlined by a
 * dark ring and a light ring outside it, so either kind shows on a white, a black or a busy image, and the
 * two never read the other way round on any background.
 */
export function drawKeypoint(ctx: CanvasRenderingContext2D, x: number, y: number, radius: number, color: string, visible: boolean): void {
  const ring = (r: number, width: number, style: string): void => {
    ctx.beginPath();
    ctx.arc(x, y, r, 0, Math.PI * 2);
    ctx.lineWidth = width;
    ctx.strokeStyle = style;
    ctx.stroke();
  };
  if (visible) {
    ctx.beginPath();
    ctx.arc(x, y, radius, 0, Math.PI * 2);
    ctx.fillStyle = color;
    ctx.fill();
  } else {
    const width = Math.max(2, radius * 0.45);
    ring(radius - width / 2, width, color); // from radius - width to radius: the hole is the rest
  }
  ring(radius + KP_RING / 2, KP_RING, "rgba(0,0,0,0.85)");
  ring(radius + KP_RING * 1.5, KP_RING, "rgba(255,255,255,0.95)");
}

const HANDLE = 7;

/** Resize handles of a box, vertices of a polygon: what the select tool can grab. */
export function drawHandles(
  ctx: CanvasRenderingContext2D,
  view: Viewport,
  dpr: number,
  shape: ShapeDTO,
  color: string,
  hot: string | null,
): void {
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const g = shape.geometry;
  ctx.lineWidth = 1.5;
  if (g.kind === "box") {
    for (const e of BOX_EDGES) {
      const [x, y] = boxHandle(g as BoxGeometry, e);
      const sx = view.toScreenX(x);
      const sy = view.toScreenY(y);
      const size = hot === e ? HANDLE + 3 : HANDLE;
      ctx.fillStyle = hot === e ? color : "#ffffff";
      ctx.strokeStyle = hot === e ? "#ffffff" : color;
      ctx.fillRect(sx - size / 2, sy - size / 2, size, size);
      ctx.strokeRect(sx - size / 2, sy - size / 2, size, size);
    }
  } else if (g.kind === "polygon") {
    g.parts.forEach((part, pi) => {
      for (let i = 0; i + 1 < part.length; i += 2) {
        const isHot = hot === `${pi}:${i / 2}`;
        ctx.beginPath();
        ctx.arc(view.toScreenX(part[i] ?? 0), view.toScreenY(part[i + 1] ?? 0), isHot ? 6 : 4, 0, Math.PI * 2);
        ctx.fillStyle = isHot ? color : "#ffffff";
        ctx.fill();
        ctx.strokeStyle = isHot ? "#ffffff" : color;
        ctx.stroke();
      }
    });
  }
}

export const PILL_FONT = "600 11px system-ui, -apple-system, Segoe UI, sans-serif";
export const PILL_HEIGHT = 17;

/** Width of a pill holding `text` (the context's font must be PILL_FONT). */
export function pillWidth(ctx: CanvasRenderingContext2D, text: string): number {
  return ctx.measureText(text).width + 10;
}

/** A pill of `color` with `text` in black or white, whichever reads, its top-left at (x, y) CSS px. */
export function drawPill(ctx: CanvasRenderingContext2D, text: string, color: string, x: number, y: number, w: number): void {
  ctx.fillStyle = color;
  ctx.beginPath();
  ctx.roundRect(x, y, w, PILL_HEIGHT, 4);
  ctx.fill();
  ctx.fillStyle = readableOn(color);
  ctx.textBaseline = "middle";
  ctx.fillText(text, x + 5, y + PILL_HEIGHT / 2 + 0.5);
}

/** A small label (class name, keypoint name) in a pill at a screen position. */
export function drawLabel(ctx: CanvasRenderingContext2D, dpr: number, text: string, color: string, sx: number, sy: number): void {
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.font = PILL_FONT;
  const w = pillWidth(ctx, text);
  const x = Math.max(2, Math.min(sx, ctx.canvas.width / dpr - w - 2));
  const y = Math.max(2, sy - PILL_HEIGHT - 3);
  drawPill(ctx, text, color, x, y, w);
}

/** Black or white text, whichever reads better on `hex`. */
function readableOn(hex: string): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return "#000";
  const [r, g, b] = [m[1], m[2], m[3]].map((v) => parseInt(v ?? "0", 16) / 255) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.55 ? "#111" : "#fff";
}
