// The "?" overlay: every shortcut of the keymap (as Python merged it with the user's remapping), the
// class hotkeys, and the mouse gestures. Model assist's keys are listed always (they are in the keymap),
// marked as needing a model when the annotator has none. Hook: `data-testid="help"`.
import { ACTION_LABELS, formatKey, type KeyMap } from "../keys";
import type { Action, ClassDef } from "../types";
import { h, setHidden } from "./dom";
import { icon } from "./icons";

const GROUPS: [string, Action[]][] = [
  ["Tools", ["tool_select", "tool_box", "tool_polygon", "tool_keypoints", "tool_mask", "eraser", "brush_smaller", "brush_bigger"]],
  ["Edit", ["undo", "redo", "delete", "copy", "paste", "select_all", "cancel", "close_polygon", "toggle_keypoint_visibility"]],
  ["View", ["zoom_in", "zoom_out", "zoom_fit", "toggle_visibility", "next_image", "prev_image", "help"]],
];

const ASSIST_GROUP: [string, Action[]] = ["Model suggestions", ["accept_suggestions", "accept_all_suggestions", "toggle_assist"]];

const ASSIST_GESTURES: [string, string][] = [
  ["Click a grey suggestion", "Select it (Select tool; Shift+click adds)"],
  ["Score slider", "Hide suggestions scoring less"],
];

const GESTURES: [string, string][] = [
  ["Wheel", "Zoom at the pointer"],
  ["Space+drag", "Pan (also middle-drag, or drag empty canvas with Select)"],
  ["Shift+click", "Add to or remove from the selection"],
  ["Shift+drag", "Select by rectangle (Select tool)"],
  ["Drag a handle", "Resize a box, move a vertex or a keypoint"],
  ["Double-click an edge", "Add a vertex to the selected polygon"],
  ["Alt+click a vertex", "Delete the vertex"],
  ["Polygon: Shift+click", "Close this part, start another"],
  ["Polygon: Backspace", "Remove the last point"],
  ["Keypoints: Alt+click", "Place the point as occluded"],
  ["Keypoints: N", "Skip the point (not labelled)"],
];

export class HelpOverlay {
  readonly el: HTMLElement;

  constructor(keys: KeyMap, classes: readonly ClassDef[], assist: boolean, onClose: () => void) {
    const row = (k: string, what: string, action?: Action): HTMLElement =>
      h("tr", { "data-action": action }, h("td", {}, h("kbd", { class: "lnb-kbd" }, k)), h("td", {}, what));
    const sections: HTMLElement[] = [];
    const groups: [string, Action[]][] = [...GROUPS, [assist ? ASSIST_GROUP[0] : `${ASSIST_GROUP[0]} (with p.annotator(assist=model))`, ASSIST_GROUP[1]]];
    for (const [title, actions] of groups) {
      const body = h("tbody", {});
      for (const a of actions) {
        const k = keys.keys[a];
        if (k) body.append(row(formatKey(k), ACTION_LABELS[a], a));
        for (const [alias, target] of keys.aliases) if (target === a) body.append(row(formatKey(alias), `${ACTION_LABELS[a]} (also)`));
      }
      sections.push(h("section", {}, h("h4", {}, title), h("table", {}, body)));
    }
    const hotkeys = classes.filter((c) => c.hotkey);
    if (hotkeys.length) {
      const body = h("tbody", {});
      for (const c of hotkeys) body.append(row(c.hotkey ?? "", `Class “${c.name}” (relabels the selection)`));
      sections.push(h("section", {}, h("h4", {}, "Classes"), h("table", {}, body)));
    }
    const mouse = h("tbody", {});
    for (const [k, what] of assist ? [...GESTURES, ...ASSIST_GESTURES] : GESTURES) mouse.append(row(k, what));
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
