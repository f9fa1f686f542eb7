// The review guide: a band above the image (it takes height, never width) with the job's `guide_html`,
// sanitised in Python (labnb/workflow/guides.py); its links open in a new tab. It is open when the guide
// first comes, then as the reviewer leaves it. Hook: `data-testid="review-guide"`.
import { h, setHidden } from "../ui/dom";
import { setGuideHtml } from "../ui/guide";

export class GuideBand {
  readonly el: HTMLElement;
  private readonly content = h("div", { class: "lrv-guide-content" });
  open = false;
  private seen = false;

  /** `close` is the band's × button (the toolbar makes it, with its hook). */
  constructor(close: HTMLButtonElement) {
    this.el = h(
      "aside",
      { class: "lrv-guide", "data-testid": "review-guide", "aria-label": "Review guide", hidden: true },
      h("div", { class: "lrv-guide-head" }, h("h3", {}, "Review guide"), close),
      this.content,
    );
  }

  /** Python's guide (empty: the job has none, and the band stays closed). */
  set(html: string): void {
    setGuideHtml(this.content, html);
    if (!html) this.open = false;
    else if (!this.seen) {
      this.seen = true;
      this.open = true; // shown at first, then as the reviewer leaves it
    }
  }

  update(): void {
    setHidden(this.el, !this.open);
  }
}
