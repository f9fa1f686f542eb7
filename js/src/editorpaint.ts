// What each of an editor's layers draws (layers.ts decides when): the image (imagelayer.ts), the shapes
// (per-class batches, rebuilt only when marked stale, between the review panel's `underlay` and
// `aboveShapes` hooks), the shown suggestions (assist.ts), and the overlay (overlay.ts).
import { drawGhosts } from "./assist";
import type { Editor } from "./editor";
import { visibleGhosts } from "./editorassist";
import { formatKey } from "./keys";
import type { LayerName } from "./layers";
import { paintOverlay } from "./overlay";
import type { Viewport } from "./view";

export function paintLayer(ed: Editor, layer: LayerName, ctx: CanvasRenderingContext2D, view: Viewport): void {
  if (layer === "image") ed.image.draw(ctx, view, ed.dpr, ed.info);
  else if (layer === "shapes") {
    if (ed.shapesStale) {
      ed.painter.rebuild(ed.store.all(), (s) => !ed.isVisible(s) || ed.previewCids.has(s.cid), (l) => ed.classOf(l));
      ed.shapesStale = false;
    }
    ed.underlay?.(ctx, view, ed.dpr);
    ed.painter.draw(ctx, view, ed.dpr);
    ed.aboveShapes?.(ctx, view, ed.dpr);
  } else if (layer === "ghosts") {
    drawGhosts(ctx, view, ed.dpr, visibleGhosts(ed), ed.painter, (l) => ed.classOf(l));
  } else {
    paintOverlay(ctx, {
      view,
      dpr: ed.dpr,
      painter: ed.painter,
      store: ed.store,
      index: ed.index,
      selection: ed.selection,
      hover: ed.hover,
      preview: ed.preview,
      previewCids: ed.previewCids,
      tool: ed.tool,
      classOf: (l) => ed.classOf(l),
      colorOf: (l) => ed.colorOf(l),
      isVisible: (s) => ed.isVisible(s),
      ghosts: ed.assist.active ? visibleGhosts(ed) : [],
      ghostSelection: ed.assist.selected,
      ghostHover: ed.assist.hover,
      acceptHint: ed.keys.keys.accept_suggestions ? `${formatKey(ed.keys.keys.accept_suggestions)} accepts` : "",
    });
  }
}
