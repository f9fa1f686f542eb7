// The reject comment box: what the drawer should fix. Enter sends, Shift+Enter is a line break, Escape
// cancels. JupyterLab cancels the line break of Shift+Enter typed anywhere inside a cell (its "beforeinput"
// guard, so that Shift+Enter runs the cell), text fields of an output included: the box inserts it itself.
// Hooks: `data-testid="comment-box"`, `data-testid="review-comment"` (the text area).
import { h, setHidden } from "../ui/dom";

export interface CommentHandlers {
  send(): void;
  cancel(): void;
}

export class CommentBox {
  readonly el: HTMLElement;
  readonly input: HTMLTextAreaElement;

  /** `send` and `cancel` are the box's buttons (the panel makes them, with its hooks). */
  constructor(
    send: HTMLButtonElement,
    cancel: HTMLButtonElement,
    private readonly handlers: CommentHandlers,
  ) {
    this.input = h("textarea", {
      class: "lrv-comment-input",
      rows: 2,
      "data-testid": "review-comment",
      placeholder: "What should the drawer fix? Enter sends, Shift+Enter starts a new line, Escape cancels",
      "aria-label": "Why the pass is rejected",
    });
    this.el = h("div", { class: "lrv-comment", "data-testid": "comment-box", hidden: true }, this.input, h("div", { class: "lrv-comment-buttons" }, send, cancel));
  }

  get open(): boolean {
    return !this.el.hidden;
  }

  get text(): string {
    return this.input.value;
  }

  show(): void {
    setHidden(this.el, false);
    this.input.focus();
  }

  /** Close and forget the text. */
  hide(): void {
    setHidden(this.el, true);
    this.input.value = "";
  }

  /** A key typed in the box (the panel's capture-phase handler passes it first). */
  key(e: KeyboardEvent): void {
    if (e.isComposing) return;
    if (e.key === "Enter" && !e.shiftKey) this.handlers.send();
    else if (e.key === "Enter") insertNewline(this.input);
    else if (e.key === "Escape") this.handlers.cancel();
    else return; // typing the comment
    e.preventDefault();
    e.stopPropagation();
  }
}

/** A line break at the caret, as typing one would (the selection replaced, an input event after it). */
export function insertNewline(box: HTMLTextAreaElement): void {
  box.setRangeText("\n", box.selectionStart, box.selectionEnd, "end");
  box.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "insertLineBreak", data: null }));
}
