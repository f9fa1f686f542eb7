// Entry point of the exam grader's front end, loaded by anywidget (labnb/widgets/exam_grader.py `_esm`).
// `render` builds one grader per view (js/src/grader/panel.ts) and returns the cleanup that frees it:
// listeners, observers, the canvas, bitmaps and timers.
import "./grader/grader.css";
import { registerGraderDebug } from "./grader/debug";
import type { GraderModel } from "./grader/model";
import { GraderView } from "./grader/panel";

function render({ model, el }: { model: GraderModel; el: HTMLElement }): () => void {
  let view: GraderView;
  try {
    view = new GraderView(model, el);
  } catch (err) {
    // Show the failure in the cell: ipywidgets would only log it to the console.
    const msg = document.createElement("pre");
    msg.className = "labnb-grader-error";
    msg.textContent = `The exam grader could not start: ${err instanceof Error ? err.message : String(err)}`;
    el.appendChild(msg);
    return () => msg.remove();
  }
  const unregister = registerGraderDebug(view);
  return () => {
    unregister();
    view.dispose();
  };
}

export default { render };
