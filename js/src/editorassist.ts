// Model assist in an editor view (assist.ts holds the suggestions, tests hits on them and draws them):
// Python's assist traits pulled in (the ghosts layer and the toolbar's assist group exist only with a
// model), which suggestions show and their redrawing when that may have changed, and the suggestion under
// the pointer, selected or hovered, for the tools (the editor's `ghostAt`, `selectGhost`, `setGhostHover`).
import { ghostAt, type Ghost } from "./assist";
import type { Editor } from "./editor";
import type { ShapeDTO } from "./types";

/** Python's assist traits (model, on, threshold, status, suggestions) into the view. */
export function pullAssist(ed: Editor, rebuild = true): void {
  const a = ed.assist;
  const was = a.active;
  a.pull(ed.model);
  ed.layers.setEnabled("ghosts", a.active);
  if (was !== a.active && rebuild) ed.buildUi();
  ghostsChanged(ed);
}

/** What is shown of the suggestions may have changed: redraw them. */
export function ghostsChanged(ed: Editor): void {
  ed.assist.invalidate();
  ed.layers.invalidate("ghosts", "overlay");
  ed.queueUi();
}

/** The suggestions shown now (assist on, score at or above the threshold, not committed, class shown). */
export function visibleGhosts(ed: Editor): readonly Ghost[] {
  return ed.assist.visible(ed.store.all(), ed.hidden);
}

/** The shown suggestion under an image point, if it is smaller than `than` (the stored shape hit there). */
export function ghostUnder(ed: Editor, x: number, y: number, than: ShapeDTO | null): Ghost | null {
  const gh = ghostAt(visibleGhosts(ed), ed.painter, x, y, ed.px(5));
  if (!gh || !than) return gh;
  const b = ed.index.bounds(than.cid);
  const area = than.geometry.kind === "keypoints" ? 0 : b ? (b.maxX - b.minX) * (b.maxY - b.minY) : Infinity;
  return gh.area < area ? gh : null;
}

/** Select a suggestion ("replace" also clears the selection of stored shapes), or clear them (null). */
export function pickGhost(ed: Editor, cid: string | null, mode: "replace" | "toggle"): void {
  const sel = ed.assist.selected;
  if (mode === "replace") {
    ed.select([]);
    sel.clear();
  }
  if (cid !== null) {
    if (mode === "toggle" && sel.has(cid)) sel.delete(cid);
    else sel.add(cid);
  }
  ed.layers.invalidate("overlay");
  ed.queueUi();
}

export function hoverGhost(ed: Editor, cid: string | null): void {
  if (cid === ed.assist.hover) return;
  ed.assist.hover = cid;
  ed.layers.invalidate("overlay");
}
