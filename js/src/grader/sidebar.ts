// The grader's side list: the trainee's instances (class, the pre-score's verdict, stars to click: solid
// once the grader rated, hollow and marked "proposed" while a proposal), the gold nobody matched (with its
// Missing toggle), the tags (right / wrong toggles), the gold's tags, and the comment box. Rows select their
// instance; every text from Python is inserted as text. The comment box is a plain textarea: the panel's
// keys never act while it has focus (input.ts), so typing "m" or "5" types.
import type { ClassDef } from "../types";
import { h, safeColor, setHidden } from "../ui/dom";
import { missingOf, starsOf, tagOf } from "./draft";
import type { DraftState, GoldEntry, Item, TraineeEntry } from "./types";

export interface SidebarHandlers {
  select(key: string): void;
  rate(annotation: number, stars: number): void;
  missing(gold: number): void;
  tag(annotation: number, right: boolean): void;
  comment(text: string): void;
}

const STATUS: Record<string, string> = { tp: "match", fp: "no match", wrong_label: "wrong class", missed: "missed", matched: "matched" };

/** The similarity a match was made on: OKS for keypoints, IoU for areas. */
function iouText(iou: number | null, kind: string): string {
  return typeof iou === "number" ? ` · ${kind === "keypoints" ? "OKS" : "IoU"} ${iou.toFixed(2)}` : "";
}

export class Sidebar {
  readonly el: HTMLElement;
  readonly comment: HTMLTextAreaElement;
  private readonly instances = h("div", { class: "lgr-list", "data-testid": "grader-instances" });
  private readonly gold = h("div", { class: "lgr-list", "data-testid": "grader-gold" });
  private readonly tags = h("div", { class: "lgr-list", "data-testid": "grader-tags" });
  private readonly goldHead = h("h4", {}, "Gold nobody matched");
  private readonly tagsHead = h("h4", {}, "Tags");
  private key = "";

  constructor(private readonly handlers: SidebarHandlers) {
    this.comment = h("textarea", {
      class: "lgr-comment",
      rows: 3,
      "data-testid": "grader-comment",
      placeholder: "A comment for the trainee on this image",
      "aria-label": "Comment for the trainee",
    });
    this.comment.addEventListener("input", () => handlers.comment(this.comment.value));
    this.el = h(
      "aside",
      { class: "lgr-side" },
      h("h4", {}, "Trainee's instances"),
      this.instances,
      this.goldHead,
      this.gold,
      this.tagsHead,
      this.tags,
      h("h4", {}, "Comment"),
      this.comment,
    );
  }

  update(item: Partial<Item>, draft: Partial<DraftState>, classes: readonly ClassDef[], selected: string | null): void {
    const key = JSON.stringify([item.shown, item.asset_id, draft, selected]);
    if (key === this.key) return;
    this.key = key;
    const colors = new Map(classes.map((c) => [c.name, safeColor(c.color)]));
    const gradable = Boolean(item.gradable);
    this.comment.disabled = !gradable;
    this.instances.replaceChildren(
      ...(item.trainee ?? []).map((e) => this.traineeRow(e, draft, colors.get(e.label) ?? "#9e9e9e", selected, gradable)),
    );
    if (!(item.trainee ?? []).length) this.instances.append(h("p", { class: "lgr-empty" }, "The trainee drew nothing here."));
    const unmatched = (item.gold ?? []).filter((g) => g.markable);
    setHidden(this.goldHead, !unmatched.length);
    this.gold.replaceChildren(...unmatched.map((g) => this.goldRow(g, draft, selected, gradable)));
    const tags = item.tags ?? [];
    const goldTags = item.gold_tags ?? [];
    setHidden(this.tagsHead, !tags.length && !goldTags.length);
    this.tags.replaceChildren(
      ...tags.map((t) => {
        const v = tagOf(draft, t);
        const right = h("button", { type: "button", class: "lgr-btn lgr-small", "data-tag-verdict": "right", "aria-pressed": String(v.value), disabled: !gradable }, "right");
        const wrong = h("button", { type: "button", class: "lgr-btn lgr-small", "data-tag-verdict": "wrong", "aria-pressed": String(!v.value), disabled: !gradable }, "wrong");
        right.addEventListener("click", () => this.handlers.tag(t.id, true));
        wrong.addEventListener("click", () => this.handlers.tag(t.id, false));
        return h(
          "div",
          { class: `lgr-row${v.proposed ? " lgr-is-proposed" : ""}`, "data-tag": t.id, "data-right": String(v.value), "data-proposed": String(v.proposed) },
          h("span", { class: "lgr-label" }, t.label),
          h("span", { class: "lgr-verdict" }, t.status === "tp" ? "as in the gold" : t.status === "fp" ? "not in the gold" : ""),
          right,
          wrong,
          v.proposed ? h("span", { class: "lgr-proposed" }, "proposed") : null,
        );
      }),
      ...goldTags.map((g) => h("div", { class: "lgr-row lgr-gold-tag", "data-gold-tag": g.label }, h("span", { class: "lgr-label" }, `gold: ${g.label}`), h("span", { class: "lgr-verdict" }, g.found ? "set" : "not set"))),
    );
  }

  /** The comment box shows `text` (a new image or a saved one; not while the grader types). */
  setComment(text: string): void {
    if (this.comment.value !== text) this.comment.value = text;
  }

  private traineeRow(e: TraineeEntry, draft: Partial<DraftState>, color: string, selected: string | null, gradable: boolean): HTMLElement {
    const v = starsOf(draft, e);
    const stars = h("span", { class: `lgr-stars${v.proposed ? " lgr-is-proposed" : ""}`, role: "group", "aria-label": "Stars" });
    for (let n = 1; n <= 5; n++) {
      const on = v.stars !== null && n <= v.stars;
      // the grader's stars solid, a proposal's hollow: as many highlighted as stars, either way
      const b = h("button", { type: "button", class: `lgr-star${on ? " lgr-on" : ""}`, "data-stars": n, "aria-pressed": String(!v.proposed && v.stars === n), disabled: !gradable || e.status === null, title: `${n} star${n > 1 ? "s" : ""} (${n})` }, on && !v.proposed ? "★" : "☆");
      b.addEventListener("click", (ev) => {
        ev.stopPropagation();
        this.handlers.rate(e.id, n);
      });
      stars.append(b);
    }
    const row = h(
      "div",
      { class: "lgr-row", "data-ann": e.id, "data-status": e.status ?? "", "data-stars": v.stars ?? "", "data-proposed": String(v.proposed), "aria-selected": selected === `t${e.id}` ? "true" : "false" },
      h("span", { class: "lgr-swatch", style: `background:${color}` }),
      h("span", { class: "lgr-label" }, e.label),
      h("span", { class: "lgr-verdict" }, `${STATUS[e.status ?? ""] ?? "not scored"}${iouText(e.iou, e.kind)}`),
      stars,
      v.proposed && e.status !== null ? h("span", { class: "lgr-proposed" }, "proposed") : null,
    );
    row.addEventListener("click", () => this.handlers.select(`t${e.id}`));
    return row;
  }

  private goldRow(g: GoldEntry, draft: Partial<DraftState>, selected: string | null, gradable: boolean): HTMLElement {
    const m = missingOf(draft, g);
    const toggle = h("button", { type: "button", class: "lgr-btn lgr-small", "data-missing-toggle": g.id, "aria-pressed": String(m.value), disabled: !gradable }, m.value ? "Missing" : "not missing");
    toggle.addEventListener("click", (ev) => {
      ev.stopPropagation();
      this.handlers.missing(g.id);
    });
    const row = h(
      "div",
      { class: `lgr-row${m.proposed ? " lgr-is-proposed" : ""}`, "data-gold": g.id, "data-missing": String(m.value), "data-proposed": String(m.proposed), "aria-selected": selected === `g${g.id}` ? "true" : "false" },
      h("span", { class: "lgr-swatch lgr-gold-swatch" }),
      h("span", { class: "lgr-label" }, g.label),
      h("span", { class: "lgr-verdict" }, STATUS[g.status ?? ""] ?? ""),
      toggle,
      m.proposed ? h("span", { class: "lgr-proposed" }, "proposed") : null,
    );
    row.addEventListener("click", () => this.handlers.select(`g${g.id}`));
    return row;
  }
}
