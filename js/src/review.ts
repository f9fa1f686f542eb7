// Entry point of the review panel's front end, loaded by anywidget (labnb/widgets/review_panel.py `_esm`).
// `initialize` starts decoding the open item's image once per widget, as the Annotator's does (its stored
// preview, or the image when it came whole); `render` builds one panel per view (js/src/review/panel.ts,
// around the Annotator's editor) and returns the cleanup that frees it.
import "./annotator.css";
import "./review/review.css";
import annotator from "./annotator";
import { registerReviewDebug } from "./review/debug";
import { editorModel } from "./review/editormodel";
import type { PanelModel } from "./review/model";
import { ReviewView } from "./review/panel";

function initialize({ model }: { model: PanelModel }): void {
  annotator.initialize({ model: editorModel(model) }); // the panel's image traits are the Annotator's
}

function render({ model, el }: { model: PanelModel; el: HTMLElement }): () => void {
  let view: ReviewView;
  try {
    view = new ReviewView(model, el);
  } catch (err) {
    // Show the failure in the cell: ipywidgets would only log it to the console.
    const msg = document.createElement("pre");
    msg.className = "labnb-review-error";
    msg.textContent = `The review panel could not start: ${err instanceof Error ? err.message : String(err)}`;
    el.appendChild(msg);
    return () => msg.remove();
  }
  const unregister = registerReviewDebug(view);
  return () => {
    unregister();
    view.dispose();
  };
}

export default { initialize, render };
