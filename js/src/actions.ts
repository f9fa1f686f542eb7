// Document actions outside the drawing tools: delete, copy and paste, select all, relabel, image tags,
// attributes, model suggestions (accept, turn on or off, threshold), navigation, handing the task in; and the keyboard's dispatch. Each action that changes shapes is one command (one undo
// step, and one edit per shape for Python).
import type { Ghost } from "./assist";
import type { Editor } from "./editor";
import { ghostsChanged, visibleGhosts } from "./editorassist";
import { clampDelta, deepEqual, plainBounds } from "./geometry";
import { rleBounds } from "./mask";
import { formatKey } from "./keys";
import { keypointAt, toggleKeypoint, translated } from "./tools/edit";
import type { Action, ShapeDTO } from "./types";

interface Clipboard {
  asset: number;
  width: number;
  height: number;
  shapes: ShapeDTO[];
}

/** How long navigation waits for the acks of the edits before it. */
const NAV_FLUSH_MS = 5000;

/** Shared by every view in the page, so a selection copied on one image can be pasted on the next. */
let clipboard: Clipboard | null = null;

export function isTextInput(target: EventTarget | null): boolean {
  if (target instanceof HTMLInputElement) return !["button", "checkbox", "radio", "range", "color"].includes(target.type);
  return target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement || (target instanceof HTMLElement && target.isContentEditable);
}

export function selectedShapes(ed: Editor): ShapeDTO[] {
  return [...ed.selection].map((c) => ed.store.get(c)).filter((s): s is ShapeDTO => s !== undefined);
}

export function deleteSelection(ed: Editor): void {
  const shapes = selectedShapes(ed);
  if (!shapes.length) return;
  ed.commit(shapes.map((s) => ({ cid: s.cid, after: null })));
  ed.select([]);
  ed.message(`Deleted ${shapes.length} object${shapes.length > 1 ? "s" : ""} (Ctrl+Z brings ${shapes.length > 1 ? "them" : "it"} back)`);
}

export function copySelection(ed: Editor): void {
  const shapes = selectedShapes(ed).filter((s) => s.geometry.kind !== "tag");
  if (!shapes.length) {
    ed.message("Select something to copy");
    return;
  }
  clipboard = { asset: ed.info.asset_id, width: ed.info.width, height: ed.info.height, shapes };
  ed.message(`Copied ${shapes.length} object${shapes.length > 1 ? "s" : ""}`);
}

/** Paste: in place on another image (objects that stay put between frames), offset on the same one. */
export function paste(ed: Editor): void {
  const clip = clipboard;
  if (!clip) {
    ed.message("Nothing copied yet (Ctrl+C copies the selection)");
    return;
  }
  const same = clip.asset === ed.info.asset_id;
  const W = ed.info.width;
  const H = ed.info.height;
  const out: ShapeDTO[] = [];
  let skipped = 0;
  for (const s of clip.shapes) {
    const g = s.geometry;
    if (g.kind === "mask" && (g.rle.size[0] !== H || g.rle.size[1] !== W)) {
      skipped++;
      continue;
    }
    const b = g.kind === "mask" ? rleBounds(g.rle) : plainBounds(g);
    if (!b || b.maxX - b.minX > W || b.maxY - b.minY > H) {
      skipped++;
      continue;
    }
    const offset = same ? Math.max(10, Math.round(ed.px(16))) : 0;
    const [dx, dy] = clampDelta(b, offset, offset, W, H);
    const moved = translated(s, dx, dy);
    if (!moved) continue;
    // A pasted copy is the user's own object: it does not commit the suggestion its original came from.
    const { prediction_id: _p, model: _m, score: _s, ...plain } = moved;
    out.push({ ...plain, id: null, cid: ed.newCid() });
  }
  if (out.length) {
    ed.commit(out.map((s) => ({ cid: s.cid, after: s })));
    ed.select(out.map((s) => s.cid));
  }
  if (skipped) ed.message(`${skipped} object${skipped > 1 ? "s do" : " does"} not fit this image and ${skipped > 1 ? "were" : "was"} not pasted`);
}

/** Choose the class for new objects; with a selection, relabel it too. */
export function pickClass(ed: Editor, name: string): void {
  if (!ed.classOf(name)) return;
  ed.label = name;
  if (ed.selection.size && !ed.readonly) relabelSelection(ed, name);
  ed.shell.revealClass(name);
  ed.tool.activate?.();
  ed.redrawOverlay();
  ed.queueUi();
}

export function toggleClassVisibility(ed: Editor, name: string): void {
  if (ed.hidden.has(name)) ed.hidden.delete(name);
  else {
    ed.hidden.add(name);
    for (const cid of [...ed.selection]) if (ed.store.get(cid)?.label === name) ed.selection.delete(cid);
  }
  ed.refreshShapes();
}

export function setBrush(ed: Editor, size: number): void {
  const max = Math.max(4, Math.max(ed.info.width, ed.info.height) / 4);
  ed.brushSize = Math.min(max, Math.max(1, Math.round(size)));
  ed.tool.activate?.();
  ed.redrawOverlay();
  ed.queueUi();
}

export function undo(ed: Editor): void {
  if (ed.tool.cancel()) return; // Ctrl+Z during a drawing drops the drawing first
  if (!ed.store.undo()) ed.message("Nothing to undo");
}

export function redo(ed: Editor): void {
  if (!ed.store.redo()) ed.message("Nothing to redo");
}

/** Next or previous image: drawings in progress are dropped, finished edits are flushed first. */
export async function navigate(ed: Editor, delta: number): Promise<void> {
  const target = ed.info.index + delta;
  if (ed.navigating || target < 0 || target >= ed.info.count) return;
  ed.tool.cancel();
  ed.navigating = true;
  ed.queueUi();
  const saved = await ed.sync.drain(NAV_FLUSH_MS);
  if (ed.closed) return;
  if (!saved) ed.message("The kernel has not confirmed the last edits yet; they are still on their way");
  ed.model.set("position", target);
  ed.model.save_changes();
}

/** Hand the bound task in, once every edit made so far is saved (an edit arriving after would be refused). */
export async function submitTask(ed: Editor): Promise<void> {
  if (ed.submitting) return;
  ed.submitting = true;
  ed.message("Saving, then submitting…");
  try {
    if (!(await ed.sync.drain(15_000))) {
      ed.message("Edits are not saved yet (is the kernel busy?); nothing was submitted");
      return;
    }
    // the active time since the last edit (checking the image before handing in) goes with the hand-in
    ed.model.send({ type: "submit_task", duration_ms: ed.clock.take() });
  } finally {
    ed.submitting = false;
  }
}

export function selectAll(ed: Editor): void {
  ed.select(ed.store.all().filter((s) => s.geometry.kind !== "tag" && ed.isVisible(s)).map((s) => s.cid));
}

/** Give the selection another class (keypoint shapes only to a class with the same points). */
export function relabelSelection(ed: Editor, label: string): void {
  const cls = ed.classOf(label);
  const edits: { cid: string; after: ShapeDTO }[] = [];
  let refused = 0;
  for (const s of selectedShapes(ed)) {
    if (s.label === label || s.geometry.kind === "tag") continue;
    if (s.geometry.kind === "keypoints" && !deepEqual(ed.classOf(s.label)?.keypoints ?? [], cls?.keypoints ?? [])) {
      refused++;
      continue;
    }
    edits.push({ cid: s.cid, after: { ...s, label } });
  }
  if (edits.length) ed.commit(edits);
  if (refused) ed.message(`Keypoints keep their class: “${label}” has other points`);
}

export function toggleTag(ed: Editor, group: string | null, value: string): void {
  const tags = ed.store.all().filter((s) => s.geometry.kind === "tag");
  const def = group === null ? undefined : ed.schema.tags.find((g) => g.name === group);
  const same = tags.find((t) => t.geometry.kind === "tag" && t.geometry.value === value && (group === null || (t.geometry.group ?? group) === group));
  if (same) {
    ed.commit([{ cid: same.cid, after: null }]);
    return;
  }
  const other = def && !def.multi ? tags.find((t) => t.geometry.kind === "tag" && (t.geometry.group === group || (t.geometry.group === null && def.options.includes(t.geometry.value)))) : undefined;
  if (other) {
    // A single-choice group changes its value: one update, not a delete and a create.
    ed.commit([{ cid: other.cid, after: { ...other, geometry: { kind: "tag", value, group } } }]);
    return;
  }
  const shape = ed.newShape(null, { kind: "tag", value, group });
  ed.commit([{ cid: shape.cid, after: shape }]);
}

export function setAttribute(ed: Editor, name: string, value: string | number | null): void {
  const edits = selectedShapes(ed)
    .filter((s) => s.geometry.kind !== "tag" && (s.attributes[name] ?? null) !== value)
    .map((s) => {
      const attributes = { ...s.attributes };
      if (value === null) delete attributes[name];
      else attributes[name] = value;
      return { cid: s.cid, after: { ...s, attributes } };
    });
  if (edits.length) ed.commit(edits);
}

/**
 * Accept suggestions: one command (one undo step) creating an ordinary shape per suggestion that names its
 * prediction; Python records the model, version and score of the stored prediction. The new shapes are
 * selected, ready to be adjusted.
 */
export function acceptSuggestions(ed: Editor, ghosts: readonly Ghost[]): void {
  if (!ghosts.length) return;
  const shapes: ShapeDTO[] = ghosts.map((g) => ({
    id: null,
    cid: ed.newCid(),
    label: g.dto.label,
    attributes: {},
    track_id: null,
    geometry: g.dto.geometry,
    prediction_id: g.predictionId,
    model: g.dto.model ?? null,
    score: g.score,
  }));
  ed.commit(shapes.map((s) => ({ cid: s.cid, after: s })));
  ed.select(shapes.map((s) => s.cid));
  const n = shapes.length;
  ed.message(`Accepted ${n} suggestion${n > 1 ? "s" : ""} (${formatUndo(ed)} takes ${n > 1 ? "them" : "it"} back)`);
}

function formatUndo(ed: Editor): string {
  return ed.keys.keys.undo ? formatKey(ed.keys.keys.undo) : "Undo";
}

export function acceptSelectedSuggestions(ed: Editor): void {
  const chosen = visibleGhosts(ed).filter((g) => ed.assist.selected.has(g.cid));
  if (!chosen.length) {
    ed.message("Click a grey suggestion to select it first");
    return;
  }
  acceptSuggestions(ed, chosen);
}

export function acceptAllSuggestions(ed: Editor): void {
  const shown = visibleGhosts(ed);
  if (!shown.length) {
    ed.message(ed.assist.on ? "No suggestion is shown" : "Model suggestions are off");
    return;
  }
  acceptSuggestions(ed, shown);
}

/** Suggestions on or off: off at once here, then Python clears them; on, Python sends them. */
export function toggleAssist(ed: Editor): void {
  const on = !ed.assist.on;
  ed.assist.on = on;
  if (!on) ed.assist.clear();
  ed.model.set("assist_on", on);
  ed.model.save_changes();
  ghostsChanged(ed);
}

/** The slider: shown suggestions follow at once; Python's trait is set when the slider is released. */
export function setThreshold(ed: Editor, value: number, done: boolean): void {
  const v = Math.min(1, Math.max(0, Math.round(value * 100) / 100));
  ed.assist.threshold = v;
  ghostsChanged(ed);
  if (done && ed.model.get("assist_threshold") !== v) {
    ed.model.set("assist_threshold", v);
    ed.model.save_changes();
  }
}

/** Keys while the widget has focus; true when used (the event then goes no further). */
export function handleKey(ed: Editor, e: KeyboardEvent): boolean {
  if (isTextInput(e.target)) {
    if (e.key === "Escape" && e.target instanceof HTMLElement) {
      e.target.blur();
      ed.focus();
      return true;
    }
    return false; // typing in a field: no shortcuts
  }
  ed.clock.touch();
  // Space and Enter on a focused button press it, as everywhere else.
  if ((e.key === " " || e.key === "Enter") && e.target instanceof HTMLButtonElement) return false;
  // Arrows and the like on the threshold slider move it.
  if (e.target instanceof HTMLInputElement && e.target.type === "range" && /^(Arrow|Home|End|Page)/.test(e.key)) return false;
  const action = ed.keys.match(e);
  // With suggestions selected, their key (Space) accepts them; otherwise Space is held to pan.
  if (action === "accept_suggestions" && ed.assist.active && ed.assist.selected.size) {
    if (!e.repeat) runAction(ed, action);
    return true;
  }
  if (e.key === " " && !e.ctrlKey && !e.metaKey && !e.altKey) {
    ed.setSpace(true);
    return true;
  }
  if (ed.helpOpen && (action === "cancel" || action === "help")) {
    ed.shell.setHelp(false);
    return true;
  }
  if (ed.tool.key?.(e)) return true;
  if (action && ed.tool.action?.(action)) return true;
  if (action) return runAction(ed, action);
  if (!e.ctrlKey && !e.metaKey && !e.altKey && e.key.length === 1) {
    const k = e.key.toLowerCase();
    const cls = ed.schema.classes.find((c) => c.hotkey !== null && c.hotkey.toLowerCase() === k);
    if (cls) {
      pickClass(ed, cls.name);
      return true;
    }
  }
  return false;
}

const EDITING: ReadonlySet<Action> = new Set<Action>([
  "tool_box", "tool_polygon", "tool_keypoints", "tool_mask", "eraser", "undo", "redo", "delete", "paste",
  "brush_bigger", "brush_smaller", "toggle_keypoint_visibility", "accept_suggestions", "accept_all_suggestions",
]);

const ASSIST: ReadonlySet<Action> = new Set<Action>(["accept_suggestions", "accept_all_suggestions", "toggle_assist"]);

export function runAction(ed: Editor, a: Action): boolean {
  if (ASSIST.has(a) && !ed.assist.active) return false; // no model: these keys do nothing
  if (ed.readonly && EDITING.has(a)) {
    ed.message("This annotator is read-only");
    return true;
  }
  switch (a) {
    case "tool_select":
      ed.setTool("select");
      break;
    case "tool_box":
      ed.setTool("box");
      break;
    case "tool_polygon":
      ed.setTool("polygon");
      break;
    case "tool_keypoints":
      ed.setTool("keypoints");
      break;
    case "tool_mask":
      ed.setTool("mask");
      break;
    case "eraser":
      ed.setTool("eraser");
      break;
    case "next_image":
      void navigate(ed, 1);
      break;
    case "prev_image":
      void navigate(ed, -1);
      break;
    case "undo":
      undo(ed);
      break;
    case "redo":
      redo(ed);
      break;
    case "delete":
      deleteSelection(ed);
      break;
    case "copy":
      copySelection(ed);
      break;
    case "paste":
      paste(ed);
      break;
    case "select_all":
      selectAll(ed);
      break;
    case "zoom_in":
      ed.zoomBy(1.25);
      break;
    case "zoom_out":
      ed.zoomBy(0.8);
      break;
    case "zoom_fit":
      ed.fit();
      break;
    case "toggle_visibility":
      if (ed.label) toggleClassVisibility(ed, ed.label);
      break;
    case "help":
      ed.shell.setHelp(!ed.helpOpen);
      break;
    case "cancel":
      if (!ed.tool.cancel()) ed.select([]);
      break;
    case "brush_bigger":
      setBrush(ed, ed.brushSize * 1.25);
      break;
    case "brush_smaller":
      setBrush(ed, ed.brushSize / 1.25);
      break;
    case "toggle_keypoint_visibility": {
      const p = ed.lastPointer;
      const hit = p ? keypointAt(ed, p) : null;
      if (hit) toggleKeypoint(ed, hit.shape, hit.name);
      else ed.message("Point at a keypoint to toggle it between visible and occluded");
      break;
    }
    case "accept_suggestions":
      acceptSelectedSuggestions(ed);
      break;
    case "accept_all_suggestions":
      acceptAllSuggestions(ed);
      break;
    case "toggle_assist":
      toggleAssist(ed);
      break;
    case "close_polygon":
      return false;
  }
  return true;
}
