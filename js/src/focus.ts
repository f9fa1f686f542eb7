// Keyboard focus across the notebook. A widget takes the keyboard when the user presses inside it (so its
// keys are its own and never reach the notebook); it must give it back when the user presses outside it.
// The browser does not always move focus on its own: JupyterLab cancels the default of a press on a cell's
// prompt (to allow dragging the cell), so focus would stay in the widget, the notebook would not enter
// command mode and B, A or DD typed next would go to the widget instead of inserting or deleting cells.
// Dropping focus first lets JupyterLab focus the cell it activates, as it does for any other output.
import { isTextInput } from "./actions";
import type { Disposer } from "./disposer";

/** The attribute on a widget's root that makes JupyterLab skip its shortcuts. */
export const SUPPRESS = "data-lm-suppress-shortcuts";

/** While focus is inside `root`, a press anywhere outside it blurs the focused element. */
export function releaseFocusOutside(root: HTMLElement, d: Disposer): void {
  d.listen<PointerEvent>(
    document,
    "pointerdown",
    (e) => {
      const active = document.activeElement;
      if (!(active instanceof HTMLElement) || !root.contains(active)) return;
      if (e.target instanceof Node && root.contains(e.target)) return;
      active.blur();
    },
    { capture: true },
  );
}

/**
 * Keys pressed inside a widget's `root` (the review panel's, the exam grader's) stay there: a plain key
 * never reaches the notebook ("a" would insert a cell, "m" make it markdown), while combinations the widget
 * has no use for (`ours` says which it has) reach JupyterLab, whose capture-phase handler skips events from
 * inside an element with the SUPPRESS attribute: it is lifted for them, as the Annotator does (input.ts).
 */
export function keepKeysInside(root: HTMLElement, ours: (e: KeyboardEvent) => boolean, d: Disposer): void {
  d.listen<KeyboardEvent>(root, "keydown", (e) => {
    if (!isTextInput(e.target) && !e.ctrlKey && !e.metaKey && !e.altKey && e.key !== "Tab") e.stopPropagation();
  });
  d.listen<KeyboardEvent>(
    window,
    "keydown",
    (e) => {
      if (!(e.target instanceof Node) || !root.contains(e.target) || isTextInput(e.target)) return;
      const combo = e.ctrlKey || e.metaKey || e.altKey || (e.shiftKey && e.key === "Enter");
      if (!combo || ours(e)) return;
      root.removeAttribute(SUPPRESS);
      setTimeout(() => root.setAttribute(SUPPRESS, "true"), 0);
    },
    { capture: true },
  );
}
