// Masks in COCO's uncompressed run-length form: column-major runs over the FULL image, starting with
// background. The browser works on a "display grid" (the bitmap's resolution, capped so that a work
// canvas stays affordable): decoding samples one full-resolution pixel per grid cell, and encoding
// rewrites only the rows and columns a brush stroke touched, copying every other run from the previous
// mask. So a mask of a 50,000-px-wide image keeps its full-resolution detail outside the strokes made in
// the browser, and a round trip decode -> encode changes nothing.
import type { MaskRLE } from "./types";
import type { Rect } from "./view";

/** Largest side of the grid masks are painted on; 4096^2 RGBA is 64 MB while a mask is being painted. */
const MAX_GRID_SIDE = 4096;

export class MaskGrid {
  readonly dw: number;
  readonly dh: number;

  constructor(
    readonly W: number,
    readonly H: number,
    bitmapW: number,
  ) {
    const s = Math.min(1, bitmapW / W, MAX_GRID_SIDE / Math.max(W, H));
    this.dw = Math.max(1, Math.round(W * s));
    this.dh = Math.max(1, Math.round(H * s));
  }

  /** Grid column holding full-resolution column X. */
  toDX(X: number): number {
    return Math.floor((X * this.dw) / this.W);
  }

  toDY(Y: number): number {
    return Math.floor((Y * this.dh) / this.H);
  }

  /** First full-resolution column of grid column xd (xd = dw gives W). */
  fromDX(xd: number): number {
    return Math.ceil((xd * this.W) / this.dw);
  }

  fromDY(yd: number): number {
    return Math.ceil((yd * this.H) / this.dh);
  }
}

/** A decoded mask on the grid, cropped to its bounds. */
export interface MaskRaster {
  /** Full-resolution bounds (max exclusive). */
  bounds: Rect;
  x0: number;
  y0: number;
  w: number;
  h: number;
  /** Row-major w*h, 1 inside. */
  bits: Uint8Array;
}

/** Reads the foreground intervals of one column after another (columns must not decrease). */
class ColumnReader {
  private i = 0;
  private runStart = 0;

  constructor(
    private readonly counts: readonly number[],
    private readonly H: number,
  ) {}

  read(X: number, out: number[]): void {
    out.length = 0;
    const colStart = X * this.H;
    const colEnd = colStart + this.H;
    const counts = this.counts;
    while (this.i < counts.length && this.runStart + (counts[this.i] ?? 0) <= colStart) {
      this.runStart += counts[this.i] ?? 0;
      this.i++;
    }
    let s = this.runStart;
    for (let j = this.i; j < counts.length && s < colEnd; j++) {
      const n = counts[j] ?? 0;
      if (j % 2 === 1 && n > 0) {
        const a = Math.max(s, colStart) - colStart;
        const b = Math.min(s + n, colEnd) - colStart;
        if (b > a) {
          if (out.length && out[out.length - 1] === a) out[out.length - 1] = b;
          else out.push(a, b);
        }
      }
      s += n;
    }
  }
}

/** Builds canonical runs: no empty run except a leading 0 when the first pixel is inside. */
class RunWriter {
  readonly counts: number[] = [];
  private cur = 0;
  private len = 0;
  painted = false;

  push(v: number, n: number): void {
    if (n <= 0) return;
    if (v) this.painted = true;
    if (v === this.cur) this.len += n;
    else {
      this.counts.push(this.len);
      this.cur = v;
      this.len = n;
    }
  }

  column(intervals: readonly number[], H: number): void {
    let pos = 0;
    for (let k = 0; k + 1 < intervals.length; k += 2) {
      const a = intervals[k] ?? 0;
      const b = intervals[k + 1] ?? 0;
      this.push(0, a - pos);
      this.push(1, b - a);
      pos = b;
    }
    this.push(0, H - pos);
  }

  finish(): number[] {
    this.counts.push(this.len);
    return this.counts;
  }
}

/** Full-resolution bounds of a mask, or null when it is empty. */
export function rleBounds(rle: MaskRLE): Rect | null {
  const H = rle.size[0];
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  let pos = 0;
  rle.counts.forEach((n, j) => {
    if (j % 2 === 1 && n > 0) {
      const start = pos;
      const end = pos + n - 1;
      const c0 = Math.floor(start / H);
      const c1 = Math.floor(end / H);
      minX = Math.min(minX, c0);
      maxX = Math.max(maxX, c1 + 1);
      if (c0 === c1) {
        minY = Math.min(minY, start - c0 * H);
        maxY = Math.max(maxY, end - c1 * H + 1);
      } else {
        minY = 0;
        maxY = H;
      }
    }
    pos += n;
  });
  return maxX > minX ? { minX, minY, maxX, maxY } : null;
}

/** Decode onto the grid, cropped to the mask's bounds; null for an empty mask. */
export function decodeMask(rle: MaskRLE, grid: MaskGrid): MaskRaster | null {
  const bounds = rleBounds(rle);
  if (!bounds) return null;
  // Grid cells whose sample pixel (their first full-resolution pixel) lies within the bounds.
  const x0 = bounds.minX > 0 ? grid.toDX(bounds.minX - 1) + 1 : 0;
  const x1 = grid.toDX(bounds.maxX - 1) + 1;
  const y0 = bounds.minY > 0 ? grid.toDY(bounds.minY - 1) + 1 : 0;
  const y1 = grid.toDY(bounds.maxY - 1) + 1;
  const w = Math.max(0, x1 - x0);
  const h = Math.max(0, y1 - y0);
  const bits = new Uint8Array(w * h);
  const reader = new ColumnReader(rle.counts, grid.H);
  const iv: number[] = [];
  for (let xd = x0; xd < x1; xd++) {
    reader.read(grid.fromDX(xd), iv);
    for (let k = 0; k + 1 < iv.length; k += 2) {
      const ya = iv[k] ?? 0;
      const yb = iv[k + 1] ?? 0;
      const ra = ya > 0 ? grid.toDY(ya - 1) + 1 : 0; // first cell whose sample row is >= ya
      const rb = grid.toDY(yb - 1) + 1;
      for (let yd = Math.max(ra, y0); yd < Math.min(rb, y1); yd++) bits[(yd - y0) * w + (xd - x0)] = 1;
    }
  }
  return { bounds, x0, y0, w, h, bits };
}

/** A region of the grid (cells) and its new content, row-major, 1 inside. */
export interface GridPatch {
  x0: number;
  y0: number;
  w: number;
  h: number;
  bits: Uint8Array;
}

/**
 * The mask `old` (null: empty) with the grid cells of `patch` replaced, at full resolution. Returns null
 * when nothing is left inside.
 */
export function encodePatched(old: MaskRLE | null, patch: GridPatch, grid: MaskGrid): MaskRLE | null {
  const { W, H } = grid;
  const reader = old ? new ColumnReader(old.counts, H) : null;
  const out = new RunWriter();
  const colA = grid.fromDX(patch.x0);
  const colB = grid.fromDX(patch.x0 + patch.w);
  const rowA = grid.fromDY(patch.y0);
  const rowB = grid.fromDY(patch.y0 + patch.h);
  const oldIv: number[] = [];
  const newIv: number[] = [];
  const merged: number[] = [];
  let cachedXd = -1;
  for (let X = 0; X < W; X++) {
    if (reader) reader.read(X, oldIv);
    if (X < colA || X >= colB) {
      if (reader) out.column(oldIv, H);
      else out.push(0, H);
      continue;
    }
    const xd = grid.toDX(X) - patch.x0;
    if (xd !== cachedXd) {
      cachedXd = xd;
      newIv.length = 0;
      let start = -1;
      for (let yd = 0; yd <= patch.h; yd++) {
        const on = yd < patch.h && patch.bits[yd * patch.w + xd] === 1;
        if (on && start < 0) start = yd;
        else if (!on && start >= 0) {
          newIv.push(grid.fromDY(patch.y0 + start), grid.fromDY(patch.y0 + yd));
          start = -1;
        }
      }
    }
    merged.length = 0;
    for (let k = 0; k + 1 < oldIv.length; k += 2) {
      const a = oldIv[k] ?? 0;
      const b = Math.min(oldIv[k + 1] ?? 0, rowA);
      if (b > a) merged.push(a, b);
    }
    for (const v of newIv) merged.push(v);
    for (let k = 0; k + 1 < oldIv.length; k += 2) {
      const a = Math.max(oldIv[k] ?? 0, rowB);
      const b = oldIv[k + 1] ?? 0;
      if (b > a) merged.push(a, b);
    }
    out.column(mergeTouching(merged), H);
  }
  const counts = out.finish();
  return out.painted ? { size: [H, W], counts } : null;
}

/** Intervals are sorted; join the ones that touch (an old run ending where a painted one starts). */
function mergeTouching(iv: number[]): number[] {
  let w = 0;
  for (let k = 0; k + 1 < iv.length; k += 2) {
    const a = iv[k] ?? 0;
    const b = iv[k + 1] ?? 0;
    if (w > 0 && (iv[w - 1] ?? 0) >= a) iv[w - 1] = Math.max(iv[w - 1] ?? 0, b);
    else {
      iv[w++] = a;
      iv[w++] = b;
    }
  }
  iv.length = w;
  return iv;
}

/** The mask moved by whole pixels (dx, dy); what leaves the image is cut off. */
export function translateMask(rle: MaskRLE, dx: number, dy: number): MaskRLE | null {
  const [H, W] = rle.size;
  const reader = new ColumnReader(rle.counts, H);
  const out = new RunWriter();
  const iv: number[] = [];
  const moved: number[] = [];
  for (let X = 0; X < W; X++) {
    const src = X - dx;
    if (src < 0 || src >= W) {
      out.push(0, H);
      continue;
    }
    reader.read(src, iv);
    moved.length = 0;
    for (let k = 0; k + 1 < iv.length; k += 2) {
      const a = Math.max(0, (iv[k] ?? 0) + dy);
      const b = Math.min(H, (iv[k + 1] ?? 0) + dy);
      if (b > a) moved.push(a, b);
    }
    out.column(moved, H);
  }
  const counts = out.finish();
  return out.painted ? { size: [H, W], counts } : null;
}

/** Does the decoded mask cover full-resolution point (x, y)? */
export function rasterHit(r: MaskRaster, grid: MaskGrid, x: number, y: number): boolean {
  const xd = grid.toDX(Math.floor(x)) - r.x0;
  const yd = grid.toDY(Math.floor(y)) - r.y0;
  return xd >= 0 && yd >= 0 && xd < r.w && yd < r.h && r.bits[yd * r.w + xd] === 1;
}

export function parseColor(hex: string): [number, number, number] {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return [136, 136, 136];
  return [parseInt(m[1] ?? "88", 16), parseInt(m[2] ?? "88", 16), parseInt(m[3] ?? "88", 16)];
}

/** Paint a raster's cells into an RGBA buffer of the same region, in one colour. */
export function rasterImageData(r: MaskRaster, color: string): ImageData {
  const img = new ImageData(Math.max(1, r.w), Math.max(1, r.h));
  const [cr, cg, cb] = parseColor(color);
  const data = img.data;
  for (let i = 0; i < r.bits.length; i++) {
    if (r.bits[i] !== 1) continue;
    const o = i * 4;
    data[o] = cr;
    data[o + 1] = cg;
    data[o + 2] = cb;
    data[o + 3] = 255;
  }
  return img;
}

/** A canvas of the raster in `color`, drawn (scaled) onto the shapes layer. */
export function rasterCanvas(r: MaskRaster, color: string): HTMLCanvasElement {
  const c = document.createElement("canvas");
  c.width = Math.max(1, r.w);
  c.height = Math.max(1, r.h);
  c.getContext("2d")?.putImageData(rasterImageData(r, color), 0, 0);
  return c;
}
