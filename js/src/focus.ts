// Keyboard focus across the notebook. A widget takes the keyboard when the user presses inside it (so its
// keys are its own and never reach the notebook); it must give it back when the user presses outside it.
// The browser does not always move focus on its own: JupyterLab cancels the default of a press on a cell's
// prompt (to allow dragging the cell), so focus would stay in the widget, the notebook would not enter
// command mode and B, A or DD typed next would go to the widget instead of inserting or deleting cells.
// Dropping focus first lets JupyterLab focus the cell it activates, as it does for any other output.
import type { Disposer } from "./disposer";

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
