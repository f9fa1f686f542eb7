// The debug handle of the review panel, for browser tests only (see js/README.md): `window.__labnb.reviews`
// lists one object per rendered panel view. It reads state and converts coordinates; it changes nothing.
// The panel's editor is also registered as an annotator view (`window.__labnb.annotators`, ../debug.ts).
import type { ReviewView } from "./panel";

export interface ReviewHandle {
  state(): ReturnType<ReviewView["state"]>;
  /** Screen position of image point (x, y) in side-by-side pane `i` (null without that pane). */
  paneToScreen(i: number, x: number, y: number): [number, number] | null;
  idle(): Promise<void>;
}

interface Registry {
  reviews?: ReviewHandle[];
}

export function registerReviewDebug(view: ReviewView): () => void {
  const handle: ReviewHandle = {
    state: () => view.state(),
    paneToScreen: (i, x, y) => view.panes.toScreen(i, x, y),
    async idle() {
      // Two quiet checks in a row: a reply can queue UI work, an opened item decodes an image.
      let quiet = 0;
      while (quiet < 2) {
        await new Promise((r) => setTimeout(r, 25));
        quiet = view.busy ? 0 : quiet + 1;
      }
    },
  };
  const global = window as unknown as { __labnb?: Registry & { annotators?: unknown[] } };
  const reg = (global.__labnb ??= { annotators: [] });
  const list = (reg.reviews ??= []);
  list.push(handle);
  return () => {
    const i = list.indexOf(handle);
    if (i >= 0) list.splice(i, 1);
  };
}
