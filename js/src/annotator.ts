// Entry point of the Annotator front end, loaded by anywidget (labnb/widgets/annotator.py `_esm`).
// `initialize` runs once per widget and starts decoding its image; `render` builds one editor per view and returns the cleanup that frees it: listeners, observers,
// canvases, bitmaps and timers (a re-executed cell leaves nothing behind).
import "./annotator.css";
import { registerDebug } from "./debug";
import { decodeImage } from "./decode";
import { Editor } from "./editor";
import type { WidgetModel } from "./model";
import type { Model } from "./types";

/** Once per widget, before any view: start decoding the stored preview (or the image when it comes whole),
 * so the first view paints at once. */
function initialize({ model }: { model: WidgetModel }): void {
  const bytes = model.get("image");
  const preview = model.get("preview");
  const info = model.get("image_info") as Partial<Model["image_info"]> | undefined;
  performance.mark("labnb:initialize");
  if (preview && preview.byteLength && info?.preview_width && info.preview_height) {
    decodeImage(preview, info.preview_mime ?? "", info.preview_width, info.preview_height, false);
  } else if (bytes && bytes.byteLength && info?.width && info.height) {
    decodeImage(bytes, info.mime ?? "", info.bitmap_width || info.width, info.bitmap_height || info.height);
  }
}

function render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  performance.mark("labnb:render");
  let editor: Editor;
  try {
    editor = new Editor(model, el);
  } catch (err) {
    // Show the failure in the cell: ipywidgets would only log it to the console.
    const msg = document.createElement("pre");
    msg.className = "labnb-annotator-error";
    msg.textContent = `The annotator could not start: ${err instanceof Error ? err.message : String(err)}`;
    el.appendChild(msg);
    return () => msg.remove();
  }
  const unregister = registerDebug(editor);
  return () => {
    unregister();
    editor.dispose();
  };
}

export default { initialize, render };
