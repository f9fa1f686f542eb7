// The class picker: one row per class with its colour swatch, name, hotkey and object count, plus a
// hide/show toggle. Long schemas get a filter box. Hooks: `data-class`, `data-class-visibility`.
import type { ClassDef } from "../types";
import { h, safeColor, setHidden, setPressed, setText } from "./dom";
import { icon } from "./icons";

export interface ClassHandlers {
  pick(name: string): void;
  toggleVisibility(name: string): void;
}

interface Row {
  row: HTMLElement;
  pick: HTMLButtonElement;
  count: HTMLElement;
  eye: HTMLButtonElement;
  name: string;
}

export class ClassPicker {
  readonly el: HTMLElement;
  private readonly rows: Row[] = [];

  constructor(classes: readonly ClassDef[], handlers: ClassHandlers) {
    const list = h("div", { class: "lnb-class-list", role: "listbox", "aria-label": "Classes" });
    for (const c of classes) {
      const color = safeColor(c.color);
      const pick = h(
        "button",
        {
          type: "button",
          class: "lnb-class",
          "data-class": c.name,
          "aria-pressed": "false",
          title: `${c.name}${c.hotkey ? ` (${c.hotkey})` : ""}${c.keypoints.length ? ` · ${c.keypoints.length} keypoints` : ""}`,
        },
        h("span", { class: "lnb-swatch", style: `background:${color}` }),
        h("span", { class: "lnb-class-name" }, c.name),
        c.hotkey ? h("kbd", { class: "lnb-kbd" }, c.hotkey) : null,
      );
      const count = h("span", { class: "lnb-count", title: "Objects of this class on this image" }, "");
      const eye = h(
        "button",
        { type: "button", class: "lnb-eye", "data-class-visibility": c.name, "aria-pressed": "true", title: `Hide ${c.name}` },
        icon("eye"),
      );
      pick.addEventListener("click", () => handlers.pick(c.name));
      eye.addEventListener("click", () => handlers.toggleVisibility(c.name));
      const row = h("div", { class: "lnb-class-row" }, pick, count, eye);
      list.append(row);
      this.rows.push({ row, pick, count, eye, name: c.name });
    }
    const filter =
      classes.length > 12
        ? h("input", { type: "search", class: "lnb-filter", placeholder: "Filter classes…", "aria-label": "Filter classes" })
        : null;
    filter?.addEventListener("input", () => {
      const q = filter.value.trim().toLowerCase();
      for (const r of this.rows) setHidden(r.row, q !== "" && !r.name.toLowerCase().includes(q));
    });
    this.el = h(
      "section",
      { class: "lnb-panel lnb-classes" },
      h("h3", { class: "lnb-panel-title" }, "Classes"),
      filter,
      classes.length ? list : h("p", { class: "lnb-hint" }, "The schema has no classes."),
    );
  }

  update(current: string | null, hidden: ReadonlySet<string>, counts: ReadonlyMap<string, number>): void {
    for (const r of this.rows) {
      setPressed(r.pick, r.name === current);
      const visible = !hidden.has(r.name);
      if (r.eye.getAttribute("aria-pressed") !== String(visible)) {
        setPressed(r.eye, visible);
        r.eye.replaceChildren(icon(visible ? "eye" : "eyeOff"));
        r.eye.title = `${visible ? "Hide" : "Show"} ${r.name}`;
        r.row.classList.toggle("lnb-hidden-class", !visible);
      }
      const n = counts.get(r.name) ?? 0;
      setText(r.count, n ? String(n) : "");
    }
  }

  /** Keep the current class in view when it is picked with its hotkey in a long list. */
  reveal(name: string): void {
    this.rows.find((r) => r.name === name)?.row.scrollIntoView({ block: "nearest" });
  }
}
