// The debug handle of the review panel, for browser tests only (see js/README.md): `window.__labnb.reviews`
// lists one object per rendered panel view. It reads state and converts coordinates; it changes nothing.
// The panel's editor is also registered as an annotator view (`window.__labnb.annotators`, ../debug.ts).
import { registerIn, settled } from "../debug";
import type { DrawnLabel } from "../labels";
import type { Panes } from "./passes";
import type { ReviewView } from "./panel";

export interface ReviewHandle {
  state(): ReviewState;
  /** Screen position of image point (x, y) in side-by-side pane `i` (null without that pane). */
  paneToScreen(i: number, x: number, y: number): [number, number] | null;
  idle(): Promise<void>;
}

/** What a test reads of a panel view: the open item, the queue, the mode, the passes, layout and labels. */
export interface ReviewState {
  current: number | null;
  queue: number[];
  fixing: boolean;
  sideBySide: boolean;
  busy: boolean;
  navTarget: number | null;
  hidden: number[];
  passes: { draw_task: number; drawer: string; color: string; reviewed: boolean }[];
  layout: { labels: boolean; queueOpen: boolean; classesOpen: boolean; fullWidth: boolean };
  labels: DrawnLabel[];
  paneLabels: DrawnLabel[][];
  paneImages: ReturnType<Panes["images"]>;
}

export function reviewState(view: ReviewView): ReviewState {
  const lay = view.layout;
  return {
    layout: { labels: lay.labels, queueOpen: lay.queueOpen, classesOpen: lay.classesOpen, fullWidth: lay.fullWidth },
    labels: view.labels.drawn,
    paneLabels: view.panes.drawnLabels(),
    paneImages: view.panes.images(),
    current: view.currentId(),
    queue: (view.model.get("queue") ?? []).map((r) => r.review_task),
    fixing: view.fixing,
    sideBySide: view.sideBySide,
    busy: view.busy,
    navTarget: view.nav.target,
    hidden: [...view.others.hidden],
    passes: (view.model.get("passes") ?? []).map((p) => ({ draw_task: p.draw_task, drawer: p.drawer, color: p.color, reviewed: p.reviewed })),
  };
}

export function registerReviewDebug(view: ReviewView): () => void {
  return registerIn<ReviewHandle>("reviews", {
    state: () => reviewState(view),
    paneToScreen: (i, x, y) => view.panes.toScreen(i, x, y),
    idle: () => settled(() => view.busy, 25), // a reply can queue UI work, an opened item decodes an image
  });
}
