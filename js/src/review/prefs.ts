// How the reviewer likes the panel laid out, remembered by the browser (localStorage) across items, panels
// and notebooks: class labels on the shapes, the queue and the class list unfolded or folded, full width.
// `queue: null` means "as the width allows" (unfolded when the panel is wide enough to leave the image most
// of it). Storage can be unavailable (a sandboxed frame, a full quota): the panel then starts from the
// defaults and forgets, nothing fails.

export interface ReviewPrefs {
  labels: boolean;
  queue: boolean | null;
  classes: boolean;
  fullWidth: boolean;
}

export const PREFS_KEY = "labnb:review-panel";

const DEFAULTS: ReviewPrefs = { labels: true, queue: null, classes: true, fullWidth: false };

export function loadPrefs(): ReviewPrefs {
  try {
    const raw: unknown = JSON.parse(window.localStorage.getItem(PREFS_KEY) ?? "null");
    if (typeof raw !== "object" || raw === null) return { ...DEFAULTS };
    const r = raw as Record<string, unknown>;
    const flag = (v: unknown, fallback: boolean): boolean => (typeof v === "boolean" ? v : fallback);
    return {
      labels: flag(r["labels"], DEFAULTS.labels),
      queue: typeof r["queue"] === "boolean" ? r["queue"] : null,
      classes: flag(r["classes"], DEFAULTS.classes),
      fullWidth: flag(r["fullWidth"], DEFAULTS.fullWidth),
    };
  } catch {
    return { ...DEFAULTS };
  }
}

export function savePrefs(p: ReviewPrefs): void {
  try {
    window.localStorage.setItem(PREFS_KEY, JSON.stringify(p));
  } catch {
    // not remembered: the choice still holds for this panel
  }
}
