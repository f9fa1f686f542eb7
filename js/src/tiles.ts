// Tiles of a huge image (a side over 8192 px or over 40 MP: labnb/pyramid.py). The browser never holds
// its full bitmap: the image layer draws the stored preview, and over it the tiles of the part on screen at
// the level the zoom needs (level k = the image at 1/2^k; the coarsest level with at least one of its pixels
// per device pixel), asked from Python when the layer is redrawn (after a pan or zoom settles, layers.ts).
// Coarser tiles already here are drawn under the finer ones until those arrive, so zooming in sharpens in
// place rather than going blank; with the zoom's level, the level two steps coarser is asked for first
// (decoded at reduced scale, it arrives well before a full-resolution level is decoded, and sharpens the
// view meanwhile). Tiles come one message each with the encoded tile as a binary buffer,
// are decoded off the main thread (createImageBitmap) and kept, least recently drawn out first.
//
// Coordinates: tile (tx, ty) of level k covers level pixels [tx*size, (tx+1)*size) x [ty*size, ...), that is
// full-resolution pixels [tx*size*2^k, ...): level 0 is the file's own pixels, one for one.
import type { WidgetModel } from "./model";
import type { ImageInfo, TileSpec } from "./types";
import type { Viewport } from "./view";

/** Decoded tiles kept per image: 512 x 512 x 4 bytes each, 160 MB at most. */
const MAX_TILES = 160;
/** Tiles asked beyond the visible part on each side, in tiles: a small pan needs no round trip. */
const AHEAD = 0.5;
/** How many levels coarser the stopgap asked for first is. */
const STOPGAP = 2;

interface Tile {
  bmp: ImageBitmap;
  level: number;
  tx: number;
  ty: number;
}

function isTile(c: unknown): c is { type: "tile"; id: number; asset_id: number; level: number; tx: number; ty: number; mime: string } {
  if (typeof c !== "object" || c === null) return false;
  const m = c as Record<string, unknown>;
  return m["type"] === "tile" && typeof m["asset_id"] === "number" && typeof m["level"] === "number" && typeof m["tx"] === "number" && typeof m["ty"] === "number";
}

function bytesOf(b: DataView | ArrayBuffer | undefined): Uint8Array<ArrayBuffer> | null {
  if (!b) return null;
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  return new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);
}

export function isTiled(info: ImageInfo): boolean {
  const t = info.tiles as Partial<TileSpec> | undefined;
  return !!t && typeof t.size === "number" && typeof t.levels === "number" && t.levels > 0;
}

export class TileSet {
  private readonly tiles = new Map<string, Tile>();
  /** Tiles asked for and not here yet. */
  private pending = new Set<string>();
  private seq = 0;
  private closed = false;
  private readonly view = Math.random().toString(36).slice(2);
  private readonly spec: TileSpec;
  private marked = false;

  constructor(
    private readonly model: WidgetModel,
    private readonly info: ImageInfo,
    /** A tile arrived: redraw. */
    private readonly onTile: () => void,
    private readonly onError: (message: string) => void,
  ) {
    this.spec = info.tiles as TileSpec;
    model.on("msg:custom", this.onMessage);
  }

  /** Asked-for tiles are on their way. */
  get loading(): boolean {
    return this.pending.size > 0;
  }

  /** How many tiles are held, per level (tests and the debug handle). */
  counts(): Record<number, number> {
    const out: Record<number, number> = {};
    for (const t of this.tiles.values()) out[t.level] = (out[t.level] ?? 0) + 1;
    return out;
  }

  /** The level the zoom needs, or null when the preview is as fine as that. */
  wanted(view: Viewport, dpr: number): number | null {
    const perDevicePx = 1 / Math.max(1e-9, view.scale * dpr); // image px per device px
    const k = perDevicePx <= 1 ? 0 : Math.floor(Math.log2(perDevicePx));
    return k < this.spec.levels ? k : null;
  }

  /** Draw the tiles held for the visible part, coarse to fine, and ask for the missing ones. */
  draw(ctx: CanvasRenderingContext2D, view: Viewport, dpr: number): void {
    const want = this.wanted(view, dpr);
    if (want === null) return;
    const vis = view.visible();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    for (let level = this.spec.levels - 1; level >= want; level--) {
      const [x0, y0, x1, y1] = this.range(level, vis, 0);
      const f = 2 ** level;
      ctx.imageSmoothingEnabled = view.scale * f < 3; // zoomed in, pixels as they are
      ctx.imageSmoothingQuality = "high";
      for (let ty = y0; ty <= y1; ty++) {
        for (let tx = x0; tx <= x1; tx++) {
          const key = `${level}/${tx}/${ty}`;
          const t = this.tiles.get(key);
          if (!t) continue;
          this.tiles.delete(key); // most recently drawn last
          this.tiles.set(key, t);
          // edges on device pixels, so neighbouring tiles meet without a seam
          const px = (x: number): number => Math.round(view.toScreenX(x) * dpr);
          const py = (y: number): number => Math.round(view.toScreenY(y) * dpr);
          const sx = px(tx * this.spec.size * f);
          const sy = py(ty * this.spec.size * f);
          ctx.drawImage(t.bmp, sx, sy, px((tx * this.spec.size + t.bmp.width) * f) - sx, py((ty * this.spec.size + t.bmp.height) * f) - sy);
          if (level === 0 && !this.marked) {
            performance.mark("labnb:full-res-tile-drawn"); // benchmarks/annotator.py
            this.marked = true;
          }
        }
      }
    }
    this.request(want, vis);
  }

  /** Tile columns and rows of `level` over an image rect, `ahead` tiles more on each side. */
  private range(level: number, vis: { minX: number; minY: number; maxX: number; maxY: number }, ahead: number): [number, number, number, number] {
    const span = this.spec.size * 2 ** level; // full-resolution px per tile
    const cols = Math.ceil(Math.ceil(this.info.width / 2 ** level) / this.spec.size);
    const rows = Math.ceil(Math.ceil(this.info.height / 2 ** level) / this.spec.size);
    const clamp = (v: number, n: number): number => Math.max(0, Math.min(n - 1, v));
    return [
      clamp(Math.floor(vis.minX / span - ahead), cols),
      clamp(Math.floor(vis.minY / span - ahead), rows),
      clamp(Math.floor(vis.maxX / span + ahead), cols),
      clamp(Math.floor(vis.maxY / span + ahead), rows),
    ];
  }

  private request(level: number, vis: { minX: number; minY: number; maxX: number; maxY: number }): void {
    const missing = this.missing(level, vis);
    const coarse = Math.min(this.spec.levels - 1, level + STOPGAP);
    const wanted = coarse > level && missing.length ? [...this.missing(coarse, vis), ...missing] : missing;
    const keys = wanted.map(([l, tx, ty]) => `${l}/${tx}/${ty}`);
    if (!keys.some((k) => !this.pending.has(k))) return; // all on their way already
    this.pending = new Set(keys); // what an older request still had to send and is not wanted now is dropped
    this.model.send({ type: "tiles", id: ++this.seq, view: this.view, asset_id: this.info.asset_id, tiles: wanted });
  }

  /** The tiles of `level` over the visible part (and a little beyond) not held yet, centre first. */
  private missing(level: number, vis: { minX: number; minY: number; maxX: number; maxY: number }): [number, number, number][] {
    const [x0, y0, x1, y1] = this.range(level, vis, AHEAD);
    const span = this.spec.size * 2 ** level;
    const cx = (vis.minX + vis.maxX) / 2 / span;
    const cy = (vis.minY + vis.maxY) / 2 / span;
    const out: [number, number, number][] = [];
    for (let ty = y0; ty <= y1; ty++) for (let tx = x0; tx <= x1; tx++) if (!this.tiles.has(`${level}/${tx}/${ty}`)) out.push([level, tx, ty]);
    const far = (t: [number, number, number]): number => Math.hypot(t[1] + 0.5 - cx, t[2] + 0.5 - cy);
    return out.sort((a, b) => far(a) - far(b));
  }

  private readonly onMessage = (content: unknown, buffers?: readonly (DataView | ArrayBuffer)[]): void => {
    if (this.closed || typeof content !== "object" || content === null) return;
    const c = content as Record<string, unknown>;
    if (c["asset_id"] !== this.info.asset_id) return;
    if (c["type"] === "tile_error") {
      this.pending.clear();
      this.onError(String(c["message"] ?? "a tile could not be made"));
      return;
    }
    if (!isTile(content)) return;
    const key = `${content.level}/${content.tx}/${content.ty}`;
    const bytes = bytesOf(buffers?.[0]);
    if (!bytes || this.tiles.has(key)) {
      this.pending.delete(key);
      return;
    }
    // any view's tile is good for this one: every view of the widget hears every answer
    createImageBitmap(new Blob([bytes], { type: content.mime || "image/jpeg" })).then(
      (bmp) => {
        this.pending.delete(key);
        if (this.closed) return bmp.close();
        this.tiles.set(key, { bmp, level: content.level, tx: content.tx, ty: content.ty });
        this.evict();
        this.onTile();
      },
      (err: unknown) => {
        this.pending.delete(key);
        this.onError(`This browser cannot show a tile of ${this.info.file_name}: ${String(err)}`);
      },
    );
  };

  private evict(): void {
    while (this.tiles.size > MAX_TILES) {
      const [key, t] = this.tiles.entries().next().value as [string, Tile];
      t.bmp.close();
      this.tiles.delete(key);
    }
  }

  dispose(): void {
    this.closed = true;
    this.model.off("msg:custom", this.onMessage);
    for (const t of this.tiles.values()) t.bmp.close();
    this.tiles.clear();
    this.pending.clear();
  }
}
