// The review panel: one per rendered view. Around the Annotator's editor (which shows the pass under review,
// read-only until the reviewer fixes it) it lays out the queue with its filters, the open item (file, drawer,
// pass, agreement, the legend of every pass in its drawer's colour), the decision buttons, the reject comment
// box, the side-by-side panes and the review guide; it routes the panel's keys and talks to Python.
//
// Requests (open, filter, decisions) carry a sequence number; Python updates the traits, then replies with
// it, so the panel knows when a request is done and whether it was refused (the reason is the `error`
// trait). Navigation is coalesced: arrows pressed while an item opens move the target, and the panel opens
// the last one asked for. A decision on a fixed pass first waits until the editor's edits are saved.
// Every `poll_seconds` while on screen the panel asks Python whether the queue changed (no reply unless it
// did), so passes handed in meanwhile show up, and open when nothing was open. Class names are drawn on
// every shape (labels.ts; L toggles them): in the drawer's colour, the name is what tells the classes apart.
import { ActivityClock } from "../activity";
import { isTextInput } from "../actions";
import { registerDebug } from "../debug";
import { Disposer } from "../disposer";
import { Editor } from "../editor";
import { releaseFocusOutside } from "../focus";
import { boundsOf } from "../hittest";
import { LabelLayer, type DrawnLabel } from "../labels";
import type { ImageInfo } from "../types";
import { h, safeColor, setDisabled, setHidden, setPressed, setText } from "../ui/dom";
import type { Viewport } from "../view";
import { CommentBox } from "./comment";
import { editorModel } from "./editormodel";
import { ACTION_NAMES, isReviewAction, ReviewKeys } from "./keys";
import { PanelLayout } from "./layout";
import type { PanelChange, PanelModel } from "./model";
import { OtherPasses, Panes } from "./passes";
import { formatAgreement, QueuePanel } from "./queue";
import type { Filters, ReplyMessage, Request, ReviewAction } from "./types";

/** How long a decision on a fixed pass waits for the editor's edits to be saved. */
const DRAIN_MS = 5000;
const NOTE_MS = 4000;
/** The shortest poll interval honoured (a typo of 0.01 s must not flood the kernel). */
const MIN_POLL_S = 0.5;
const SUPPRESS = "data-lm-suppress-shortcuts";

function isReply(content: unknown): content is ReplyMessage {
  if (typeof content !== "object" || content === null) return false;
  const c = content as Record<string, unknown>;
  return c["type"] === "reply" && typeof c["seq"] === "number";
}

export class ReviewView {
  readonly root: HTMLElement;
  readonly editor: Editor;
  readonly others = new OtherPasses();
  readonly panes: Panes;
  readonly layout: PanelLayout;
  /** Class names on the editor's view (the pass under review first, then the others). */
  readonly labels = new LabelLayer();
  private readonly disposer = new Disposer();
  private readonly clock = new ActivityClock();
  private readonly queue: QueuePanel;
  private readonly buttons = new Map<string, HTMLButtonElement>();
  private readonly title = h("span", { class: "lrv-title" });
  private readonly keysHint = h("span", { class: "lrv-keys" });
  private readonly itemFile = h("span", { class: "lrv-item-file", "data-testid": "item-file" });
  private readonly itemWho = h("span", { class: "lrv-item-who", "data-testid": "item-drawer" });
  private readonly itemAgreement = h("span", { class: "lrv-item-agreement", "data-testid": "item-agreement" });
  private readonly itemComment = h("div", { class: "lrv-item-comment", "data-testid": "item-comment", hidden: true });
  private readonly legend = h("div", { class: "lrv-legend", "data-testid": "legend", role: "group", "aria-label": "Passes" });
  private readonly commentBox: CommentBox;
  private readonly editorHost = h("div", { class: "lrv-editor" });
  private readonly view: HTMLElement;
  private readonly empty = h("div", { class: "lrv-empty", "data-testid": "review-empty", hidden: true });
  private readonly guide: HTMLElement;
  private readonly guideContent = h("div", { class: "lrv-guide-content" });
  private readonly status = h("span", { class: "lrv-status-text", "data-testid": "review-status", role: "status", "aria-live": "polite" });
  private readonly noteEl = h("span", { class: "lrv-note", "data-testid": "review-note" });
  private readonly errorEl = h("span", { class: "lrv-error", "data-testid": "review-error", role: "alert" });
  private readonly keys = new ReviewKeys();
  private seq = Math.floor(Math.random() * 2 ** 30) * 1024;
  private readonly waiting = new Map<number, (r: ReplyMessage) => void>();
  /** The item the arrows asked for, while it is being opened. */
  navTarget: number | null = null;
  private navigating = false;
  private deciding = false;
  private guideOpen = false;
  private guideSeen = false;
  private noteTimer: ReturnType<typeof setTimeout> | undefined;
  private uiQueued = false;
  private passesQueued = false;
  private shownItem: number | null = null;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private disposed = false;

  constructor(
    readonly model: PanelModel,
    el: HTMLElement,
  ) {
    this.queue = new QueuePanel({ open: (id) => this.go(id), filter: (f) => void this.filter(f) }, this.action("queue", "«", "lrv-fold"));
    const send = this.button("send-reject", "Send back", "Reject with this comment (Enter)", () => void this.sendReject());
    const cancel = this.button("cancel-reject", "Cancel", "Keep the item (Escape)", () => this.closeComment());
    this.commentBox = new CommentBox(send, cancel, { send: () => void this.sendReject(), cancel: () => this.closeComment() });
    const close = this.button("close-guide", "×", "Hide the guide", () => this.setGuide(false));
    this.guide = h(
      "aside",
      { class: "lrv-guide", "data-testid": "review-guide", "aria-label": "Review guide", hidden: true },
      h("div", { class: "lrv-guide-head" }, h("h3", {}, "Review guide"), close),
      this.guideContent,
    );
    const editorSide = editorModel(model);
    this.panes = new Panes(this.others, editorSide, this.disposer);
    this.view = h("div", { class: "lrv-view" }, this.editorHost, this.panes.el);
    const head = h(
      "div",
      { class: "lrv-head" },
      this.title,
      h(
        "div",
        { class: "lrv-group", role: "group", "aria-label": "Decision" },
        this.action("accept", "Accept", "lrv-accept"),
        this.action("reject", "Reject…", "lrv-reject"),
        this.action("fix", "Fix", "lrv-fix"),
      ),
      h(
        "div",
        { class: "lrv-group", role: "group", "aria-label": "View" },
        this.action("prev_item", "↑"),
        this.action("next_item", "↓"),
        this.action("side_by_side", "Side by side"),
        this.action("labels", "Labels"),
        this.action("full_width", "Full width"),
        this.action("guide", "Guide"),
        this.action("refresh", "Refresh"),
      ),
    );
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
      head,
      h(
        "div",
        { class: "lrv-body" },
        this.queue.el,
        h(
          "main",
          { class: "lrv-main" },
          h("div", { class: "lrv-item" }, this.itemFile, this.itemWho, this.itemAgreement, this.legend),
          this.itemComment,
          this.commentBox.el,
          this.guide,
          this.view,
          this.empty,
        ),
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
    this.pullPoll();
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

  /** (Re)start asking Python whether the queue changed, every `poll_seconds` (0: never). */
  private pullPoll(): void {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    const s = Number(this.model.get("poll_seconds"));
    if (!Number.isFinite(s) || s <= 0) return;
    this.pollTimer = setInterval(() => this.poll(), Math.max(MIN_POLL_S, s) * 1000);
  }

  private poll(): void {
    // Only while someone can see it, and never across a request: the reply would race the poll's changes.
    if (this.disposed || !this.root.isConnected || document.visibilityState === "hidden") return;
    if (this.waiting.size > 0 || this.navigating || this.deciding) return;
    try {
      this.model.send({ type: "poll" });
    } catch {
      // the kernel is gone: the next request says so
    }
  }

  // ---- DOM helpers ---------------------------------------------------------------------------------
  private button(name: string, text: string, tip: string, onClick: () => void): HTMLButtonElement {
    const b = h("button", { type: "button", class: "lrv-btn", "data-review-action": name, title: tip, "aria-label": tip }, text);
    b.addEventListener("click", () => {
      this.clock.touch();
      onClick();
    });
    this.buttons.set(name, b);
    return b;
  }

  private action(a: ReviewAction, text: string, cls = ""): HTMLButtonElement {
    const b = this.button(a, text, ACTION_NAMES[a], () => {
      this.run(a);
      if (a !== "reject") this.focus();
    });
    if (cls) b.classList.add(cls);
    return b;
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
    on(["change:poll_seconds"], () => this.pullPoll());
    const onMessage = (content: unknown): void => {
      if (!isReply(content)) return;
      const done = this.waiting.get(content.seq);
      if (!done) return;
      this.waiting.delete(content.seq);
      done(content);
      this.queueUi();
    };
    m.on("msg:custom", onMessage);
    this.disposer.add(() => m.off("msg:custom", onMessage));

    const root = this.root;
    this.disposer.listen<KeyboardEvent>(root, "keydown", (e) => this.onKey(e), { capture: true });
    this.disposer.listen<KeyboardEvent>(root, "keydown", (e) => {
      // A plain key inside the panel is never meant for the notebook ("a" would insert a cell).
      if (!isTextInput(e.target) && !e.ctrlKey && !e.metaKey && !e.altKey && e.key !== "Tab") e.stopPropagation();
    });
    // As the annotator does (input.ts): combinations the panel has no use for (Ctrl+S, Shift+Enter) reach
    // JupyterLab, whose capture-phase handler skips events from inside an element with the attribute.
    this.disposer.listen<KeyboardEvent>(
      window,
      "keydown",
      (e) => {
        if (!(e.target instanceof Node) || !root.contains(e.target) || isTextInput(e.target)) return;
        const combo = e.ctrlKey || e.metaKey || e.altKey || (e.shiftKey && e.key === "Enter");
        if (!combo || this.editor.keys.match(e)) return;
        root.removeAttribute(SUPPRESS);
        setTimeout(() => root.setAttribute(SUPPRESS, "true"), 0);
      },
      { capture: true },
    );
    this.disposer.listen<PointerEvent>(root, "pointerdown", (e) => {
      this.clock.touch();
      const t = e.target;
      if (t instanceof HTMLElement && (isTextInput(t) || t.closest("button, select, input, textarea, a, .lrv-list"))) return;
      if (!(t instanceof Node) || !this.editor.root.contains(t)) this.focus();
    });
    this.disposer.listen<PointerEvent>(root, "pointermove", () => this.clock.touch());
    releaseFocusOutside(root, this.disposer); // a press outside (the cell's prompt) gives the keyboard back
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
    this.buildLegend();
    this.editor.layers.invalidate("shapes");
    this.queueUi();
  }

  private pullItem(): void {
    const id = this.currentId();
    if (id === this.shownItem) return;
    this.shownItem = id;
    this.clock.restart();
    this.closeComment(false);
  }

  private pullKeys(): void {
    this.keys.set(this.model.get("keymap") ?? {});
    for (const [a, b] of this.buttons) {
      if (!isReviewAction(a)) continue;
      const tip = this.keys.tip(a);
      b.title = tip;
      b.setAttribute("aria-label", tip);
    }
    const hint = this.keys.hint();
    setText(this.keysHint, hint.text);
    this.keysHint.title = hint.all;
  }

  private pullGuide(): void {
    const html = this.model.get("guide_html") ?? "";
    this.guideContent.innerHTML = html; // sanitised in Python (labnb/workflow/guides.py)
    for (const a of this.guideContent.querySelectorAll("a")) {
      a.target = "_blank";
      a.rel = "noopener noreferrer";
    }
    if (!html) this.guideOpen = false;
    else if (!this.guideSeen) {
      this.guideSeen = true;
      this.guideOpen = true; // shown at first, then as the reviewer leaves it
    }
    this.queueUi();
  }

  private buildLegend(): void {
    const passes = this.model.get("passes") ?? [];
    this.legend.replaceChildren(
      ...passes.map((p) => {
        const chip = h(
          "button",
          {
            type: "button",
            class: `lrv-chip${p.reviewed ? " lrv-chip-reviewed" : ""}`,
            "data-drawer": p.drawer,
            "data-draw-task": p.draw_task,
            "aria-pressed": p.reviewed || !this.others.hidden.has(p.draw_task) ? "true" : "false",
            title: p.reviewed ? "The pass under review" : "Show or hide this pass",
          },
          h("span", { class: "lrv-swatch", style: `background:${safeColor(p.color)}` }),
          `${p.drawer} · pass ${p.pass + 1}${p.reviewed ? " (under review)" : ""}`,
        );
        if (!p.reviewed) {
          chip.addEventListener("click", () => {
            if (this.others.hidden.has(p.draw_task)) this.others.hidden.delete(p.draw_task);
            else this.others.hidden.add(p.draw_task);
            setPressed(chip, !this.others.hidden.has(p.draw_task));
            this.editor.layers.invalidate("shapes");
          });
        }
        return chip;
      }),
    );
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

  get busy(): boolean {
    return this.waiting.size > 0 || this.navigating || this.deciding || this.uiQueued || this.passesQueued || this.editor.busy || this.panes.busy;
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

  // ---- keys and actions ------------------------------------------------------------------------------

  private onKey(e: KeyboardEvent): void {
    const t = e.target;
    if (t === this.commentBox.input) {
      this.commentBox.key(e);
      return;
    }
    if (isTextInput(t)) return;
    if (this.editor.helpOpen) return; // the editor's shortcut overlay takes its keys
    if ((e.key === " " || e.key === "Enter") && t instanceof HTMLButtonElement) return;
    const action = this.keys.match(e);
    if (!action) return;
    e.preventDefault();
    e.stopPropagation(); // the editor never sees the panel's keys
    this.clock.touch();
    if (e.repeat && action !== "next_item" && action !== "prev_item") return;
    this.run(action);
  }

  run(action: ReviewAction): void {
    switch (action) {
      case "accept":
        void this.decide("accept");
        break;
      case "reject":
        this.openComment();
        break;
      case "fix":
        void this.decide("fix");
        break;
      case "next_item":
        this.move(1);
        break;
      case "prev_item":
        this.move(-1);
        break;
      case "side_by_side":
        this.model.set("side_by_side", !this.sideBySide);
        this.model.save_changes();
        this.sideChanged();
        break;
      case "guide":
        if (this.model.get("guide_html")) this.setGuide(!this.guideOpen);
        else this.note("This job has no review guide");
        break;
      case "refresh":
        void this.request({ type: "refresh" });
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
    this.guideOpen = open;
    this.queueUi();
    this.focus();
  }

  /** Open the item `delta` rows away from the open one (or the one being opened). */
  private move(delta: number): void {
    const rows = this.model.get("queue") ?? [];
    if (!rows.length) {
      this.note("The queue is empty");
      return;
    }
    const from = this.navTarget ?? this.currentId();
    const i = rows.findIndex((r) => r.review_task === from);
    const j = i < 0 ? (delta > 0 ? 0 : rows.length - 1) : i + delta;
    const row = rows[j];
    if (!row) {
      this.note(delta > 0 ? "This is the last item" : "This is the first item");
      return;
    }
    this.go(row.review_task);
  }

  /** Open (claim) a review task; with one being opened, this one is opened next. */
  go(reviewTask: number): void {
    if (this.fixing && reviewTask !== this.currentId()) {
      this.note("Finish the fix first: F or A accepts it as fixed, R sends it back");
      return;
    }
    this.navTarget = reviewTask;
    this.queueUi();
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.navigating) return;
    this.navigating = true;
    try {
      // Bounded: every round opens the latest target, and a reviewer presses keys far slower than that.
      for (let round = 0; round < 50 && this.navTarget !== null && this.navTarget !== this.currentId() && !this.disposed; round++) {
        const target = this.navTarget;
        const r = await this.request({ type: "open", review_task: target });
        if (!r.ok && this.navTarget === target) break;
      }
    } finally {
      this.navTarget = null;
      this.navigating = false;
      this.queueUi();
    }
  }

  /** Requests in flight and navigation done. */
  private async settled(): Promise<void> {
    while ((this.waiting.size > 0 || this.navigating) && !this.disposed) await new Promise((r) => setTimeout(r, 20));
  }

  private async decide(kind: "accept" | "fix" | "reject", comment = ""): Promise<boolean> {
    if (this.deciding) return false;
    this.deciding = true;
    this.queueUi();
    try {
      await this.settled();
      const id = this.currentId();
      if (id === null) {
        this.note("No item is open");
        return false;
      }
      const starting = kind === "fix" && !this.fixing;
      if (this.fixing) {
        this.editor.tool.cancel(); // a drawing in progress is not part of the fix
        if (!(await this.editor.sync.drain(DRAIN_MS))) {
          this.note("The kernel has not confirmed the last edits yet; decide again in a moment");
          return false;
        }
      }
      const duration_ms = starting ? 0 : this.clock.take();
      const msg: Request = kind === "reject" ? { type: "reject", review_task: id, comment, duration_ms } : { type: kind, review_task: id, duration_ms };
      const r = await this.request(msg);
      if (r.ok && !starting) this.focus();
      return r.ok;
    } finally {
      this.deciding = false;
      this.queueUi();
    }
  }

  private openComment(): void {
    if (this.currentId() === null) {
      this.note("No item is open");
      return;
    }
    this.commentBox.show();
    this.queueUi();
  }

  private closeComment(refocus = true): void {
    const wasOpen = this.commentBox.open;
    this.commentBox.hide();
    if (wasOpen && refocus) this.focus();
    this.queueUi();
  }

  private async sendReject(): Promise<void> {
    const ok = await this.decide("reject", this.commentBox.text);
    if (ok) this.closeComment();
    else if (this.commentBox.open) this.commentBox.input.focus();
  }

  private async filter(f: Filters): Promise<void> {
    await this.request({ type: "filter", ...f });
  }

  private request(msg: Request): Promise<ReplyMessage> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.waiting.set(seq, resolve);
      try {
        this.model.send({ ...msg, seq });
      } catch (err) {
        this.waiting.delete(seq);
        const error = `The kernel cannot be reached: ${String(err)}`;
        this.note(error);
        resolve({ type: "reply", seq, ok: false, error });
      }
      this.queueUi();
    });
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
    setText(this.title, `Review · ${job.name ?? ""}${m.get("user") ? ` · as ${m.get("user")}` : ""}`);
    const drawers = m.get("drawers") ?? [];
    const colors = new Map(drawers.map((d) => [d.name, d.color]));
    this.queue.setOptions(drawers, (m.get("schema")?.classes ?? []).map((c) => c.name), m.get("filters"));
    const current = m.get("current") ?? {};
    const id = this.currentId();
    this.queue.update(m.get("queue") ?? [], m.get("queue_total") ?? 0, colors, id, this.navTarget);

    const open = id !== null;
    setHidden(this.view, !open);
    setHidden(this.legend, !open);
    setHidden(this.empty, open);
    const rows = m.get("queue") ?? [];
    setText(
      this.empty,
      rows.length
        ? `No item is open: pick one in the queue (or ${this.keyName("next_item")}).`
        : m.get("queue_total")
          ? "No item matches the filters: change them."
          : `Nothing to review. New passes show up here as they are handed in (${this.keyName("refresh")} looks now).`,
    );
    setText(this.itemFile, open ? (current.file_name ?? "") : "");
    setText(this.itemWho, open ? `${current.drawer ?? ""} · pass ${(current.pass ?? 0) + 1}` : "");
    setText(this.itemAgreement, open ? `agreement ${formatAgreement(current.agreement)}` : "");
    const earlier = open && current.comment ? `Earlier review: ${current.comment}` : "";
    setText(this.itemComment, earlier);
    setHidden(this.itemComment, earlier === "");

    const fixing = this.fixing;
    this.root.classList.toggle("lrv-fixing", fixing);
    this.root.classList.toggle("lrv-side", this.sideBySide);
    const busy = this.deciding || this.waiting.size > 0;
    for (const name of ["accept", "reject", "fix"]) {
      const b = this.buttons.get(name);
      if (b) setDisabled(b, !open || busy);
    }
    const fix = this.buttons.get("fix");
    if (fix) {
      setText(fix, fixing ? "Accept fix" : "Fix");
      setPressed(fix, fixing);
    }
    const side = this.buttons.get("side_by_side");
    if (side) setPressed(side, this.sideBySide);
    const lay = this.layout;
    const press = (name: ReviewAction, on: boolean): void => {
      const b = this.buttons.get(name);
      if (b) setPressed(b, on);
    };
    press("labels", lay.labels);
    press("full_width", lay.fullWidth);
    const fold = this.buttons.get("queue");
    if (fold) {
      setText(fold, lay.queueOpen ? "«" : "»");
      setPressed(fold, lay.queueOpen);
    }
    const guideButton = this.buttons.get("guide");
    if (guideButton) {
      setPressed(guideButton, this.guideOpen);
      setHidden(guideButton, !m.get("guide_html"));
    }
    setHidden(this.guide, !this.guideOpen);
    setText(this.status, m.get("status") ?? "");
    setText(this.errorEl, m.get("error") ?? "");
    this.root.setAttribute("aria-busy", this.busy ? "true" : "false");
  }

  // ---- debug handle --------------------------------------------------------------------------------
  state(): {
    current: number | null;
    queue: number[];
    fixing: boolean;
    sideBySide: boolean;
    busy: boolean;
    navTarget: number | null;
    hidden: number[];
    passes: { draw_task: number; drawer: string; color: string; reviewed: boolean }[];
    layout: { labels: boolean; queueOpen: boolean; classesOpen: boolean; fullWidth: boolean };
    labels: DrawnLabel[];
    paneLabels: DrawnLabel[][];
    paneImages: ReturnType<Panes["images"]>;
  } {
    const lay = this.layout;
    return {
      layout: { labels: lay.labels, queueOpen: lay.queueOpen, classesOpen: lay.classesOpen, fullWidth: lay.fullWidth },
      labels: this.labels.drawn,
      paneLabels: this.panes.drawnLabels(),
      paneImages: this.panes.images(),
      current: this.currentId(),
      queue: (this.model.get("queue") ?? []).map((r) => r.review_task),
      fixing: this.fixing,
      sideBySide: this.sideBySide,
      busy: this.busy,
      navTarget: this.navTarget,
      hidden: [...this.others.hidden],
      passes: (this.model.get("passes") ?? []).map((p) => ({ draw_task: p.draw_task, drawer: p.drawer, color: p.color, reviewed: p.reviewed })),
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.noteTimer);
    clearInterval(this.pollTimer);
    this.disposer.dispose();
    this.root.remove();
  }
}
