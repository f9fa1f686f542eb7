// Class names drawn on the shapes themselves (the review panel, where every class has its drawer's colour
// and the name is the only way to tell a "dog" box from a "person" box). Each label is a pill at the
// top-left corner of the shape's bounds, above it when there is room. Labels of one frame never cover each
// other: one that would is moved right along the same line (passes that agree put boxes on top of each
// other, and both names must show), then below the corner. The shapes labelled first get the corners:
// the pass under review, then the other passes. Past MAX_LABELS a frame labels no more shapes.
import { drawPill, PILL_FONT, PILL_HEIGHT, pillWidth } from "./render";
import type { Rect, Viewport } from "./view";

/** Labels per frame, at most: beyond a few hundred names the image is covered in text anyway. */
const MAX_LABELS = 400;
const GAP = 2;

/** A label as drawn, in image coordinates of its top-left corner (for the test handle). */
export interface DrawnLabel {
  text: string;
  color: string;
  x: number;
  y: number;
  /** Its size in CSS px. */
  w: number;
  h: number;
}

interface Placed {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** One frame's labels on one canvas: `begin`, then `add` per shape, most important first. */
export class LabelLayer {
  private placed: Placed[] = [];
  drawn: DrawnLabel[] = [];

  begin(): void {
    this.placed = [];
    this.drawn = [];
  }

  /** Label the shape whose image-space bounds are `b` with `text` in `color`. */
  add(ctx: CanvasRenderingContext2D, view: Viewport, dpr: number, text: string, color: string, b: Rect): void {
    if (!text || this.placed.length >= MAX_LABELS) return;
    const cw = ctx.canvas.width / dpr;
    const ch = ctx.canvas.height / dpr;
    const left = view.toScreenX(b.minX);
    const top = view.toScreenY(b.minY);
    const right = view.toScreenX(b.maxX);
    const bottom = view.toScreenY(b.maxY);
    if (right < 0 || bottom < 0 || left > cw || top > ch) return; // off this canvas
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.font = PILL_FONT;
    const w = pillWidth(ctx, text);
    const h = PILL_HEIGHT;
    const above = top - h - GAP;
    let x = Math.max(GAP, Math.min(left, cw - w - GAP));
    let y = above >= GAP ? above : Math.max(GAP, top + GAP);
    for (let tries = 0; tries < 8; tries++) {
      const hit = this.placed.find((p) => x < p.x + p.w + GAP && p.x < x + w + GAP && y < p.y + p.h + GAP && p.y < y + h + GAP);
      if (!hit) break;
      if (hit.x + hit.w + GAP + w <= cw - GAP && tries < 4) x = hit.x + hit.w + GAP;
      else {
        x = Math.max(GAP, Math.min(left, cw - w - GAP));
        y = hit.y + hit.h + GAP;
      }
    }
    drawPill(ctx, text, color, x, y, w);
    this.placed.push({ x, y, w, h });
    this.drawn.push({ text, color, x: view.toImageX(x), y: view.toImageY(y), w, h });
  }
}
