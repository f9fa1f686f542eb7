// Image tags: one row of toggle chips per tag group (a single-choice group swaps its value), or, when
// the schema defines no groups, free tags with a box to add one and the tags used earlier in this
// session offered as chips. Hook: `data-tag="<group>:<option>"`, group `tags` for free tags.
import type { ShapeDTO, TagGroupDef } from "../types";
import { h, setDisabled, setPressed } from "./dom";

const FREE_GROUP = "tags";

export interface TagHandlers {
  toggle(group: string | null, value: string): void;
}

export class TagsPanel {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private readonly input: HTMLInputElement | null = null;
  private readonly buttons = new Map<string, HTMLButtonElement>();
  /** Free tags seen in this session, offered on the next images. */
  private readonly recent = new Set<string>();
  private lastKey = "";

  constructor(
    private readonly groups: readonly TagGroupDef[],
    private readonly handlers: TagHandlers,
    private readonly readonly: boolean,
  ) {
    this.body = h("div", { class: "lnb-tags" });
    if (!groups.length && !readonly) {
      const input = h("input", { type: "text", class: "lnb-input", placeholder: "Add a tag…", "aria-label": "Add a tag", maxlength: 128 });
      input.addEventListener("keydown", (e) => {
        if (e.key !== "Enter") return;
        const v = input.value.trim();
        if (v) handlers.toggle(null, v);
        input.value = "";
      });
      this.input = input;
    }
    this.el = h("section", { class: "lnb-panel lnb-tags-panel" }, h("h3", { class: "lnb-panel-title" }, "Image tags"), this.body, this.input);
  }

  update(tags: readonly ShapeDTO[]): void {
    const on = new Set<string>();
    for (const t of tags) {
      if (t.geometry.kind !== "tag") continue;
      const group = this.groups.length ? (t.geometry.group ?? this.groupOf(t.geometry.value)) : FREE_GROUP;
      on.add(`${group}:${t.geometry.value}`);
      if (!this.groups.length) this.recent.add(t.geometry.value);
    }
    const key = [...on].sort().join("\n") + "|" + [...this.recent].join("\n");
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.buttons.clear();
    this.body.replaceChildren();
    const chip = (group: string, apiGroup: string | null, value: string): HTMLButtonElement => {
      const b = h("button", { type: "button", class: "lnb-chip", "data-tag": `${group}:${value}`, "aria-pressed": "false" }, value);
      setPressed(b, on.has(`${group}:${value}`));
      setDisabled(b, this.readonly);
      b.addEventListener("click", () => this.handlers.toggle(apiGroup, value));
      this.buttons.set(`${group}:${value}`, b);
      return b;
    };
    if (this.groups.length) {
      for (const g of this.groups) {
        const row = h("div", { class: "lnb-chip-row", role: "group", "aria-label": g.name });
        for (const o of g.options) row.append(chip(g.name, g.name, o));
        this.body.append(h("div", { class: "lnb-tag-group" }, h("div", { class: "lnb-tag-group-name" }, g.name, g.multi ? "" : " (one)"), row));
      }
    } else {
      const row = h("div", { class: "lnb-chip-row" });
      for (const v of this.recent) row.append(chip(FREE_GROUP, null, v));
      this.body.append(this.recent.size ? row : h("p", { class: "lnb-hint" }, this.readonly ? "No tags." : "Type a tag and press Enter."));
    }
  }

  private groupOf(value: string): string {
    return this.groups.find((g) => g.options.includes(value))?.name ?? FREE_GROUP;
  }
}
