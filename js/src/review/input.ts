// The panel's keys and pointer presses. The panel listens in the capture phase, so its keys (keys.ts) win
// over the editor's, which keeps every other key; the comment box takes its keys first. A plain key inside
// the panel never reaches the notebook, and combinations the panel has no use for reach JupyterLab (the
// root's `data-lm-suppress-shortcuts` lifted for them, as the Annotator does in ../input.ts). A press
// outside the editor gives the panel the keyboard, one outside the panel gives it back to the notebook.
// Every key and press counts as the reviewer's activity.
import type { ActivityClock } from "../activity";
import { isTextInput } from "../actions";
import type { Disposer } from "../disposer";
import type { Editor } from "../editor";
import { keepKeysInside, releaseFocusOutside } from "../focus";
import type { CommentBox } from "./comment";
import type { ReviewKeys } from "./keys";
import type { ReviewAction } from "./types";

/** The attribute on the panel's root that makes JupyterLab skip its shortcuts. */
export { SUPPRESS } from "../focus";

/** What the panel's input needs of the panel. */
export interface InputHost {
  readonly root: HTMLElement;
  readonly editor: Editor;
  readonly keys: ReviewKeys;
  readonly clock: ActivityClock;
  readonly comment: CommentBox;
  run(action: ReviewAction): void;
  focus(): void;
}

export function installPanelInput(host: InputHost, disposer: Disposer): void {
  const { root, editor, clock } = host;
  disposer.listen<KeyboardEvent>(root, "keydown", (e) => onKey(host, e), { capture: true });
  // combinations the panel has no use for (Ctrl+S, Shift+Enter) reach JupyterLab; plain keys never do
  keepKeysInside(root, (e) => editor.keys.match(e) !== null, disposer);
  disposer.listen<PointerEvent>(root, "pointerdown", (e) => {
    clock.touch();
    const t = e.target;
    if (t instanceof HTMLElement && (isTextInput(t) || t.closest("button, select, input, textarea, a, .lrv-list"))) return;
    if (!(t instanceof Node) || !editor.root.contains(t)) host.focus();
  });
  disposer.listen<PointerEvent>(root, "pointermove", () => clock.touch());
  releaseFocusOutside(root, disposer); // a press outside (the cell's prompt) gives the keyboard back
}

/** A key pressed inside the panel, before the editor sees it. */
function onKey(host: InputHost, e: KeyboardEvent): void {
  const t = e.target;
  if (t === host.comment.input) {
    host.comment.key(e);
    return;
  }
  if (isTextInput(t)) return;
  if (host.editor.helpOpen) return; // the editor's shortcut overlay takes its keys
  if ((e.key === " " || e.key === "Enter") && t instanceof HTMLButtonElement) return;
  const action = host.keys.match(e);
  if (!action) return;
  e.preventDefault();
  e.stopPropagation(); // the editor never sees the panel's keys
  host.clock.touch();
  if (e.repeat && action !== "next_item" && action !== "prev_item") return;
  host.run(action);
}
