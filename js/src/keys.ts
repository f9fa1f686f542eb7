// The keyboard: parsing the keymap Python sends ("Ctrl+Shift+z", "ArrowRight", "?"), matching events
// against it, and the words the help overlay and tooltips use. "Ctrl" also means Cmd on a Mac.
import type { Action } from "./types";

export interface Combo {
  key: string; // lower case for single characters, e.g. "z", "+", "arrowright"
  ctrl: boolean;
  shift: boolean;
  alt: boolean;
}

const NAMES: Record<string, string> = {
  esc: "escape",
  del: "delete",
  space: " ",
  plus: "+",
  minus: "-",
  left: "arrowleft",
  right: "arrowright",
  up: "arrowup",
  down: "arrowdown",
  return: "enter",
};

export function parseCombo(text: string): Combo {
  // "+" alone, or "Ctrl++", is the plus key itself rather than a separator.
  const parts = text === "+" ? ["+"] : text.endsWith("++") ? [...text.slice(0, -2).split("+"), "+"] : text.split("+");
  const combo: Combo = { key: "", ctrl: false, shift: false, alt: false };
  for (const raw of parts) {
    const p = raw.trim().toLowerCase();
    if (p === "ctrl" || p === "control" || p === "cmd" || p === "meta" || p === "accel") combo.ctrl = true;
    else if (p === "shift") combo.shift = true;
    else if (p === "alt" || p === "option") combo.alt = true;
    else combo.key = NAMES[p] ?? p;
  }
  return combo;
}

function eventKey(e: KeyboardEvent): string {
  return e.key.length === 1 ? e.key.toLowerCase() : e.key.toLowerCase();
}

/** Printable keys other than letters are typed with Shift on many layouts ("+", "?", "]"): ignore it. */
function shiftMatters(key: string): boolean {
  return key.length > 1 || /[a-z]/.test(key);
}

export function matches(c: Combo, e: KeyboardEvent): boolean {
  if (eventKey(e) !== c.key) return false;
  if ((e.ctrlKey || e.metaKey) !== c.ctrl || e.altKey !== c.alt) return false;
  return !shiftMatters(c.key) || e.shiftKey === c.shift;
}

export const ACTION_LABELS: Record<Action, string> = {
  tool_select: "Select and move",
  tool_box: "Box tool",
  tool_polygon: "Polygon tool",
  tool_keypoints: "Keypoints tool",
  tool_mask: "Mask brush",
  eraser: "Mask eraser",
  next_image: "Next image",
  prev_image: "Previous image",
  undo: "Undo",
  redo: "Redo",
  delete: "Delete the selection",
  copy: "Copy the selection",
  paste: "Paste",
  select_all: "Select all",
  zoom_in: "Zoom in",
  zoom_out: "Zoom out",
  zoom_fit: "Fit the image",
  toggle_visibility: "Hide or show the current class",
  help: "Keyboard shortcuts",
  close_polygon: "Finish the polygon or keypoints",
  cancel: "Cancel drawing, or clear the selection",
  brush_bigger: "Bigger brush",
  brush_smaller: "Smaller brush",
  toggle_keypoint_visibility: "Hovered keypoint: visible or occluded",
  accept_suggestions: "Accept the selected suggestions",
  accept_all_suggestions: "Accept every suggestion shown",
  toggle_assist: "Model suggestions on or off",
};

/** Keys that also work when the keymap leaves them free (people reach for them by habit). */
const ALIASES: [string, Action][] = [
  ["=", "zoom_in"],
  ["Backspace", "delete"],
  ["Ctrl+y", "redo"],
];

export class KeyMap {
  private readonly combos: [Combo, Action][] = [];
  readonly aliases: [string, Action][] = [];

  constructor(readonly keys: Partial<Record<Action, string>>) {
    const used = new Set<string>();
    for (const [action, key] of Object.entries(keys) as [Action, string][]) {
      if (!key) continue;
      const combo = parseCombo(key);
      this.combos.push([combo, action]);
      used.add(JSON.stringify(combo));
    }
    for (const [key, action] of ALIASES) {
      const combo = parseCombo(key);
      if (used.has(JSON.stringify(combo))) continue;
      this.combos.push([combo, action]);
      this.aliases.push([key, action]);
    }
  }

  match(e: KeyboardEvent): Action | null {
    for (const [combo, action] of this.combos) if (matches(combo, e)) return action;
    return null;
  }

  /** " (B)" for tooltips, "" when the action has no key. */
  hint(action: Action): string {
    const k = this.keys[action];
    return k ? ` (${formatKey(k)})` : "";
  }
}

// Named keys keep their names ("ArrowRight", "Escape"): what the keymap says is what the help shows.
const PRETTY: Record<string, string> = {
  arrowright: "ArrowRight",
  arrowleft: "ArrowLeft",
  arrowup: "ArrowUp",
  arrowdown: "ArrowDown",
  escape: "Escape",
  delete: "Delete",
  backspace: "Backspace",
  enter: "Enter",
  tab: "Tab",
  " ": "Space",
};

const IS_MAC = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);

export function formatKey(text: string): string {
  const c = parseCombo(text);
  const parts: string[] = [];
  if (c.ctrl) parts.push(IS_MAC ? "⌘" : "Ctrl");
  if (c.alt) parts.push(IS_MAC ? "⌥" : "Alt");
  if (c.shift) parts.push("Shift");
  parts.push(PRETTY[c.key] ?? (c.key.length === 1 ? c.key.toUpperCase() : c.key));
  return parts.join("+");
}

/**
 * A widget's own keymap (the review panel's, the exam grader's): action names, the keymap Python sends
 * parsed for matching, extra keys (`aliases`) where the keymap leaves them free, and tooltips.
 */
export class ActionKeys<A extends string> {
  private combos: [Combo, A][] = [];
  protected keymap: Partial<Record<A, string>> = {};

  constructor(
    readonly names: Record<A, string>,
    private readonly aliases: readonly [string, A][],
  ) {}

  set(keymap: Partial<Record<A, string>>): void {
    this.keymap = keymap;
    this.combos = [];
    const used = new Set<string>();
    for (const [action, key] of Object.entries(keymap) as [string, string | undefined][]) {
      if (!key || !(action in this.names)) continue;
      const combo = parseCombo(key);
      this.combos.push([combo, action as A]);
      used.add(JSON.stringify(combo));
    }
    for (const [key, action] of this.aliases) {
      const combo = parseCombo(key);
      if (!used.has(JSON.stringify(combo))) this.combos.push([combo, action]);
    }
  }

  match(e: KeyboardEvent): A | null {
    for (const [combo, action] of this.combos) if (matches(combo, e)) return action;
    return null;
  }

  /** The action's key as the hints write it ("–" without one). */
  key(a: A): string {
    const k = this.keymap[a];
    return k ? formatKey(k) : "–";
  }

  /** The tooltip of an action's button: its name and key. */
  tip(a: A): string {
    const k = this.keymap[a];
    return `${this.names[a]}${k ? ` (${formatKey(k)})` : ""}`;
  }

  /** Every key and what it does, one a line. */
  all(): string {
    return (Object.keys(this.names) as A[]).map((a) => `${this.key(a)}: ${this.names[a]}`).join("\n");
  }
}
