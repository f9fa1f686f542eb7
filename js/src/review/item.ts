// The open item's line: its file, drawer and pass, the image's agreement, the earlier review's comment, and
// the legend, a chip per pass in its drawer's colour (the pass under review marked; a click on another
// shows or hides its shapes). With no item open, the legend hides and a sentence says what to do instead.
// Hooks: `data-testid="item-file|item-drawer|item-agreement|item-comment|legend|review-empty"`, chips with
// `data-drawer`, `data-draw-task` and `aria-pressed` when shown.
import { h, safeColor, setHidden, setPressed, setText } from "../ui/dom";
import type { OtherPasses } from "./passes";
import { formatAgreement } from "./queue";
import type { CurrentItem, PassInfo } from "./types";

export class ItemLine {
  readonly el: HTMLElement;
  private readonly file = h("span", { class: "lrv-item-file", "data-testid": "item-file" });
  private readonly who = h("span", { class: "lrv-item-who", "data-testid": "item-drawer" });
  private readonly agreement = h("span", { class: "lrv-item-agreement", "data-testid": "item-agreement" });
  private readonly legend = h("div", { class: "lrv-legend", "data-testid": "legend", role: "group", "aria-label": "Passes" });
  /** The earlier review's comment, under the line. */
  readonly comment = h("div", { class: "lrv-item-comment", "data-testid": "item-comment", hidden: true });
  /** What shows instead of the image while no item is open. */
  readonly empty = h("div", { class: "lrv-empty", "data-testid": "review-empty", hidden: true });

  constructor(
    private readonly others: OtherPasses,
    /** A pass was shown or hidden (the editor redraws the other passes). */
    private readonly toggled: () => void,
  ) {
    this.el = h("div", { class: "lrv-item" }, this.file, this.who, this.agreement, this.legend);
  }

  /** The legend's chips, one per pass of the open image. */
  setPasses(passes: readonly PassInfo[]): void {
    const hidden = this.others.hidden;
    this.legend.replaceChildren(
      ...passes.map((p) => {
        const chip = h(
          "button",
          {
            type: "button",
            class: `lrv-chip${p.reviewed ? " lrv-chip-reviewed" : ""}`,
            "data-drawer": p.drawer,
            "data-draw-task": p.draw_task,
            "aria-pressed": p.reviewed || !hidden.has(p.draw_task) ? "true" : "false",
            title: p.reviewed ? "The pass under review" : "Show or hide this pass",
          },
          h("span", { class: "lrv-swatch", style: `background:${safeColor(p.color)}` }),
          `${p.drawer} · pass ${p.pass + 1}${p.reviewed ? " (under review)" : ""}`,
        );
        if (!p.reviewed) {
          chip.addEventListener("click", () => {
            if (hidden.has(p.draw_task)) hidden.delete(p.draw_task);
            else hidden.add(p.draw_task);
            setPressed(chip, !hidden.has(p.draw_task));
            this.toggled();
          });
        }
        return chip;
      }),
    );
  }

  /** The open item (`open` false: none, and `emptyText` says what to do). */
  update(current: Partial<CurrentItem>, open: boolean, emptyText: string): void {
    setHidden(this.legend, !open);
    setHidden(this.empty, open);
    setText(this.empty, emptyText);
    setText(this.file, open ? (current.file_name ?? "") : "");
    setText(this.who, open ? `${current.drawer ?? ""} · pass ${(current.pass ?? 0) + 1}` : "");
    setText(this.agreement, open ? `agreement ${formatAgreement(current.agreement)}` : "");
    const earlier = open && current.comment ? `Earlier review: ${current.comment}` : "";
    setText(this.comment, earlier);
    setHidden(this.comment, earlier === "");
  }
}
