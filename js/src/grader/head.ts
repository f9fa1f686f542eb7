// The grader's head: the title, the attempt to grade (a select, when there is more than one to pick from),
// the attempt's summary line (images graded of all, mean stars, missed, the automatic F1, the decision: passed
// by whom, failed, pending with the mark met or what is unmet), the buttons of the main actions (each with
// `data-grader-action` and its key in the tooltip), Pass and Fail (their tooltip says why when disabled) with
// the confirmation a decision asks for, and the strip of the attempt's images with their state. Every text
// from Python is inserted as text.
import { h, setDisabled, setHidden, setPressed, setText } from "../ui/dom";
import { decisionText, type DecisionAction, type Offer } from "./decision";
import type { GraderKeys } from "./keys";
import type { AttemptInfo, Decision, GraderAction, ImageRow, Summary } from "./types";

export interface HeadHandlers {
  act(a: GraderAction): void;
  attempt(id: number): void;
  image(assetId: number): void;
  /** The confirmation's buttons: decide now, or not. */
  confirm(): void;
  cancel(): void;
}

const DECISIONS: [DecisionAction, string][] = [
  ["pass_attempt", "Pass"],
  ["fail_attempt", "Fail"],
];

const BUTTONS: [GraderAction, string][] = [
  ["prev_image", "◀"],
  ["next_image", "▶"],
  ["gold", "Gold"],
  ["focus", "Focus"],
  ["missing", "Missing"],
  ["accept_proposals", "Accept proposals"],
  ["undo", "Undo"],
  ["redo", "Redo"],
  ["save", "Save"],
];

/** What the head shows. */
export interface HeadState {
  title: string;
  attempts: AttemptInfo[];
  attempt: Partial<AttemptInfo>;
  summary: Partial<Summary>;
  decision: Partial<Decision>;
  pass: Offer;
  fail: Offer;
  /** The decision waiting for its confirmation, and the confirmation's words. */
  armed: DecisionAction | null;
  confirm: string;
  images: ImageRow[];
  current: number | null;
  gold: boolean;
  focus: boolean;
  gradable: boolean;
  canUndo: boolean;
  canRedo: boolean;
  dirty: boolean;
  busy: boolean;
}

function fixed(v: number | null | undefined, digits: number): string {
  return typeof v === "number" ? v.toFixed(digits) : "–";
}

/** "2/3 images graded · mean 3.50★ · 1 missed · auto F1 0.63 · pending · 1 of 3 images not graded". */
export function summaryText(s: Partial<Summary>, d: Partial<Decision> = {}): string {
  if (s.images === undefined) return "";
  const parts = [
    `${s.images_graded ?? 0}/${s.images} images graded`,
    `mean ${fixed(s.mean_stars, 2)}★`,
    `${s.missed ?? 0} missed`,
    `auto F1 ${fixed(s.f1, 2)}`,
  ];
  const decision = decisionText(d) || s.result;
  if (decision) parts.push(decision);
  return parts.join(" · ");
}

function imageText(r: ImageRow): string {
  if (r.state === "graded") return `${r.file_name} ✓ ${fixed(r.mean_stars, 1)}★${r.missed ? ` · ${r.missed} missed` : ""}`;
  if (r.state === "handed_in") return `${r.file_name} · to grade`;
  return `${r.file_name} · not handed in`;
}

export class GraderHead {
  readonly el: HTMLElement;
  private readonly title = h("span", { class: "lgr-title" });
  private readonly select = h("select", { class: "lgr-attempt", "data-testid": "grader-attempt", "aria-label": "Attempt to grade" });
  private readonly attemptLine = h("span", { class: "lgr-attempt-line", "data-testid": "grader-attempt-line" });
  private readonly summary = h("span", { class: "lgr-summary", "data-testid": "grader-summary" });
  private readonly strip = h("div", { class: "lgr-images", "data-testid": "grader-images", role: "list" });
  private readonly buttons = new Map<GraderAction, HTMLButtonElement>();
  private readonly decisions = new Map<DecisionAction, HTMLButtonElement>();
  private readonly confirmText = h("span", { class: "lgr-confirm-text" });
  private readonly confirm = h("span", { class: "lgr-confirm", "data-testid": "grader-confirm", role: "alert" });
  private keys: GraderKeys | null = null;
  private stripKey = "";
  private selectKey = "";

  constructor(private readonly handlers: HeadHandlers) {
    this.select.addEventListener("change", () => {
      const id = Number(this.select.value);
      if (Number.isFinite(id)) handlers.attempt(id);
    });
    const group = h("div", { class: "lgr-group" });
    for (const [action, text] of BUTTONS) {
      const b = h("button", { type: "button", class: "lgr-btn", "data-grader-action": action }, text);
      b.addEventListener("click", () => handlers.act(action));
      this.buttons.set(action, b);
      group.append(b);
    }
    const decide = h("div", { class: "lgr-group lgr-decide" });
    for (const [action, text] of DECISIONS) {
      const b = h("button", { type: "button", class: `lgr-btn lgr-${action}`, "data-grader-action": action }, text);
      b.addEventListener("click", () => handlers.act(action));
      this.decisions.set(action, b);
      decide.append(b);
    }
    const yes = h("button", { type: "button", class: "lgr-btn lgr-small", "data-grader-confirm": "yes" }, "Confirm");
    const no = h("button", { type: "button", class: "lgr-btn lgr-small", "data-grader-confirm": "no" }, "Cancel");
    yes.addEventListener("click", () => handlers.confirm());
    no.addEventListener("click", () => handlers.cancel());
    this.confirm.append(this.confirmText, yes, no);
    setHidden(this.confirm, true);
    this.el = h(
      "header",
      { class: "lgr-head" },
      h("div", { class: "lgr-head-row" }, this.title, this.select, this.attemptLine, group),
      h("div", { class: "lgr-head-row" }, this.summary, decide, this.confirm),
      this.strip,
    );
  }

  setKeys(keys: GraderKeys): void {
    this.keys = keys;
    for (const [action, b] of this.buttons) b.title = keys.tip(action);
  }

  update(s: HeadState): void {
    setText(this.title, s.title);
    this.updateSelect(s.attempts, s.attempt);
    const a = s.attempt;
    setText(this.attemptLine, a.user ? `${a.user} · attempt ${a.number} · ${a.state}` : "");
    setText(this.summary, summaryText(s.summary, s.decision));
    this.summary.dataset.result = s.decision.state ?? "";
    for (const [action, el] of this.decisions) {
      const offer = action === "pass_attempt" ? s.pass : s.fail;
      setDisabled(el, !offer.enabled);
      el.title = `${offer.reason} (${this.keys?.key(action) ?? "–"})`;
      el.dataset.reason = offer.reason;
      setPressed(el, s.armed === action);
    }
    setHidden(this.confirm, s.armed === null);
    this.confirm.dataset.decision = s.armed ?? "";
    setText(this.confirmText, s.confirm);
    this.updateStrip(s.images, s.current);
    const b = (a: GraderAction): HTMLButtonElement | undefined => this.buttons.get(a);
    const index = s.images.findIndex((r) => r.asset_id === s.current);
    for (const [action, el] of this.buttons) {
      let off = s.current === null;
      if (action === "prev_image") off = index <= 0;
      else if (action === "next_image") off = index < 0 || index >= s.images.length - 1;
      else if (action === "undo") off = !s.canUndo;
      else if (action === "redo") off = !s.canRedo;
      else if (action === "save" || action === "accept_proposals" || action === "missing") off = !s.gradable;
      setDisabled(el, off);
    }
    const gold = b("gold");
    if (gold) setPressed(gold, s.gold);
    const focus = b("focus");
    if (focus) setPressed(focus, s.focus);
    const save = b("save");
    if (save) {
      save.classList.toggle("lgr-dirty", s.dirty);
      setText(save, s.dirty ? "Save •" : "Save");
    }
  }

  private updateSelect(attempts: AttemptInfo[], current: Partial<AttemptInfo>): void {
    const key = JSON.stringify([attempts, current.id]);
    setHidden(this.select, attempts.length < 2);
    if (key === this.selectKey) return;
    this.selectKey = key;
    this.select.replaceChildren(
      ...attempts.map((a) => {
        const o = h("option", { value: a.id }, `${a.user} · attempt ${a.number} · ${a.state}`);
        o.selected = a.id === current.id;
        return o;
      }),
    );
  }

  private updateStrip(images: ImageRow[], current: number | null): void {
    const key = JSON.stringify([images, current]);
    if (key === this.stripKey) return;
    this.stripKey = key;
    this.strip.replaceChildren(
      ...images.map((r) => {
        const b = h(
          "button",
          { type: "button", class: `lgr-image lgr-${r.state}`, role: "listitem", "data-asset": r.asset_id, "data-state": r.state, "aria-current": r.asset_id === current ? "true" : null },
          imageText(r),
        );
        b.addEventListener("click", () => this.handlers.image(r.asset_id));
        return b;
      }),
    );
  }
}
