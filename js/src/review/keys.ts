// The review panel's keys: what each action is called, the keymap Python sends (defaults merged with the
// user's remapping) parsed for matching, the arrows as extra keys for moving when the keymap leaves them
// free, and the words of the tooltips and the status line's hint.
import { formatKey, matches, parseCombo, type Combo } from "../keys";
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

export class ReviewKeys {
  private combos: [Combo, ReviewAction][] = [];
  private keymap: Partial<Record<ReviewAction, string>> = {};

  set(keymap: Partial<Record<ReviewAction, string>>): void {
    this.keymap = keymap;
    this.combos = [];
    const used = new Set<string>();
    for (const [action, key] of Object.entries(keymap)) {
      if (!key || !isReviewAction(action)) continue;
      const combo = parseCombo(key);
      this.combos.push([combo, action]);
      used.add(JSON.stringify(combo));
    }
    for (const [key, action] of ALIASES) {
      const combo = parseCombo(key);
      if (!used.has(JSON.stringify(combo))) this.combos.push([combo, action]);
    }
  }

  match(e: KeyboardEvent): ReviewAction | null {
    for (const [combo, action] of this.combos) if (matches(combo, e)) return action;
    return null;
  }

  /** The action's key as the hints write it ("–" without one). */
  key(a: ReviewAction): string {
    const k = this.keymap[a];
    return k ? formatKey(k) : "–";
  }

  /** The tooltip of an action's button: its name and key. */
  tip(a: ReviewAction): string {
    const k = this.keymap[a];
    return `${ACTION_NAMES[a]}${k ? ` (${formatKey(k)})` : ""}`;
  }

  /** The status line's hint (the main keys) and its tooltip (every key). */
  hint(): { text: string; all: string } {
    const k = (a: ReviewAction): string => this.key(a);
    return {
      text: `${k("accept")} accept · ${k("reject")} reject · ${k("fix")} fix · ${k("prev_item")}/${k("next_item")} move · ${k("side_by_side")} side by side`,
      all: (Object.keys(ACTION_NAMES) as ReviewAction[]).map((a) => `${k(a)}: ${ACTION_NAMES[a]}`).join("\n"),
    };
  }
}
