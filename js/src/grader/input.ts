// The grader's keys and pointer presses. The grader listens in the capture phase; its keys act while focus
// is inside it and never while a text field has focus: in the comment box every key types, but Escape
// (back to the image), Ctrl+S (save) and Shift+Enter (a line break, which JupyterLab cancels inside cells:
// inserted here). A plain key inside the grader never reaches the notebook, and combinations it has no use
// for reach JupyterLab (the root's `data-lm-suppress-shortcuts` lifted for them, as the Annotator does). A
// press outside gives the keyboard back to the notebook.
import { isTextInput } from "../actions";
import type { Disposer } from "../disposer";
import { keepKeysInside, releaseFocusOutside } from "../focus";
import { insertNewline } from "../review/comment";
import type { GraderKeys } from "./keys";
import type { GraderAction } from "./types";

export interface GraderInputHost {
  readonly root: HTMLElement;
  readonly keys: GraderKeys;
  readonly comment: HTMLTextAreaElement;
  run(action: GraderAction): void;
  focus(): void;
}

export function installGraderInput(host: GraderInputHost, disposer: Disposer): void {
  const { root } = host;
  disposer.listen<KeyboardEvent>(root, "keydown", (e) => onKey(host, e), { capture: true });
  keepKeysInside(root, (e) => host.keys.match(e) !== null, disposer);
  disposer.listen<PointerEvent>(root, "pointerdown", (e) => {
    const t = e.target;
    if (t instanceof HTMLElement && (isTextInput(t) || t.closest("button, select, input, textarea, a"))) return;
    host.focus();
  });
  releaseFocusOutside(root, disposer);
}

function onKey(host: GraderInputHost, e: KeyboardEvent): void {
  const t = e.target;
  if (t === host.comment) {
    if (e.isComposing) return;
    if (e.key === "Escape") {
      host.focus();
    } else if (e.key === "Enter" && e.shiftKey) {
      insertNewline(host.comment);
    } else if (host.keys.match(e) === "save" && (e.ctrlKey || e.metaKey)) {
      host.run("save");
    } else return; // typing the comment
    e.preventDefault();
    e.stopPropagation();
    return;
  }
  if (isTextInput(t)) return;
  if ((e.key === " " || e.key === "Enter") && t instanceof HTMLButtonElement) return;
  const action = host.keys.match(e);
  if (!action) return;
  e.preventDefault();
  e.stopPropagation();
  if (e.repeat && !host.keys.repeats(action)) return;
  host.run(action);
}
