// The job's draw guide in a collapsible side panel. `guide_html` is the one HTML string the widget
// inserts as HTML: Python renders the manager's markdown and sanitises it (scripts, handlers and
// javascript: links removed) before it is sent. Hook: `data-testid="guide"`.
import { h, setHidden } from "./dom";
import { icon } from "./icons";

export class GuidePanel {
  readonly el: HTMLElement;
  private readonly content: HTMLElement;

  constructor(onClose: () => void) {
    this.content = h("div", { class: "lnb-guide-content" });
    const close = h("button", { type: "button", class: "lnb-btn lnb-btn-small", title: "Hide the guide", "aria-label": "Hide the guide" }, icon("close"));
    close.addEventListener("click", onClose);
    this.el = h(
      "aside",
      { class: "lnb-guide", "data-testid": "guide", "aria-label": "Guide" },
      h("div", { class: "lnb-guide-head" }, h("h3", { class: "lnb-panel-title" }, "Guide"), close),
      this.content,
    );
  }

  setHtml(html: string): void {
    setGuideHtml(this.content, html);
  }

  setOpen(open: boolean): void {
    setHidden(this.el, !open);
  }
}

/** A guide's sanitised HTML into `content` (the review panel's guide too); its links open in a new tab. */
export function setGuideHtml(content: HTMLElement, html: string): void {
  content.innerHTML = html; // sanitised in Python (labnb/workflow/guides.py)
  for (const a of content.querySelectorAll("a")) {
    a.target = "_blank";
    a.rel = "noopener noreferrer";
  }
}
