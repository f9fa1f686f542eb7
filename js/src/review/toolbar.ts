// The panel's head and every button of the panel (the queue's fold, the comment box's and the guide's are
// made here too): each carries `data-review-action` (the tests' hook) and a tooltip with its key, and a
// click on it counts as activity; an action's button runs the action. The head holds the title and two
// groups, the decision (accept, reject, fix) and the view (move, side by side, labels, full width, guide,
// refresh); `update` shows the panel's state on them.
import { h, setDisabled, setHidden, setPressed, setText } from "../ui/dom";
import { ACTION_NAMES, isReviewAction, type ReviewKeys } from "./keys";
import type { ReviewAction } from "./types";

export interface ToolbarHandlers {
  /** Any button clicked: the reviewer is at work (the activity clock). */
  touch(): void;
  /** An action's button clicked. */
  act(a: ReviewAction): void;
}

/** What the buttons show. */
export interface ToolbarState {
  title: string;
  /** An item is open. */
  open: boolean;
  /** A decision or a request is on its way. */
  busy: boolean;
  fixing: boolean;
  sideBySide: boolean;
  labels: boolean;
  fullWidth: boolean;
  queueOpen: boolean;
  guideOpen: boolean;
  hasGuide: boolean;
}

export class PanelToolbar {
  readonly el: HTMLElement;
  private readonly title = h("span", { class: "lrv-title" });
  private readonly buttons = new Map<string, HTMLButtonElement>();

  constructor(private readonly handlers: ToolbarHandlers) {
    this.el = h(
      "div",
      { class: "lrv-head" },
      this.title,
      h(
        "div",
        { class: "lrv-group", role: "group", "aria-label": "Decision" },
        this.action("accept", "Accept", "lrv-accept"),
        this.action("reject", "Reject…", "lrv-reject"),
        this.action("fix", "Fix", "lrv-fix"),
      ),
      h(
        "div",
        { class: "lrv-group", role: "group", "aria-label": "View" },
        this.action("prev_item", "↑"),
        this.action("next_item", "↓"),
        this.action("side_by_side", "Side by side"),
        this.action("labels", "Labels"),
        this.action("full_width", "Full width"),
        this.action("guide", "Guide"),
        this.action("refresh", "Refresh"),
      ),
    );
  }

  button(name: string, text: string, tip: string, onClick: () => void): HTMLButtonElement {
    const b = h("button", { type: "button", class: "lrv-btn", "data-review-action": name, title: tip, "aria-label": tip }, text);
    b.addEventListener("click", () => {
      this.handlers.touch();
      onClick();
    });
    this.buttons.set(name, b);
    return b;
  }

  action(a: ReviewAction, text: string, cls = ""): HTMLButtonElement {
    const b = this.button(a, text, ACTION_NAMES[a], () => this.handlers.act(a));
    if (cls) b.classList.add(cls);
    return b;
  }

  /** The actions' tooltips name their keys in the keymap. */
  setKeys(keys: ReviewKeys): void {
    for (const [a, b] of this.buttons) {
      if (!isReviewAction(a)) continue;
      const tip = keys.tip(a);
      b.title = tip;
      b.setAttribute("aria-label", tip);
    }
  }

  update(s: ToolbarState): void {
    setText(this.title, s.title);
    for (const name of ["accept", "reject", "fix"]) {
      const b = this.buttons.get(name);
      if (b) setDisabled(b, !s.open || s.busy);
    }
    const fix = this.buttons.get("fix");
    if (fix) {
      setText(fix, s.fixing ? "Accept fix" : "Fix");
      setPressed(fix, s.fixing);
    }
    const press = (name: ReviewAction, on: boolean): void => {
      const b = this.buttons.get(name);
      if (b) setPressed(b, on);
    };
    press("side_by_side", s.sideBySide);
    press("labels", s.labels);
    press("full_width", s.fullWidth);
    const fold = this.buttons.get("queue");
    if (fold) {
      setText(fold, s.queueOpen ? "«" : "»");
      setPressed(fold, s.queueOpen);
    }
    const guide = this.buttons.get("guide");
    if (guide) {
      setPressed(guide, s.guideOpen);
      setHidden(guide, !s.hasGuide);
    }
  }
}
