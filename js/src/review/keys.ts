// The review panel's keys: what each action is called, the keymap Python sends (defaults merged with the
// user's remapping) parsed for matching, the arrows as extra keys for moving when the keymap leaves them
// free, and the words of the tooltips and the status line's hint.
import { ActionKeys } from "../keys";
import type { ReviewAction } from "./types";

export const ACTION_NAMES: Record<ReviewAction, string> = {
  accept: "Accept",
  reject: "Reject",
  fix: "Fix",
  next_item: "Next item",
  prev_item: "Previous item",
  side_by_side: "Side by side",
  guide: "Guide",
  refresh: "Read the queue again",
  labels: "Class names on the shapes",
  queue: "Show or fold the queue",
  classes: "Show or fold the class list",
  full_width: "Full width: the image across the panel",
};

/** Keys that also move through the queue when the keymap leaves them free. */
const ALIASES: [string, ReviewAction][] = [
  ["ArrowRight", "next_item"],
  ["ArrowLeft", "prev_item"],
];

export function isReviewAction(name: string): name is ReviewAction {
  return name in ACTION_NAMES;
}

export class ReviewKeys extends ActionKeys<ReviewAction> {
  constructor() {
    super(ACTION_NAMES, ALIASES);
  }

  /** The status line's hint (the main keys) and its tooltip (every key). */
  hint(): { text: string; all: string } {
    const k = (a: ReviewAction): string => this.key(a);
    return {
      text: `${k("accept")} accept · ${k("reject")} reject · ${k("fix")} fix · ${k("prev_item")}/${k("next_item")} move · ${k("side_by_side")} side by side`,
      all: this.all(),
    };
  }
}
