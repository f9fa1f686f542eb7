// The review panel: one per rendered view. Around the Annotator's editor (which shows the pass under review,
// read-only until the reviewer fixes it) it lays out the head (toolbar.ts), the queue with its filters
// (queue.ts), the open item (item.ts: file, drawer, pass, agreement, the legend of every pass in its
// drawer's colour), the reject comment box (decisions.ts), the side-by-side panes (passes.ts), the review
// guide (guide.ts) and the status line; it follows the model, runs the panel's actions (its keys and
// pointer presses: input.ts) and keeps the parts up to date (once per microtask at most).
//
// Requests carry a sequence number (../requests.ts); opening items is coalesced and the queue polled
// (navigation.ts); a decision on a fixed pass first waits until the editor's edits are saved
// (decisions.ts). Class names are drawn on every shape (labels.ts; L toggles them): in the drawer's colour,
// the name is what tells the classes apart.
import { ActivityClock } from "../activity";
import { registerDebug } from "../debug";
import { Disposer } from "../disposer";
import { Editor } from "../editor";
import { boundsOf } from "../hittest";
import { LabelLayer } from "../labels";
import type { ImageInfo } from "../types";
import { h, setHidden, setText } from "../ui/dom";
import type { Viewport } from "../view";
import { Decisions } from "./decisions";
import { editorModel } from "./editormodel";
import { GuideBand } from "./guide";
import { ItemLine } from "./item";
import { installPanelInput, SUPPRESS } from "./input";
import { ACTION_NAMES, ReviewKeys } from "./keys";
import { PanelLayout } from "./layout";
import type { PanelChange, PanelModel } from "./model";
import { Navigation } from "./navigation";
import { OtherPasses, Panes } from "./passes";
import { QueuePanel } from "./queue";
import { Requests } from "../requests";
import { PanelToolbar } from "./toolbar";
import type { Request, ReviewAction } from "./types";

const NOTE_MS = 4000;

export class ReviewView {
  readonly root: HTMLElement;
  readonly editor: Editor;
  readonly others = new OtherPasses();
  readonly panes: Panes;
  readonly layout: PanelLayout;
  /** Class names on the editor's view (the pass under review first, then the others). */
  readonly labels = new LabelLayer();
  readonly clock = new ActivityClock();
  readonly requests: Requests<Request>;
  readonly nav = new Navigation(this);
  private readonly disposer = new Disposer();
  private readonly toolbar = new PanelToolbar({
    touch: () => this.clock.touch(),
    act: (a) => {
      this.run(a);
      if (a !== "reject") this.focus();
    },
  });
  private readonly decisions: Decisions;
  private readonly queue: QueuePanel;
  private readonly item = new ItemLine(this.others, () => this.editor.layers.invalidate("shapes"));
  private readonly guide: GuideBand;
  private readonly keysHint = h("span", { class: "lrv-keys" });
  private readonly editorHost = h("div", { class: "lrv-editor" });
  private readonly view: HTMLElement;
  private readonly status = h("span", { class: "lrv-status-text", "data-testid": "review-status", role: "status", "aria-live": "polite" });
  private readonly noteEl = h("span", { class: "lrv-note", "data-testid": "review-note" });
  private readonly errorEl = h("span", { class: "lrv-error", "data-testid": "review-error", role: "alert" });
  private readonly keys = new ReviewKeys();
  private noteTimer: ReturnType<typeof setTimeout> | undefined;
  private uiQueued = false;
  private passesQueued = false;
  private shownItem: number | null = null;
  private disposed = false;

  constructor(
    readonly model: PanelModel,
    el: HTMLElement,
  ) {
    this.requests = new Requests<Request>(
      (msg) => model.send(msg),
      (text) => this.note(text),
      () => this.queueUi(),
    );
    const bar = this.toolbar;
    this.queue = new QueuePanel(
      { open: (id) => this.nav.go(id), filter: (f) => void this.requests.send({ type: "filter", ...f }) },
      bar.action("queue", "«", "lrv-fold"),
    );
    this.decisions = new Decisions(this, (name, text, tip, onClick) => bar.button(name, text, tip, onClick));
    this.guide = new GuideBand(bar.button("close-guide", "×", "Hide the guide", () => this.setGuide(false)));
    const editorSide = editorModel(model);
    this.panes = new Panes(this.others, editorSide, this.disposer);
    this.view = h("div", { class: "lrv-view" }, this.editorHost, this.panes.el);
    this.root = h(
      "div",
      {
        class: "labnb-review",
        "data-testid": "review-panel",
        tabindex: 0,
        [SUPPRESS]: "true",
        role: "application",
        "aria-label": "Review panel",
      },
      bar.el,
      h(
        "div",
        { class: "lrv-body" },
        this.queue.el,
        h("main", { class: "lrv-main" }, this.item.el, this.item.comment, this.decisions.comment.el, this.guide.el, this.view, this.item.empty),
      ),
      h("div", { class: "lrv-statusbar" }, this.status, this.noteEl, this.errorEl, this.keysHint),
    );
    el.appendChild(this.root);
    this.editor = new Editor(editorSide, this.editorHost);
    this.editor.underlay = (ctx, view, dpr) => {
      if (this.sideBySide) this.panes.follow(this.editor.view);
      else this.others.drawOverlaid(ctx, view, dpr);
    };
    this.editor.aboveShapes = (ctx, view, dpr) => this.drawLabels(ctx, view, dpr);
    this.layout = new PanelLayout(this.root, this.editor.shell, () => this.layoutChanged(), this.disposer);
    this.panes.labels = this.layout.labels;
    const unregister = registerDebug(this.editor);
    this.disposer.add(() => {
      unregister();
      this.editor.dispose();
    });
    this.listen();
    this.pullKeys();
    this.pullPasses();
    this.pullGuide();
    this.nav.pullPoll();
    this.updateUi();
  }

  /** The pass under review's class names first (they get the corners), then the other shown passes'. */
  private drawLabels(ctx: CanvasRenderingContext2D, view: Viewport, dpr: number): void {
    const layer = this.labels;
    layer.begin();
    if (!this.layout.labels) return;
    const ed = this.editor;
    for (const s of ed.shownShapes()) {
      const b = s.label === null ? null : boundsOf(s);
      if (b && s.label !== null) layer.add(ctx, view, dpr, s.label, ed.colorOf(s.label), b);
    }
    if (!this.sideBySide) this.others.label(layer, ctx, view, dpr);
  }

  private layoutChanged(): void {
    this.panes.labels = this.layout.labels;
    this.panes.schedule();
    this.editor.layers.invalidate("shapes");
    this.queueUi();
  }

  // ---- model ---------------------------------------------------------------------------------------
  private listen(): void {
    const m = this.model;
    const on = (events: PanelChange[], fn: () => void): void => {
      for (const ev of events) {
        m.on(ev, fn);
        this.disposer.add(() => m.off(ev, fn));
      }
    };
    const ui = (): void => this.queueUi();
    on(["change:queue", "change:queue_total", "change:filters", "change:drawers", "change:status", "change:error", "change:job_info", "change:user"], ui);
    on(["change:current"], () => {
      this.pullItem();
      this.queueUi();
    });
    on(["change:passes", "change:image", "change:preview", "change:image_info", "change:schema"], () => this.queuePasses());
    on(["change:keymap"], () => {
      this.pullKeys();
      this.queueUi();
    });
    on(["change:guide_html"], () => this.pullGuide());
    on(["change:fixing"], () => {
      if (m.get("fixing")) this.editor.focus();
      this.queueUi();
    });
    on(["change:side_by_side"], () => this.sideChanged());
    on(["change:poll_seconds"], () => this.nav.pullPoll());
    const onMessage = (content: unknown): void => this.requests.receive(content);
    m.on("msg:custom", onMessage);
    this.disposer.add(() => m.off("msg:custom", onMessage));
    installPanelInput(
      { root: this.root, editor: this.editor, keys: this.keys, clock: this.clock, comment: this.decisions.comment, run: (a) => this.run(a), focus: () => this.focus() },
      this.disposer,
    );
  }

  /** Python sent new passes, a new image or schema: rebuild the painters and panes (once per burst). */
  private queuePasses(): void {
    if (this.passesQueued) return;
    this.passesQueued = true;
    queueMicrotask(() => {
      this.passesQueued = false;
      if (!this.disposed) this.pullPasses();
    });
  }

  private info(): ImageInfo | null {
    const info = this.model.get("image_info");
    return info && typeof info.asset_id === "number" && info.width && info.height ? (info as ImageInfo) : null;
  }

  private pullPasses(): void {
    const m = this.model;
    const info = this.info();
    const passes = m.get("passes") ?? [];
    this.others.set(passes, info, m.get("schema")?.classes ?? []);
    for (const id of [...this.others.hidden]) if (!passes.some((p) => p.draw_task === id)) this.others.hidden.delete(id);
    this.panes.set(info, { image: m.get("image") ?? null, preview: m.get("preview") ?? null });
    this.item.setPasses(passes);
    this.editor.layers.invalidate("shapes");
    this.queueUi();
  }

  private pullItem(): void {
    const id = this.currentId();
    if (id === this.shownItem) return;
    this.shownItem = id;
    this.clock.restart();
    this.decisions.closeComment(false);
  }

  private pullKeys(): void {
    this.keys.set(this.model.get("keymap") ?? {});
    this.toolbar.setKeys(this.keys);
    const hint = this.keys.hint();
    setText(this.keysHint, hint.text);
    this.keysHint.title = hint.all;
  }

  private pullGuide(): void {
    this.guide.set(this.model.get("guide_html") ?? "");
    this.queueUi();
  }

  /** The key of a panel action, for a sentence (its name without one). */
  private keyName(a: ReviewAction): string {
    const k = this.keys.key(a);
    return k === "–" ? ACTION_NAMES[a] : k;
  }

  // ---- state -----------------------------------------------------------------------------------------
  currentId(): number | null {
    const id = this.model.get("current")?.review_task;
    return typeof id === "number" ? id : null;
  }

  get sideBySide(): boolean {
    return Boolean(this.model.get("side_by_side"));
  }

  get fixing(): boolean {
    return Boolean(this.model.get("fixing"));
  }

  get deciding(): boolean {
    return this.decisions.deciding;
  }

  get closed(): boolean {
    return this.disposed;
  }

  get busy(): boolean {
    return (
      this.requests.pending > 0 || this.nav.navigating || this.deciding || this.uiQueued || this.passesQueued || this.editor.busy || this.panes.busy
    );
  }

  focus(): void {
    if (this.currentId() !== null) this.editor.focus();
    else if (document.activeElement !== this.root) this.root.focus({ preventScroll: true });
  }

  note(text: string): void {
    setText(this.noteEl, text);
    clearTimeout(this.noteTimer);
    this.noteTimer = setTimeout(() => setText(this.noteEl, ""), NOTE_MS);
  }

  // ---- actions -------------------------------------------------------------------------------------
  run(action: ReviewAction): void {
    switch (action) {
      case "accept":
        void this.decisions.decide("accept");
        break;
      case "reject":
        this.decisions.openComment();
        break;
      case "fix":
        void this.decisions.decide("fix");
        break;
      case "next_item":
        this.nav.move(1);
        break;
      case "prev_item":
        this.nav.move(-1);
        break;
      case "side_by_side":
        this.model.set("side_by_side", !this.sideBySide);
        this.model.save_changes();
        this.sideChanged();
        break;
      case "guide":
        if (this.model.get("guide_html")) this.setGuide(!this.guide.open);
        else this.note("This job has no review guide");
        break;
      case "refresh":
        void this.requests.send({ type: "refresh" });
        break;
      case "labels":
        this.layout.toggleLabels();
        this.note(this.layout.labels ? "Class names shown on the shapes" : "Class names hidden (L shows them)");
        break;
      case "queue":
        this.layout.toggleQueue();
        break;
      case "classes":
        this.layout.toggleClasses();
        break;
      case "full_width":
        this.layout.toggleFullWidth();
        break;
    }
  }

  private sideChanged(): void {
    this.queueUi();
    this.editor.layers.invalidate("shapes");
    // The editor's stage changes size with the layout: its ResizeObserver refits it, the panes follow.
    requestAnimationFrame(() => this.panes.follow(this.editor.view));
  }

  private setGuide(open: boolean): void {
    this.guide.open = open;
    this.queueUi();
    this.focus();
  }

  // ---- UI ------------------------------------------------------------------------------------------
  queueUi(): void {
    if (this.uiQueued) return;
    this.uiQueued = true;
    queueMicrotask(() => {
      this.uiQueued = false;
      if (!this.disposed) this.updateUi();
    });
  }

  private updateUi(): void {
    const m = this.model;
    const job = m.get("job_info") ?? {};
    const drawers = m.get("drawers") ?? [];
    const colors = new Map(drawers.map((d) => [d.name, d.color]));
    this.queue.setOptions(drawers, (m.get("schema")?.classes ?? []).map((c) => c.name), m.get("filters"));
    const id = this.currentId();
    this.queue.update(m.get("queue") ?? [], m.get("queue_total") ?? 0, colors, id, this.nav.target);

    const open = id !== null;
    setHidden(this.view, !open);
    const rows = m.get("queue") ?? [];
    this.item.update(
      m.get("current") ?? {},
      open,
      rows.length
        ? `No item is open: pick one in the queue (or ${this.keyName("next_item")}).`
        : m.get("queue_total")
          ? "No item matches the filters: change them."
          : `Nothing to review. New passes show up here as they are handed in (${this.keyName("refresh")} looks now).`,
    );

    const fixing = this.fixing;
    this.root.classList.toggle("lrv-fixing", fixing);
    this.root.classList.toggle("lrv-side", this.sideBySide);
    const lay = this.layout;
    this.toolbar.update({
      title: `Review · ${job.name ?? ""}${m.get("user") ? ` · as ${m.get("user")}` : ""}`,
      open,
      busy: this.deciding || this.requests.pending > 0,
      fixing,
      sideBySide: this.sideBySide,
      labels: lay.labels,
      fullWidth: lay.fullWidth,
      queueOpen: lay.queueOpen,
      guideOpen: this.guide.open,
      hasGuide: Boolean(m.get("guide_html")),
    });
    this.guide.update();
    setText(this.status, m.get("status") ?? "");
    setText(this.errorEl, m.get("error") ?? "");
    this.root.setAttribute("aria-busy", this.busy ? "true" : "false");
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.noteTimer);
    this.nav.dispose();
    this.disposer.dispose();
    this.root.remove();
  }
}
