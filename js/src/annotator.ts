// Entry point of the Annotator front end (placeholder renderer until the full editor lands).
import "./annotator.css";
import type { Model } from "./types";

type AnyModel = { get<K extends keyof Model>(k: K): Model[K]; on(e: string, f: () => void): void; off(e: string, f: () => void): void };

function render({ model, el }: { model: AnyModel; el: HTMLElement }): () => void {
  const canvas = document.createElement("canvas");
  el.appendChild(canvas);
  const draw = async () => {
    const info = model.get("image_info");
    const blob = new Blob([model.get("image").buffer as ArrayBuffer], { type: info.mime });
    const bitmap = await createImageBitmap(blob);
    canvas.width = info.width;
    canvas.height = info.height;
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.drawImage(bitmap, 0, 0, info.width, info.height);
  };
  void draw();
  model.on("change:image", draw);
  return () => model.off("change:image", draw);
}

export default { render };
