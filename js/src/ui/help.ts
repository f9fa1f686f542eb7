// The "?" overlay: every shortcut of the keymap (as Python merged it with the user's remapping), the
// class hotkeys, and the mouse gestures. Keys and gestures of a tool the schema does not enable (keypoints
// without a keypoint class, the brush without masks, every drawing tool when read-only) are left out: the
// overlay lists what works here. Model assist's keys are listed always (they are in the keymap), marked as
// needing a model when the annotator has none. Hook: `data-testid="help"`.
import { ACTION_LABELS, formatKey, type KeyMap } from "../keys";
import type { ToolName } from "../tools/tool";
import type { Action, ClassDef } from "../types";
import { h, setHidden } from "./dom";
import { icon } from "./icons";

const GROUPS: [string, Action[]][] = [
  ["Tools", ["tool_select", "tool_box", "tool_polygon", "tool_keypoints", "tool_mask", "eraser", "brush_smaller", "brush_bigger"]],
  ["Edit", ["undo", "redo", "delete", "copy", "paste", "select_all", "cancel", "close_polygon", "toggle_keypoint_visibility"]],
  ["View", ["zoom_in", "zoom_out", "zoom_fit", "toggle_visibility", "next_image", "prev_image", "help"]],
];

/** The tools an action needs (any of them): without one of them enabled the action is not listed. */
const NEEDS: Partial<Record<Action, ToolName[]>> = {
  tool_box: ["box"],
  tool_polygon: ["polygon"],
  tool_keypoints: ["keypoints"],
  tool_mask: ["mask"],
  eraser: ["eraser"],
  brush_smaller: ["mask", "eraser"],
  brush_bigger: ["mask", "eraser"],
  close_polygon: ["polygon", "keypoints"],
  toggle_keypoint_visibility: ["keypoints"],
};

const ASSIST_GROUP: [string, Action[]] = ["Model suggestions", ["accept_suggestions", "accept_all_suggestions", "toggle_assist"]];

const ASSIST_GESTURES: [string, string][] = [
  ["Click a grey suggestion", "Select it (Select tool; Shift+click adds)"],
  ["Score slider", "Hide suggestions scoring less"],
];

/** Mouse gestures, with the tool each needs (null: always). */
const GESTURES: [string, string, ToolName | null][] = [
  ["Wheel", "Zoom at the pointer", null],
  ["Space+drag", "Pan (also middle-drag, or drag empty canvas with Select)", null],
  ["Shift+click", "Add to or remove from the selection", null],
  ["Shift+drag", "Select by rectangle (Select tool)", null],
  ["Drag a handle", "Resize a box, move a vertex or a keypoint", null],
  ["Double-click an edge", "Add a vertex to the selected polygon", null],
  ["Alt+click a vertex", "Delete the vertex", null],
  ["Polygon: Shift+click", "Close this part, start another", "polygon"],
  ["Polygon: Backspace", "Remove the last point", "polygon"],
  ["Keypoints: Alt+click", "Place the point as occluded", "keypoints"],
  ["Keypoints: N", "Skip the point (not labelled)", "keypoints"],
];

export class HelpOverlay {
  readonly el: HTMLElement;

  constructor(keys: KeyMap, classes: readonly ClassDef[], tools: readonly ToolName[], assist: boolean, onClose: () => void) {
    const enabled = new Set(tools);
    const usable = (a: Action): boolean => NEEDS[a]?.some((t) => enabled.has(t)) ?? true;
    const row = (k: string, what: string, action?: Action): HTMLElement =>
      h("tr", { "data-action": action }, h("td", {}, h("kbd", { class: "lnb-kbd" }, k)), h("td", {}, what));
    const sections: HTMLElement[] = [];
    const groups: [string, Action[]][] = [...GROUPS, [assist ? ASSIST_GROUP[0] : `${ASSIST_GROUP[0]} (with p.annotator(assist=model))`, ASSIST_GROUP[1]]];
    for (const [title, actions] of groups) {
      const body = h("tbody", {});
      for (const a of actions.filter(usable)) {
        const k = keys.keys[a];
        if (k) body.append(row(formatKey(k), ACTION_LABELS[a], a));
        for (const [alias, target] of keys.aliases) if (target === a) body.append(row(formatKey(alias), `${ACTION_LABELS[a]} (also)`));
      }
      sections.push(h("section", {}, h("h4", {}, title), h("table", {}, body)));
    }
    const hotkeys = classes.filter((c) => c.hotkey);
    if (hotkeys.length) {
      const body = h("tbody", {});
      for (const c of hotkeys) body.append(row(c.hotkey ?? "", `Class “${c.name}” for the next object; relabels the objects you selected`));
      sections.push(h("section", {}, h("h4", {}, "Classes"), h("table", {}, body)));
    }
    const mouse = h("tbody", {});
    const gestures = GESTURES.filter(([, , tool]) => tool === null || enabled.has(tool)).map(([k, what]): [string, string] => [k, what]);
    for (const [k, what] of assist ? [...gestures, ...ASSIST_GESTURES] : gestures) mouse.append(row(k, what));
    sections.push(h("section", { class: "lnb-help-mouse" }, h("h4", {}, "Mouse"), h("table", {}, mouse)));
    const close = h("button", { type: "button", class: "lnb-btn lnb-btn-small", title: "Close (Esc)", "aria-label": "Close" }, icon("close"));
    close.addEventListener("click", onClose);
    const card = h(
      "div",
      { class: "lnb-help-card", role: "dialog", "aria-label": "Keyboard shortcuts" },
      h("div", { class: "lnb-help-head" }, h("h3", {}, "Keyboard shortcuts"), close),
      h("div", { class: "lnb-help-grid" }, ...sections),
      h("p", { class: "lnb-hint" }, "Shortcuts work while the annotator has focus (click the image). “Ctrl” is ⌘ on a Mac."),
    );
    this.el = h("div", { class: "lnb-help", "data-testid": "help", hidden: true }, card);
    this.el.addEventListener("pointerdown", (e) => {
      if (e.target === this.el) onClose();
    });
  }

  setOpen(open: boolean): void {
    setHidden(this.el, !open);
  }

  get open(): boolean {
    return !this.el.hidden;
  }
}
