// The queue side panel: filters (agreement below a threshold, drawer, class) and the items the filters let
// through, one row each (file name, drawer in their colour, pass, the image's agreement). Every name is
// inserted as text. Hooks: `data-testid="filter-agreement|filter-drawer|filter-label|review-queue"`, rows
// `[data-review-task="<id>"]` with `aria-selected="true"` on the open item. Folded (layout.ts), the panel is
// a rail with its unfold button and the open item's place in the queue (`data-testid="queue-rail"`).
import { h, safeColor, setHidden, setText } from "../ui/dom";
import type { Filters, QueueRow } from "./types";

export interface QueueHandlers {
  open(reviewTask: number): void;
  filter(f: Filters): void;
}

/** The agreement as shown: two decimals, "–" while unknown. */
export function formatAgreement(a: number | null | undefined): string {
  return typeof a === "number" && Number.isFinite(a) ? a.toFixed(2) : "–";
}

export class QueuePanel {
  readonly el: HTMLElement;
  private readonly agreement: HTMLInputElement;
  private readonly drawer: HTMLSelectElement;
  private readonly label: HTMLSelectElement;
  private readonly clear: HTMLButtonElement;
  private readonly count = h("div", { class: "lrv-count", "data-testid": "queue-count" });
  private readonly list = h("ol", { class: "lrv-list", "data-testid": "review-queue", role: "listbox", "aria-label": "Review queue" });
  private readonly empty = h("p", { class: "lrv-list-empty", hidden: true });
  private readonly rail = h("span", { class: "lrv-rail-count", "data-testid": "queue-rail" });
  private rows = new Map<number, HTMLElement>();
  private key = "";
  private options = "";
  private shown: number | null = null;

  constructor(
    private readonly handlers: QueueHandlers,
    /** The fold / unfold button (the panel's `queue` action). */
    fold: HTMLButtonElement,
  ) {
    this.agreement = h("input", {
      type: "number",
      min: 0,
      max: 1,
      step: 0.05,
      placeholder: "any",
      class: "lrv-input",
      "data-testid": "filter-agreement",
      "aria-label": "Only images whose passes agree less than this (0 to 1)",
      title: "Only images whose passes agree less than this (0 to 1); empty: any",
    });
    this.drawer = h("select", { class: "lrv-input", "data-testid": "filter-drawer", "aria-label": "Only this annotator's passes" });
    this.label = h("select", { class: "lrv-input", "data-testid": "filter-label", "aria-label": "Only passes with this class" });
    this.clear = h("button", { type: "button", class: "lrv-btn lrv-btn-small", "data-review-action": "clear-filters", title: "Show every item" }, "Clear");
    const send = (): void => this.handlers.filter(this.filters());
    this.agreement.addEventListener("change", send);
    this.drawer.addEventListener("change", send);
    this.label.addEventListener("change", send);
    this.clear.addEventListener("click", () => {
      this.agreement.value = "";
      this.drawer.value = "";
      this.label.value = "";
      send();
    });
    const field = (text: string, input: HTMLElement): HTMLElement => h("label", { class: "lrv-field" }, h("span", {}, text), input);
    this.el = h(
      "aside",
      { class: "lrv-queue", "aria-label": "Queue" },
      h("div", { class: "lrv-queue-head" }, h("span", { class: "lrv-queue-title" }, "Queue"), this.rail, fold),
      h(
        "div",
        { class: "lrv-filters", role: "group", "aria-label": "Filters" },
        field("Agreement below", this.agreement),
        field("Annotator", this.drawer),
        field("Class", this.label),
        h("div", { class: "lrv-filter-foot" }, this.count, this.clear),
      ),
      this.list,
      this.empty,
    );
    this.list.addEventListener("click", (e) => {
      const row = e.target instanceof Element ? e.target.closest<HTMLElement>("[data-review-task]") : null;
      const id = Number(row?.dataset["reviewTask"]);
      if (row && Number.isInteger(id)) this.handlers.open(id);
    });
  }

  /** What the filter fields say now. */
  filters(): Filters {
    const raw = this.agreement.value.trim();
    const below = raw === "" ? null : Number(raw);
    return {
      agreement_below: below !== null && Number.isFinite(below) ? below : null,
      drawer: this.drawer.value || null,
      label: this.label.value || null,
    };
  }

  /** The drawers and classes to filter by, and the filters Python applied. */
  setOptions(drawers: readonly { name: string; color: string }[], classes: readonly string[], f: Filters | undefined): void {
    const key = JSON.stringify([drawers.map((d) => d.name), classes]);
    if (key !== this.options) {
      this.options = key;
      const fill = (sel: HTMLSelectElement, all: string, names: readonly string[]): void => {
        sel.replaceChildren(h("option", { value: "" }, all), ...names.map((n) => h("option", { value: n }, n)));
      };
      fill(this.drawer, "All annotators", drawers.map((d) => d.name));
      fill(this.label, "All classes", classes);
    }
    if (!f) return;
    // Python's filters win, except in a field being edited.
    const active = document.activeElement;
    if (active !== this.agreement) this.agreement.value = f.agreement_below === null ? "" : String(f.agreement_below);
    if (active !== this.drawer) this.drawer.value = f.drawer ?? "";
    if (active !== this.label) this.label.value = f.label ?? "";
  }

  /** The rows (rebuilt only when they change), the open one and the one being opened marked. */
  update(rows: readonly QueueRow[], total: number, colors: ReadonlyMap<string, string>, current: number | null, opening: number | null): void {
    const key = JSON.stringify(rows);
    if (key !== this.key) {
      this.key = key;
      this.rows = new Map();
      this.list.replaceChildren(
        ...rows.map((r) => {
          const li = h(
            "li",
            {
              class: "lrv-row",
              role: "option",
              "data-review-task": r.review_task,
              "data-drawer": r.drawer,
              "data-agreement": formatAgreement(r.agreement),
              title: r.labels.length ? `Classes: ${r.labels.join(", ")}` : "No objects",
            },
            h("span", { class: "lrv-row-file" }, r.file_name),
            h("span", { class: "lrv-row-drawer" }, h("span", { class: "lrv-swatch", style: `background:${safeColor(colors.get(r.drawer))}` }), r.drawer),
            h("span", { class: "lrv-row-pass" }, `pass ${r.pass + 1}`),
            h("span", { class: "lrv-row-agreement", title: "Agreement of the image's passes" }, formatAgreement(r.agreement)),
          );
          this.rows.set(r.review_task, li);
          return li;
        }),
      );
    }
    for (const [id, li] of this.rows) {
      const sel = id === current ? "true" : "false";
      if (li.getAttribute("aria-selected") !== sel) li.setAttribute("aria-selected", sel);
      li.classList.toggle("lrv-opening", id === opening && id !== current);
    }
    if (current !== this.shown) {
      this.shown = current;
      // Keep the open item in sight inside the list only (scrollIntoView would also scroll the notebook).
      const li = current === null ? undefined : this.rows.get(current);
      if (li) {
        const top = li.offsetTop; // the list is positioned: offsets are relative to it
        if (top < this.list.scrollTop) this.list.scrollTop = top;
        else if (top + li.offsetHeight > this.list.scrollTop + this.list.clientHeight) this.list.scrollTop = top + li.offsetHeight - this.list.clientHeight;
      }
    }
    setText(this.count, total === rows.length ? `${total} item${total === 1 ? "" : "s"}` : `${rows.length} of ${total} items`);
    const at = current === null ? -1 : rows.findIndex((r) => r.review_task === current);
    setText(this.rail, at >= 0 ? `${at + 1} / ${rows.length}` : `${rows.length} item${rows.length === 1 ? "" : "s"}`);
    setHidden(this.empty, rows.length > 0);
    setText(this.empty, total ? "No item matches the filters." : "Nothing to review.");
  }
}
