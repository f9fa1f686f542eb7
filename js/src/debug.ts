// The debug handle for browser tests and benchmarks (see js/README.md): `window.__labnb.annotators`
// lists one object per rendered view. It reads state and converts coordinates; it changes nothing.
import type { Editor } from "./editor";
import { visibleGhosts } from "./editorassist";
import type { ImageLayer } from "./imagelayer";
import type { ToolName } from "./tools/tool";
import type { AssistModelInfo, ShapeDTO } from "./types";

export interface AnnotatorHandle {
  toScreen(x: number, y: number): [number, number];
  toImage(clientX: number, clientY: number): [number, number];
  state(): EditorState;
  idle(): Promise<void>;
}

interface Registry {
  annotators: AnnotatorHandle[];
}

declare global {
  interface Window {
    __labnb?: Registry;
  }
}

/** What a test reads of an editor: its tool, class, zoom, selection, shapes, saving, frames, assist, image. */
export interface EditorState {
  tool: ToolName;
  label: string | null;
  zoom: number;
  selected: string[];
  shapes: ShapeDTO[];
  pending: number;
  frameTimes: number[];
  assist: { model: AssistModelInfo | null; on: boolean; threshold: number; status: string };
  ghosts: { cid: string; prediction_id: number; score: number; label: string | null; visible: boolean; selected: boolean }[];
  image: ReturnType<ImageLayer["describe"]>;
}

export function editorState(ed: Editor): EditorState {
  const a = ed.assist;
  const shown = new Set(visibleGhosts(ed).map((g) => g.cid));
  return {
    tool: ed.tool.name,
    label: ed.label,
    zoom: ed.view.scale,
    selected: [...ed.selection],
    shapes: [...ed.store.all()],
    pending: ed.sync.pending,
    frameTimes: ed.layers.frameTimes.values(),
    image: ed.image.describe(),
    assist: { model: a.model, on: a.on, threshold: a.threshold, status: a.status },
    ghosts: a.suggestions.map((g) => ({
      cid: g.cid,
      prediction_id: g.predictionId,
      score: g.score,
      label: g.dto.label,
      visible: shown.has(g.cid),
      selected: a.selected.has(g.cid),
    })),
  };
}

export function registerDebug(ed: Editor): () => void {
  const handle: AnnotatorHandle = {
    toScreen(x, y) {
      const r = ed.stage.getBoundingClientRect();
      return [r.left + ed.view.toScreenX(x), r.top + ed.view.toScreenY(y)];
    },
    toImage(clientX, clientY) {
      const r = ed.stage.getBoundingClientRect();
      return [ed.view.toImageX(clientX - r.left), ed.view.toImageY(clientY - r.top)];
    },
    state: () => editorState(ed),
    // an ack can schedule a frame, a frame can queue UI work
    idle: () => settled(() => ed.busy, 20),
  };
  const reg = (window.__labnb ??= { annotators: [] });
  reg.annotators.push(handle);
  return () => {
    const i = reg.annotators.indexOf(handle);
    if (i >= 0) reg.annotators.splice(i, 1);
  };
}

/** Resolves once `busy()` is false at two checks `ms` apart in a row (one piece of work can start another). */
export async function settled(busy: () => boolean, ms: number): Promise<void> {
  let quiet = 0;
  while (quiet < 2) {
    await new Promise((r) => setTimeout(r, ms));
    quiet = busy() ? 0 : quiet + 1;
  }
}

/** Lists `handle` in `window.__labnb[list]` (the review panels', the exam graders'); returns its removal. */
export function registerIn<T>(list: "reviews" | "graders", handle: T): () => void {
  const global = window as unknown as { __labnb?: Registry & Partial<Record<typeof list, T[]>> };
  const reg = (global.__labnb ??= { annotators: [] });
  const handles = (reg[list] ??= []);
  handles.push(handle);
  return () => {
    const i = handles.indexOf(handle);
    if (i >= 0) handles.splice(i, 1);
  };
}
