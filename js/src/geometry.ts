// Plain geometry on shapes in full-resolution image pixels: bounds, hit tests, translation, clamping.
// Masks are handled in mask.ts (their pixels live in run-length form).
import type { Geometry, ShapeDTO } from "./types";
import type { Rect } from "./view";

export type BoxGeometry = Extract<Geometry, { kind: "box" }>;
export type PolygonGeometry = Extract<Geometry, { kind: "polygon" }>;
export type KeypointsGeometry = Extract<Geometry, { kind: "keypoints" }>;
export type MaskGeometry = Extract<Geometry, { kind: "mask" }>;

/** Coordinates travel rounded to 1/100 px: finer is noise, and it keeps messages small. */
export function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

export function emptyRect(): Rect {
  return { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
}

export function unionInto(r: Rect, o: Rect): void {
  if (o.minX < r.minX) r.minX = o.minX;
  if (o.minY < r.minY) r.minY = o.minY;
  if (o.maxX > r.maxX) r.maxX = o.maxX;
  if (o.maxY > r.maxY) r.maxY = o.maxY;
}

export function isEmpty(r: Rect): boolean {
  return !(r.maxX >= r.minX && r.maxY >= r.minY);
}

/** Bounds of a non-mask geometry; null for tags and empty keypoints. */
export function plainBounds(g: Geometry): Rect | null {
  switch (g.kind) {
    case "box":
      return { minX: g.x, minY: g.y, maxX: g.x + g.w, maxY: g.y + g.h };
    case "polygon": {
      const r = emptyRect();
      for (const part of g.parts) {
        for (let i = 0; i + 1 < part.length; i += 2) {
          const x = part[i] ?? 0;
          const y = part[i + 1] ?? 0;
          if (x < r.minX) r.minX = x;
          if (x > r.maxX) r.maxX = x;
          if (y < r.minY) r.minY = y;
          if (y > r.maxY) r.maxY = y;
        }
      }
      return isEmpty(r) ? null : r;
    }
    case "keypoints": {
      const r = emptyRect();
      for (const p of Object.values(g.points)) {
        if (p[2] <= 0) continue;
        if (p[0] < r.minX) r.minX = p[0];
        if (p[0] > r.maxX) r.maxX = p[0];
        if (p[1] < r.minY) r.minY = p[1];
        if (p[1] > r.maxY) r.maxY = p[1];
      }
      return isEmpty(r) ? null : r;
    }
    default:
      return null;
  }
}

export function pointInRing(flat: readonly number[], x: number, y: number): boolean {
  let inside = false;
  const n = flat.length >> 1;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = flat[2 * i] ?? 0;
    const yi = flat[2 * i + 1] ?? 0;
    const xj = flat[2 * j] ?? 0;
    const yj = flat[2 * j + 1] ?? 0;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function distToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len = dx * dx + dy * dy;
  const t = len > 0 ? clamp(((px - ax) * dx + (py - ay) * dy) / len, 0, 1) : 0;
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

export interface EdgeHit {
  part: number;
  /** The new vertex goes after this index. */
  after: number;
  x: number;
  y: number;
  dist: number;
}

/** The polygon edge nearest to (x, y), with the projected point, or null beyond `tol`. */
export function nearestEdge(g: PolygonGeometry, x: number, y: number, tol: number): EdgeHit | null {
  let best: EdgeHit | null = null;
  g.parts.forEach((part, pi) => {
    const n = part.length >> 1;
    for (let i = 0; i < n; i++) {
      const j = (i + 1) % n;
      const ax = part[2 * i] ?? 0;
      const ay = part[2 * i + 1] ?? 0;
      const bx = part[2 * j] ?? 0;
      const by = part[2 * j + 1] ?? 0;
      const d = distToSegment(x, y, ax, ay, bx, by);
      if (d <= tol && (!best || d < best.dist)) {
        const dx = bx - ax;
        const dy = by - ay;
        const len = dx * dx + dy * dy;
        const t = len > 0 ? clamp(((x - ax) * dx + (y - ay) * dy) / len, 0, 1) : 0;
        best = { part: pi, after: i, x: ax + t * dx, y: ay + t * dy, dist: d };
      }
    }
  });
  return best;
}

/** Does a non-mask geometry contain (x, y), or pass within `tol` image px of it? */
export function hitPlain(g: Geometry, x: number, y: number, tol: number): boolean {
  switch (g.kind) {
    case "box":
      return x >= g.x - tol && x <= g.x + g.w + tol && y >= g.y - tol && y <= g.y + g.h + tol;
    case "polygon":
      return g.parts.some((p) => pointInRing(p, x, y)) || nearestEdge(g, x, y, tol) !== null;
    case "keypoints":
      return Object.values(g.points).some((p) => p[2] > 0 && Math.hypot(p[0] - x, p[1] - y) <= tol * 2);
    default:
      return false;
  }
}

/** A copy of a non-mask geometry moved by (dx, dy). */
export function translatePlain(g: Geometry, dx: number, dy: number): Geometry {
  switch (g.kind) {
    case "box":
      return { kind: "box", x: round2(g.x + dx), y: round2(g.y + dy), w: g.w, h: g.h };
    case "polygon":
      return { kind: "polygon", parts: g.parts.map((p) => p.map((v, i) => round2(v + (i % 2 ? dy : dx)))) };
    case "keypoints": {
      const points: KeypointsGeometry["points"] = {};
      for (const [name, p] of Object.entries(g.points)) points[name] = [round2(p[0] + dx), round2(p[1] + dy), p[2]];
      return { kind: "keypoints", points };
    }
    default:
      return g;
  }
}

/** Limit a move so that `bounds` stays inside the image. */
export function clampDelta(bounds: Rect, dx: number, dy: number, w: number, h: number): [number, number] {
  const cdx = bounds.maxX - bounds.minX > w ? dx : clamp(dx, -bounds.minX, w - bounds.maxX);
  const cdy = bounds.maxY - bounds.minY > h ? dy : clamp(dy, -bounds.minY, h - bounds.maxY);
  return [cdx, cdy];
}

export function normalizedBox(x0: number, y0: number, x1: number, y1: number, w: number, h: number): BoxGeometry {
  const ax = clamp(Math.min(x0, x1), 0, w);
  const bx = clamp(Math.max(x0, x1), 0, w);
  const ay = clamp(Math.min(y0, y1), 0, h);
  const by = clamp(Math.max(y0, y1), 0, h);
  return { kind: "box", x: round2(ax), y: round2(ay), w: round2(bx - ax), h: round2(by - ay) };
}

export function withGeometry(shape: ShapeDTO, geometry: Geometry): ShapeDTO {
  return { ...shape, geometry };
}

/** Structural equality of JSON-like values (key order ignored): how edits are told from no-ops. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ob = b as Record<string, unknown>;
  const oa = a as Record<string, unknown>;
  for (const k of ka) if (!(k in ob) || !deepEqual(oa[k], ob[k])) return false;
  return true;
}

export type BoxEdge = "nw" | "n" | "ne" | "e" | "se" | "s" | "sw" | "w";
export const BOX_EDGES: readonly BoxEdge[] = ["nw", "n", "ne", "e", "se", "s", "sw", "w"];

/** Image position of a box's resize handle. */
export function boxHandle(g: BoxGeometry, edge: BoxEdge): [number, number] {
  const x = edge.includes("w") ? g.x : edge.includes("e") ? g.x + g.w : g.x + g.w / 2;
  const y = edge.includes("n") ? g.y : edge.includes("s") ? g.y + g.h : g.y + g.h / 2;
  return [x, y];
}
