// The selection's panel: the class of the selected object (named in words: in the review panel every class
// has the drawer's colour, so the colour says nothing), then a text, number or choice field for each
// attribute the selected classes have. With several objects selected a field shows their common value (or
// "mixed") and sets it on all of them. Hooks: `data-testid="selected-class"`, `data-attribute="<name>"`.
import type { AttributeDef, ShapeDTO } from "../types";
import { h, safeColor } from "./dom";

export interface AttributeHandlers {
  set(name: string, value: string | number | null): void;
}

type Value = string | number | null;

export class AttributesPanel {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private lastKey = "";
  private latest: readonly ShapeDTO[] = [];
  private deferred = false;

  constructor(
    private readonly defs: readonly AttributeDef[],
    private readonly handlers: AttributeHandlers,
    private readonly readonly: boolean,
    /** The colour a class is drawn in (its swatch beside the name). */
    private readonly colorOf: (label: string | null) => string,
  ) {
    this.body = h("div", { class: "lnb-attrs" });
    this.el = h("section", { class: "lnb-panel lnb-attrs-panel" }, h("h3", { class: "lnb-panel-title" }, "Selection"), this.body);
  }

  private applicable(shapes: readonly ShapeDTO[]): AttributeDef[] {
    return this.defs.filter((d) => shapes.every((s) => d.classes === null || (s.label !== null && d.classes.includes(s.label))));
  }

  update(selected: readonly ShapeDTO[]): void {
    this.latest = selected;
    const shapes = selected.filter((s) => s.geometry.kind !== "tag");
    const defs = this.applicable(shapes);
    const key = JSON.stringify([shapes.map((s) => [s.cid, s.label, s.attributes]), defs.map((d) => d.name)]);
    if (key === this.lastKey) return;
    // Rebuilding under the user's cursor would lose what they are typing: wait until they leave it.
    const active = document.activeElement;
    if (active instanceof HTMLElement && this.el.contains(active)) {
      if (!this.deferred) {
        this.deferred = true;
        active.addEventListener(
          "blur",
          () => {
            this.deferred = false;
            this.update(this.latest);
          },
          { once: true },
        );
      }
      return;
    }
    this.lastKey = key;
    this.body.replaceChildren();
    if (!shapes.length) {
      this.body.append(h("p", { class: "lnb-hint" }, `Select an object to see its class${this.defs.length ? " and attributes" : ""}.`));
      return;
    }
    const labels = [...new Set(shapes.map((s) => s.label))];
    const one = labels.length === 1 ? (labels[0] ?? null) : undefined;
    this.body.append(
      h(
        "div",
        { class: "lnb-attrs-what" },
        one !== undefined ? h("span", { class: "lnb-swatch", style: `background:${safeColor(this.colorOf(one))}` }) : null,
        h("span", { class: "lnb-attrs-class", "data-testid": "selected-class" }, one === undefined ? `${labels.length} classes` : (one ?? "no class")),
        h("span", { class: "lnb-attrs-kind" }, shapes.length === 1 ? (shapes[0]?.geometry.kind ?? "") : `${shapes.length} objects`),
      ),
    );
    if (!defs.length) {
      if (this.defs.length) this.body.append(h("p", { class: "lnb-hint" }, "No attributes for this class."));
      return;
    }
    for (const d of defs) {
      const values = new Set(shapes.map((s) => JSON.stringify(s.attributes[d.name] ?? null)));
      const common: Value = values.size === 1 ? ((shapes[0]?.attributes[d.name] ?? null) as Value) : null;
      const mixed = values.size > 1;
      this.body.append(h("label", { class: "lnb-field" }, h("span", { class: "lnb-field-name" }, d.name), this.input(d, common, mixed)));
    }
  }

  private input(d: AttributeDef, value: Value, mixed: boolean): HTMLElement {
    const common = { "data-attribute": d.name, class: "lnb-input", disabled: this.readonly };
    if (d.type === "choice") {
      const sel = h("select", common, h("option", { value: "" }, mixed ? "(mixed)" : "—"));
      for (const o of d.options) sel.append(h("option", { value: o, selected: value === o }, o));
      sel.addEventListener("change", () => this.handlers.set(d.name, sel.value === "" ? null : sel.value));
      return sel;
    }
    const input = h("input", {
      ...common,
      type: d.type === "number" ? "number" : "text",
      step: d.type === "number" ? "any" : null,
      placeholder: mixed ? "(mixed)" : "",
    });
    input.value = value === null ? "" : String(value);
    input.addEventListener("change", () => {
      const raw = input.value.trim();
      if (d.type === "number") {
        const n = raw === "" ? null : Number(raw);
        this.handlers.set(d.name, n === null || Number.isFinite(n) ? n : null);
      } else this.handlers.set(d.name, raw === "" ? null : raw);
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") input.blur();
    });
    return input;
  }
}
