// The overlay layer: the hovered shape, the selection (with the class name of a single selected
// shape), the hovered and selected suggestions, shapes being edited (previewed here while the shapes
// layer leaves them out), then whatever the current tool draws (handles, drafts, brush cursor).
import { drawGhostHighlight, type Ghost } from "./assist";
import type { HitIndex } from "./hitindex";
import { drawLabel, type ShapePainter } from "./render";
import type { Store } from "./store";
import type { PreviewItem, Tool } from "./tools/tool";
import type { ClassDef, ShapeDTO } from "./types";
import type { Viewport } from "./view";

/** Above this many selected (or dragged) shapes they are drawn with thin lines. */
const MANY = 100;

export interface OverlayScene {
  view: Viewport;
  dpr: number;
  painter: ShapePainter;
  store: Store;
  index: HitIndex;
  selection: ReadonlySet<string>;
  hover: string | null;
  preview: readonly PreviewItem[] | null;
  previewCids: ReadonlySet<string>;
  tool: Tool;
  classOf(label: string | null): ClassDef | undefined;
  colorOf(label: string | null): string;
  isVisible(s: ShapeDTO): boolean;
  /** The suggestions shown, the selected ones and the hovered one. */
  ghosts: readonly Ghost[];
  ghostSelection: ReadonlySet<string>;
  ghostHover: string | null;
  acceptHint: string;
}

export function paintOverlay(ctx: CanvasRenderingContext2D, o: OverlayScene): void {
  const { view: v, dpr } = o;
  const label = (s: ShapeDTO): void => {
    const b = o.index.bounds(s.cid);
    // A committed suggestion keeps the model's score: shown next to the class.
    const text = typeof s.score === "number" ? `${s.label ?? "?"} ${s.score.toFixed(2)}` : (s.label ?? "?");
    if (b) drawLabel(ctx, dpr, text, o.colorOf(s.label), v.toScreenX(b.minX), v.toScreenY(b.minY));
  };
  if (o.hover && !o.selection.has(o.hover) && !o.previewCids.has(o.hover)) {
    const s = o.store.get(o.hover);
    if (s && o.isVisible(s)) {
      o.painter.drawOne(ctx, v, dpr, s, o.classOf(s.label), "hover");
      label(s);
    }
  }
  const many = o.selection.size > MANY;
  for (const cid of o.selection) {
    if (o.previewCids.has(cid)) continue;
    const s = o.store.get(cid);
    if (s) o.painter.drawOne(ctx, v, dpr, s, o.classOf(s.label), "selected", 0, 0, many);
  }
  if (o.selection.size === 1 && !o.preview) {
    const [cid] = o.selection;
    const s = cid ? o.store.get(cid) : undefined;
    if (s) label(s);
  }
  if (o.ghosts.length && (o.ghostSelection.size || o.ghostHover)) {
    for (const gh of o.ghosts) {
      const mode = o.ghostSelection.has(gh.cid) ? "selected" : gh.cid === o.ghostHover ? "hover" : null;
      if (mode) drawGhostHighlight(ctx, v, dpr, gh, o.painter, o.classOf, mode, o.acceptHint);
    }
  }
  const manyPreview = (o.preview?.length ?? 0) > MANY;
  for (const it of o.preview ?? []) {
    if (!it.hidden) o.painter.drawOne(ctx, v, dpr, it.shape, o.classOf(it.shape.label), "edit", it.dx, it.dy, manyPreview);
  }
  o.tool.draw(ctx);
}
