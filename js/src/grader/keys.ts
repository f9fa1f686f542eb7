// The exam grader's keys: what each action is called, the keymap Python sends (defaults merged with the
// user's remapping) parsed for matching, extra keys for habits when the keymap leaves them free (Up/Down
// move between images, Ctrl+S saves, Ctrl+Y redoes), and the words of the tooltips, the help line and the
// shortcut list.
import { ActionKeys } from "../keys";
import type { GraderAction } from "./types";

export const ACTION_NAMES: Record<GraderAction, string> = {
  next_instance: "Select the next instance",
  prev_instance: "Select the previous instance",
  rate_1: "1 star",
  rate_2: "2 stars",
  rate_3: "3 stars",
  rate_4: "4 stars",
  rate_5: "5 stars",
  clear_stars: "Clear the stars (back to the proposal)",
  focus: "Focus: the selected instance alone with its gold",
  gold: "Show or hide the gold",
  missing: "Mark the selected gold instance Missing (again: not missing)",
  accept_proposals: "Accept every proposal on the image",
  undo: "Undo",
  redo: "Redo",
  save: "Save the image's grade",
  next_image: "Next image (saves a changed grade)",
  prev_image: "Previous image (saves a changed grade)",
  deselect: "Leave Focus, clear the selection (or cancel a decision waiting for its confirmation)",
  pass_attempt: "Pass the attempt (press again to confirm; grants the exam's credentials)",
  fail_attempt: "Fail the attempt (press again to confirm)",
};

const ALIASES: [string, GraderAction][] = [
  ["ArrowDown", "next_image"],
  ["ArrowUp", "prev_image"],
  ["Ctrl+s", "save"],
  ["Ctrl+y", "redo"],
];

/** Actions that repeat while their key is held (moving through instances and images). */
const REPEATING = new Set<GraderAction>(["next_instance", "prev_instance", "next_image", "prev_image"]);

export class GraderKeys extends ActionKeys<GraderAction> {
  constructor() {
    super(ACTION_NAMES, ALIASES);
  }

  repeats(a: GraderAction): boolean {
    return REPEATING.has(a);
  }

  /** The status line's hint (the main keys) and its tooltip (every key). */
  hint(): { text: string; all: string } {
    const k = (a: GraderAction): string => this.key(a);
    return {
      text: `${k("next_instance")} select · ${k("rate_1")}-${k("rate_5")} stars · ${k("focus")} focus · ${k("missing")} missing · ${k("accept_proposals")} accept all · ${k("prev_image")}/${k("next_image")} move · ${k("pass_attempt")} pass · ${k("fail_attempt")} fail`,
      all: this.all(),
    };
  }
}
