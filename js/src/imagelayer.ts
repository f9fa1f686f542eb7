// The image: decoded once (decode.ts), then drawn, visible part only, whenever the image layer is redrawn
// (after a pan or zoom settles, see layers.ts; not on every frame of it). What is drawn is the best bitmap
// decoded so far: the stored preview Python sends first (labnb/pyramid.py, `preview`), or the browser's own
// reduced decode of the image, then the full image once decoded (it may arrive after the preview, in a
// later message: `update`), each replacing the last only when decoded, so nothing flashes. A huge image
// has no full bitmap: tiles of the visible part are drawn over the preview (tiles.ts).
// Shrunk images are drawn fast (bilinear) first, then once more with good filtering when the view has
// been still for a moment: the first good-quality shrink of a large bitmap costs tens of milliseconds,
// which the first paint should not wait for.
import { acquire, release } from "./decode";
import type { TileSet } from "./tiles";
import type { ImageInfo } from "./types";
import type { Viewport } from "./view";

/** How good a bitmap is: a later one replaces the one drawn only when it is better. */
const enum Rank {
  None = 0,
  Stored = 1, // the stored preview
  Reduced = 2, // the browser's reduced decode of the image
  Full = 3,
}

export class ImageLayer {
  /** The best bitmap decoded so far (owned by decode.ts). */
  private bitmap: ImageBitmap | null = null;
  private rank: Rank = Rank.None;
  private marked: ImageBitmap | null = null;
  private full = false;
  /** Byte views acquired from decode.ts for the image shown (released when it goes). */
  private held: DataView[] = [];
  private tiles: TileSet | null = null;
  private waitingFull = false;
  /** Asks Python for the full image, once the stored preview is on screen (imagefeed.py). */
  private wantFull: (() => void) | null = null;
  /** A stored preview was given for the image shown. */
  private stored = false;
  private decoding = 0;
  private seq = 0;
  private refineTimer: ReturnType<typeof setTimeout> | undefined;
  /** The next draw filters well. */
  private fine = false;
  /** A fast draw is waiting for its good-quality redraw. */
  refining = false;

  /** Something better is on its way: a decode, the full image from Python, tiles. */
  get loading(): boolean {
    return this.decoding > 0 || this.waitingFull || (this.tiles?.loading ?? false);
  }

  constructor(
    /** The bitmap is ready: redraw the image layer. */
    private readonly onReady: () => void,
    private readonly onError: (message: string) => void,
  ) {}

  /**
   * Show a new image: its bytes (may be empty: they come later, or never for tiles), the stored preview
   * when there is one, and the tiles of a huge image (the layer owns and disposes of them).
   */
  load(
    info: ImageInfo,
    bytes: DataView,
    extra: { preview?: DataView | null; tiles?: TileSet | null; wantFull?: () => void } = {},
  ): void {
    ++this.seq;
    this.clear();
    this.tiles = extra.tiles ?? null;
    this.wantFull = extra.wantFull ?? null;
    // Python (labnb/widgets/imagefeed.py) says `preview_width` when it sends the full image after the preview
    this.waitingFull = !this.tiles && !(bytes && bytes.byteLength) && info.preview_width !== undefined;
    this.update(info, bytes, extra.preview ?? null);
  }

  /** The same image, other bytes: the full image has arrived, or a preview made late. */
  update(info: ImageInfo, bytes: DataView | null, preview: DataView | null): void {
    if (preview && preview.byteLength && this.rank < Rank.Stored && !this.held.includes(preview)) {
      this.stored = true;
      this.take(info, preview, info.preview_mime ?? "", info.preview_width ?? 0, info.preview_height ?? 0, Rank.Stored);
    }
    if (bytes && bytes.byteLength && !this.held.includes(bytes)) {
      this.waitingFull = false;
      this.take(info, bytes, info.mime, info.bitmap_width || info.width, info.bitmap_height || info.height, Rank.Full);
    }
  }

  private take(info: ImageInfo, bytes: DataView, mime: string, w: number, h: number, rank: Rank): void {
    const seq = this.seq;
    this.held.push(bytes);
    this.decoding++;
    // with a stored preview on screen, the browser's own reduced decode of the image would only cost time
    const d = acquire(bytes, mime, w, h, rank === Rank.Full && !this.stored);
    d.preview
      .then((p) => {
        if (seq !== this.seq || !p || this.rank >= Rank.Reduced) return;
        this.show(p, Rank.Reduced);
      })
      .catch(() => undefined);
    d.full
      .then((bmp) => {
        if (seq !== this.seq || this.rank >= rank) return;
        this.show(bmp, rank);
      })
      .catch((err: unknown) => {
        if (seq !== this.seq) return;
        if (rank === Rank.Stored && this.wantFull) {
          this.wantFull(); // no preview to show: the full image then
          this.wantFull = null;
          return;
        }
        this.onError(`This browser cannot show ${info.file_name}: ${String(err)}`);
      })
      .finally(() => {
        if (seq === this.seq) this.decoding--;
        if (seq === this.seq && !this.loading) this.onReady();
      });
  }

  private show(bmp: ImageBitmap, rank: Rank): void {
    this.bitmap = bmp;
    this.rank = rank;
    this.full = rank === Rank.Full;
    this.onReady();
  }

  /** What is shown (tests and the debug handle): which bitmap, and tiles held per level. */
  describe(): { shown: "none" | "stored-preview" | "reduced" | "full"; tiles: Record<number, number> | null } {
    const names = ["none", "stored-preview", "reduced", "full"] as const;
    return { shown: names[this.rank], tiles: this.tiles?.counts() ?? null };
  }

  /** Draw the visible part of the image (zoomed far in, the rest would be clipped anyway). */
  draw(ctx: CanvasRenderingContext2D, view: Viewport, dpr: number, info: ImageInfo): void {
    if (this.bitmap) this.drawBitmap(ctx, view, dpr, info, this.bitmap);
    this.tiles?.draw(ctx, view, dpr);
  }

  private drawBitmap(ctx: CanvasRenderingContext2D, view: Viewport, dpr: number, info: ImageInfo, bmp: ImageBitmap): void {
    const kx = bmp.width / info.width;
    const ky = bmp.height / info.height;
    const perBitmapPx = view.scale / kx; // screen px per bitmap px
    const vis = view.visible();
    const x0 = Math.max(0, Math.floor(Math.max(0, vis.minX) * kx));
    const y0 = Math.max(0, Math.floor(Math.max(0, vis.minY) * ky));
    const x1 = Math.min(bmp.width, Math.ceil(Math.min(info.width, vis.maxX) * kx));
    const y1 = Math.min(bmp.height, Math.ceil(Math.min(info.height, vis.maxY) * ky));
    if (x1 <= x0 || y1 <= y0) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    // Zoomed in, show the pixels as they are: an annotator wants to see where an edge really is.
    ctx.imageSmoothingEnabled = perBitmapPx < 3;
    // Shrinking: "high" filters properly (and is faster than "medium" in Chromium's software path).
    const shrink = perBitmapPx < 1;
    const fast = shrink && !this.fine;
    ctx.imageSmoothingQuality = fast ? "low" : "high";
    this.fine = false;
    clearTimeout(this.refineTimer);
    this.refining = fast;
    if (fast) {
      this.refineTimer = setTimeout(() => {
        this.fine = true;
        this.onReady();
      }, 150);
    }
    if (bmp !== this.marked) {
      // For the benchmark (benchmarks/annotator.py) and anyone profiling: when each bitmap first showed.
      performance.mark(this.full ? "labnb:image-drawn" : "labnb:preview-drawn");
      this.marked = bmp;
      if (this.waitingFull && this.wantFull) {
        // the preview is on screen: now the full image may come (asked after this frame, not in it)
        const ask = this.wantFull;
        this.wantFull = null;
        setTimeout(ask, 0);
      }
    }
    ctx.drawImage(bmp, x0, y0, x1 - x0, y1 - y0, view.toScreenX(x0 / kx), view.toScreenY(y0 / ky), ((x1 - x0) / kx) * view.scale, ((y1 - y0) / ky) * view.scale);
  }

  private clear(): void {
    clearTimeout(this.refineTimer);
    this.fine = false;
    this.refining = false;
    this.bitmap = null;
    this.rank = Rank.None;
    this.full = false;
    this.decoding = 0;
    this.waitingFull = false;
    this.wantFull = null;
    this.stored = false;
    for (const b of this.held) release(b);
    this.held = [];
    this.tiles?.dispose();
    this.tiles = null;
  }

  dispose(): void {
    this.seq++;
    this.clear();
  }
}
