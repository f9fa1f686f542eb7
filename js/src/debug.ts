// The debug handle for browser tests and benchmarks (see js/README.md): `window.__labnb.annotators`
// lists one object per rendered view. It reads state and converts coordinates; it changes nothing.
import type { Editor } from "./editor";

export interface AnnotatorHandle {
  toScreen(x: number, y: number): [number, number];
  toImage(clientX: number, clientY: number): [number, number];
  state(): ReturnType<Editor["state"]>;
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
    state: () => ed.state(),
    async idle() {
      // Two quiet checks in a row: an ack can schedule a frame, a frame can queue UI work.
      let quiet = 0;
      while (quiet < 2) {
        await new Promise((r) => setTimeout(r, 20));
        quiet = ed.busy ? 0 : quiet + 1;
      }
    },
  };
  const reg = (window.__labnb ??= { annotators: [] });
  reg.annotators.push(handle);
  return () => {
    const i = reg.annotators.indexOf(handle);
    if (i >= 0) reg.annotators.splice(i, 1);
  };
}
