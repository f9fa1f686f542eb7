// Viewport maths. Image coordinates are full-resolution pixels whatever bitmap is shown; screen
// coordinates are CSS pixels relative to the stage's top-left corner. screen = offset + image * scale.

export interface Rect {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

const PAD = 12; // CSS px kept free around a fitted image, so its border and handles stay visible

export class Viewport {
  scale = 1;
  tx = 0;
  ty = 0;
  width = 0;
  height = 0;
  imageW = 1;
  imageH = 1;
  /** True until the user zooms or pans: a fitted view refits when the stage is resized. */
  fitted = true;

  setImage(w: number, h: number): void {
    this.imageW = Math.max(1, w);
    this.imageH = Math.max(1, h);
    this.fit();
  }

  setSize(w: number, h: number): void {
    const cx = this.width / 2;
    const cy = this.height / 2;
    this.width = w;
    this.height = h;
    if (this.fitted) this.fit();
    else this.panBy(w / 2 - cx, h / 2 - cy); // keep the centre where it was
  }

  fitScale(): number {
    const w = Math.max(1, this.width - 2 * PAD);
    const h = Math.max(1, this.height - 2 * PAD);
    return Math.min(w / this.imageW, h / this.imageH);
  }

  minScale(): number {
    return this.fitScale() / 4;
  }

  maxScale(): number {
    // Far enough to place points inside one pixel, also on images shown downscaled.
    return Math.max(32, this.fitScale() * 8);
  }

  fit(): void {
    this.scale = this.fitScale();
    this.tx = (this.width - this.imageW * this.scale) / 2;
    this.ty = (this.height - this.imageH * this.scale) / 2;
    this.fitted = true;
  }

  /** Zoom by `factor` keeping the image point under (sx, sy) in place. */
  zoomAt(factor: number, sx: number, sy: number): void {
    const next = Math.min(this.maxScale(), Math.max(this.minScale(), this.scale * factor));
    if (next === this.scale) return;
    const ix = (sx - this.tx) / this.scale;
    const iy = (sy - this.ty) / this.scale;
    this.scale = next;
    this.tx = sx - ix * next;
    this.ty = sy - iy * next;
    this.fitted = false;
    this.clamp();
  }

  panBy(dx: number, dy: number): void {
    this.tx += dx;
    this.ty += dy;
    this.fitted = false;
    this.clamp();
  }

  /** Keep part of the image on screen: panning it away entirely only loses the user. */
  private clamp(): void {
    const keep = 48;
    const w = this.imageW * this.scale;
    const h = this.imageH * this.scale;
    this.tx = Math.min(this.width - keep, Math.max(keep - w, this.tx));
    this.ty = Math.min(this.height - keep, Math.max(keep - h, this.ty));
  }

  toScreenX(x: number): number {
    return this.tx + x * this.scale;
  }

  toScreenY(y: number): number {
    return this.ty + y * this.scale;
  }

  toImageX(sx: number): number {
    return (sx - this.tx) / this.scale;
  }

  toImageY(sy: number): number {
    return (sy - this.ty) / this.scale;
  }

  /** Make `out` this view seen from a canvas that extends `margin` CSS px beyond the stage. */
  withMargin(out: Viewport, margin: number): Viewport {
    out.scale = this.scale;
    out.tx = this.tx + margin;
    out.ty = this.ty + margin;
    out.width = this.width + 2 * margin;
    out.height = this.height + 2 * margin;
    out.imageW = this.imageW;
    out.imageH = this.imageH;
    return out;
  }

  /** The part of the image plane on screen, in image pixels. */
  visible(): Rect {
    return {
      minX: this.toImageX(0),
      minY: this.toImageY(0),
      maxX: this.toImageX(this.width),
      maxY: this.toImageY(this.height),
    };
  }
}
