// The image: decoded once (decode.ts: a quick preview, then the full bitmap off the main thread), then
// drawn, visible part only, whenever the image layer is redrawn (after a pan or zoom settles, see
// layers.ts; not on every frame of it). Shrunk images are drawn fast (bilinear) first, then once more
// with good filtering when the view has been still for a moment: the first good-quality shrink of a
// large bitmap costs tens of milliseconds, which the first paint should not wait for.
import { acquire, release } from "./decode";
import type { ImageInfo } from "./types";
import type { Viewport } from "./view";

export class ImageLayer {
  /** The full bitmap, or the preview until it arrives (both owned by decode.ts). */
  private bitmap: ImageBitmap | null = null;
  private marked: ImageBitmap | null = null;
  private full = false;
  private bytes: DataView | null = null;
  private seq = 0;
  private refineTimer: ReturnType<typeof setTimeout> | undefined;
  /** The next draw filters well. */
  private fine = false;
  /** A fast draw is waiting for its good-quality redraw. */
  refining = false;
  loading = false;

  constructor(
    /** The bitmap is ready: redraw the image layer. */
    private readonly onReady: () => void,
    private readonly onError: (message: string) => void,
  ) {}

  /** Show new image bytes. */
  load(info: ImageInfo, bytes: DataView): void {
    const seq = ++this.seq;
    this.clear();
    if (!bytes || !bytes.byteLength) return;
    this.loading = true;
    this.bytes = bytes;
    const d = acquire(bytes, info.mime, info.bitmap_width || info.width, info.bitmap_height || info.height);
    d.preview
      .then((p) => {
        if (seq !== this.seq || !p || this.full) return;
        this.bitmap = p;
        this.onReady();
      })
      .catch(() => undefined);
    d.full
      .then((bmp) => {
        if (seq !== this.seq) return;
        this.bitmap = bmp;
        this.full = true;
        this.onReady();
      })
      .catch((err: unknown) => {
        if (seq === this.seq) this.onError(`This browser cannot show ${info.file_name}: ${String(err)}`);
      })
      .finally(() => {
        if (seq === this.seq) this.loading = false;
      });
  }

  /** Draw the visible part of the image (zoomed far in, the rest would be clipped anyway). */
  draw(ctx: CanvasRenderingContext2D, view: Viewport, dpr: number, info: ImageInfo): void {
    const bmp = this.bitmap;
    if (!bmp) return;
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
    }
    ctx.drawImage(bmp, x0, y0, x1 - x0, y1 - y0, view.toScreenX(x0 / kx), view.toScreenY(y0 / ky), ((x1 - x0) / kx) * view.scale, ((y1 - y0) / ky) * view.scale);
  }

  private clear(): void {
    clearTimeout(this.refineTimer);
    this.fine = false;
    this.refining = false;
    this.bitmap = null;
    this.full = false;
    if (this.bytes) release(this.bytes);
    this.bytes = null;
  }

  dispose(): void {
    this.seq++;
    this.clear();
  }
}
