// The exam grader: one per rendered view. Lays out the head (head.ts: attempt, summary, buttons, the image
// strip), the canvas (stage.ts, drawing scene.ts) and the side list (sidebar.ts: instances, gold, tags,
// comment), follows the model's traits, and runs the grader's actions (keys: input.ts, keys.ts; buttons;
// clicks on the image). What is selected, Focus and whether the gold shows are this view's own; the grade
// being made lives in Python (the `draft` trait): a rating, a Missing mark, accepting the proposals, undo
// and saving are requests (../requests.ts), and the view shows the draft Python sends back. Pass and Fail
// (decision.ts says when they are offered) ask for a confirmation here, the same key again or Confirm, then
// send one `decide` request; Python saves a changed grade first and decides.
import { Disposer } from "../disposer";
import { SUPPRESS } from "../focus";
import { Requests } from "../requests";
import type { ImageInfo } from "../types";
import { h, setHidden, setText } from "../ui/dom";
import { confirmText, failOffer, passOffer, type DecisionAction, type Offer } from "./decision";
import { focusPair, proposalsLeft, step, tabOrder, type Shown } from "./draft";
import { GraderHead } from "./head";
import { installGraderInput } from "./input";
import { GraderKeys } from "./keys";
import type { GraderChange, GraderModel } from "./model";
import { Scene, type SceneState } from "./scene";
import { Sidebar } from "./sidebar";
import { Stage } from "./stage";
import type { GraderAction, Item, Request } from "./types";

const NOTE_MS = 4000;
/** The comment is sent this long after the grader stops typing (and with every save or move at once). */
const COMMENT_MS = 500;

export class GraderView {
  readonly root: HTMLElement;
  readonly stage: Stage;
  readonly scene = new Scene();
  readonly keys = new GraderKeys();
  readonly requests: Requests<Request>;
  private readonly disposer = new Disposer();
  private readonly head: GraderHead;
  private readonly side: Sidebar;
  private readonly itemLine = h("span", { class: "lgr-item", "data-testid": "grader-item" });
  private readonly noteLine = h("div", { class: "lgr-not-gradable", "data-testid": "grader-note", role: "note" });
  private readonly status = h("span", { class: "lgr-status-text", "data-testid": "grader-status", role: "status", "aria-live": "polite" });
  private readonly noteEl = h("span", { class: "lgr-note", "data-testid": "grader-hint-note" });
  private readonly errorEl = h("span", { class: "lgr-error", "data-testid": "grader-error", role: "alert" });
  private readonly keysHint = h("span", { class: "lgr-keys" });
  private readonly empty = h("div", { class: "lgr-empty-panel", "data-testid": "grader-empty" });
  selected: string | null = null;
  /** The decision waiting for its confirmation (the same key again, or Confirm). */
  armed: DecisionAction | null = null;
  private deciding = false;
  focusOn = false;
  goldShown = true;
  private shownItem: string | null = null;
  private shownImage: string | null = null;
  private commentTimer: ReturnType<typeof setTimeout> | undefined;
  private noteTimer: ReturnType<typeof setTimeout> | undefined;
  private uiQueued = false;
  /** The image the arrows asked for last, while a move is under way (coalesced: one open at a time). */
  private navTarget: number | null = null;
  private navigating = false;
  private disposed = false;

  constructor(
    readonly model: GraderModel,
    el: HTMLElement,
  ) {
    this.requests = new Requests<Request>(
      (msg) => model.send(msg),
      (text) => this.note(text),
      () => this.queueUi(),
    );
    this.head = new GraderHead({
      act: (a) => {
        this.run(a);
        this.focus();
      },
      attempt: (id) => void this.switchAttempt(id),
      image: (id) => this.goTo(id),
      confirm: () => {
        if (this.armed) this.decide(this.armed);
        this.focus();
      },
      cancel: () => {
        this.disarm("Nothing decided");
        this.focus();
      },
    });
    this.side = new Sidebar({
      select: (key) => this.select(key),
      rate: (id, n) => {
        this.selected = `t${id}`;
        void this.request({ type: "rate", asset_id: this.assetId(), annotation: id, stars: n });
        this.focus();
      },
      missing: (id) => {
        this.selected = `g${id}`;
        void this.request({ type: "missing", asset_id: this.assetId(), gold: id });
        this.focus();
      },
      tag: (id, right) => {
        void this.request({ type: "tag", asset_id: this.assetId(), annotation: id, right });
        this.focus();
      },
      comment: () => this.commentTyped(),
    });
    this.stage = new Stage(
      model,
      (ctx, view, dpr) => this.scene.draw(ctx, view, dpr, this.sceneState()),
      (x, y, tol) => this.clicked(x, y, tol),
      (msg) => this.note(msg),
      this.disposer,
    );
    this.root = h(
      "div",
      { class: "labnb-grader", "data-testid": "exam-grader", tabindex: 0, [SUPPRESS]: "true", role: "application", "aria-label": "Exam grader" },
      this.head.el,
      h("div", { class: "lgr-body" }, h("main", { class: "lgr-main" }, this.itemLine, this.noteLine, this.stage.el, this.empty), this.side.el),
      h("div", { class: "lgr-statusbar" }, this.status, this.noteEl, this.errorEl, this.keysHint),
    );
    el.appendChild(this.root);
    this.listen();
    this.pullKeys();
    this.pullImage();
    this.pullItem();
    this.updateUi();
  }

  // ---- model ---------------------------------------------------------------------------------------
  private listen(): void {
    const m = this.model;
    const on = (events: GraderChange[], fn: () => void): void => {
      for (const ev of events) {
        m.on(ev, fn);
        this.disposer.add(() => m.off(ev, fn));
      }
    };
    on(["change:attempts", "change:attempt_info", "change:summary", "change:decision", "change:images", "change:status", "change:error", "change:exam_info", "change:user"], () => this.queueUi());
    on(["change:item"], () => this.pullItem());
    on(["change:draft"], () => this.redraw());
    on(["change:image", "change:preview", "change:image_info"], () => this.pullImage());
    on(["change:keymap"], () => this.pullKeys());
    const onMessage = (content: unknown): void => this.requests.receive(content);
    m.on("msg:custom", onMessage);
    this.disposer.add(() => m.off("msg:custom", onMessage));
    installGraderInput({ root: this.root, keys: this.keys, comment: this.side.comment, run: (a) => this.run(a), focus: () => this.focus() }, this.disposer);
  }

  private info(): ImageInfo | null {
    const info = this.model.get("image_info");
    return info && typeof info.asset_id === "number" && info.width && info.height ? (info as ImageInfo) : null;
  }

  private pullImage(): void {
    const info = this.info();
    const m = this.model;
    const key = info ? `${info.asset_id}/${info.shown ?? ""}` : null;
    if (info && key !== this.shownImage) this.scene.reset(info, m.get("schema")?.classes ?? []);
    this.shownImage = key;
    this.stage.show(info, m.get("image") ?? null, m.get("preview") ?? null);
  }

  /** A new image (or the same one read again after a save): the selection survives only on the same image. */
  private pullItem(): void {
    const item = this.item();
    const key = `${item.asset_id ?? ""}/${item.shown ?? ""}`;
    if (key === this.shownItem) return;
    const sameImage = this.shownItem?.split("/")[0] === String(item.asset_id ?? "");
    this.shownItem = key;
    if (!sameImage) {
      this.selected = null;
      if (this.focusOn) {
        this.focusOn = false;
        this.stage.fit();
      }
    } else if (this.selected && !tabOrder(item, true).includes(this.selected)) this.selected = null;
    clearTimeout(this.commentTimer);
    this.commentTimer = undefined;
    this.side.setComment(this.model.get("draft")?.comment ?? "");
    this.redraw();
  }

  private pullKeys(): void {
    this.keys.set(this.model.get("keymap") ?? {});
    this.head.setKeys(this.keys);
    const hint = this.keys.hint();
    setText(this.keysHint, hint.text);
    this.keysHint.title = hint.all;
  }

  // ---- state ---------------------------------------------------------------------------------------
  item(): Partial<Item> {
    return this.model.get("item") ?? {};
  }

  private assetId(): number {
    return this.item().asset_id ?? -1;
  }

  sceneState(): SceneState {
    return { item: this.item(), draft: this.model.get("draft") ?? {}, selected: this.selected, only: this.only(), goldShown: this.goldShown };
  }

  private only(): Shown | null {
    return this.focusOn ? focusPair(this.item(), this.selected) : null;
  }

  get busy(): boolean {
    return this.requests.pending > 0 || this.navigating || this.deciding || this.uiQueued || this.stage.busy || this.commentTimer !== undefined;
  }

  get closed(): boolean {
    return this.disposed;
  }

  focus(): void {
    if (document.activeElement !== this.root) this.root.focus({ preventScroll: true });
  }

  note(text: string): void {
    setText(this.noteEl, text);
    clearTimeout(this.noteTimer);
    this.noteTimer = setTimeout(() => setText(this.noteEl, ""), NOTE_MS);
  }

  private redraw(): void {
    this.stage.schedule();
    this.queueUi();
  }

  private request(msg: Request): Promise<boolean> {
    return this.requests.send(msg).then((r) => r.ok);
  }

  // ---- actions -------------------------------------------------------------------------------------
  run(action: GraderAction): void {
    const item = this.item();
    if (this.armed && action !== "pass_attempt" && action !== "fail_attempt") {
      // any other key cancels a decision waiting for its confirmation; Escape does only that
      this.disarm("Nothing decided");
      if (action === "deselect") return;
    }
    switch (action) {
      case "next_instance":
      case "prev_instance":
        this.select(step(tabOrder(item, this.goldShown), this.selected, action === "next_instance" ? 1 : -1));
        break;
      case "rate_1":
      case "rate_2":
      case "rate_3":
      case "rate_4":
      case "rate_5":
        this.rate(Number(action.slice(-1)));
        break;
      case "clear_stars":
        this.rate(0);
        break;
      case "focus":
        this.toggleFocus();
        break;
      case "gold":
        this.goldShown = !this.goldShown;
        if (!this.goldShown && this.selected?.startsWith("g")) this.selected = null;
        this.note(this.goldShown ? "Gold shown" : `Gold hidden (${this.keys.key("gold")} shows it)`);
        this.reframe();
        break;
      case "missing":
        this.markMissing();
        break;
      case "accept_proposals":
        if (this.gradable()) void this.request({ type: "accept", asset_id: this.assetId() });
        break;
      case "undo":
      case "redo":
        if (item.asset_id !== undefined) void this.request({ type: action, asset_id: item.asset_id });
        break;
      case "save":
        if (this.gradable()) void this.save();
        break;
      case "next_image":
      case "prev_image":
        this.move(action === "next_image" ? 1 : -1);
        break;
      case "deselect":
        if (this.focusOn) this.toggleFocus();
        else this.select(null);
        break;
      case "pass_attempt":
      case "fail_attempt":
        this.decide(action);
        break;
    }
  }

  private gradable(): boolean {
    const item = this.item();
    if (item.gradable) return true;
    this.note(item.note || "No image to grade is open");
    return false;
  }

  select(key: string | null): void {
    this.selected = key;
    this.reframe();
  }

  /** In Focus, zoom to what it shows now. */
  private reframe(): void {
    if (this.focusOn) {
      const r = this.scene.boundsOf(this.sceneState());
      if (r) this.stage.zoomTo(r);
    }
    this.redraw();
  }

  private toggleFocus(): void {
    if (!this.focusOn && !this.selected) this.selected = step(tabOrder(this.item(), this.goldShown), null, 1);
    if (!this.focusOn && !this.selected) {
      this.note("Nothing to focus on: the image has no instances");
      return;
    }
    this.focusOn = !this.focusOn;
    if (this.focusOn) this.reframe();
    else {
      this.stage.fit();
      this.redraw();
    }
  }

  private rate(stars: number): void {
    if (!this.gradable()) return;
    const sel = this.selected;
    if (!sel?.startsWith("t")) {
      this.note(sel ? "Gold is not rated: M marks it Missing" : `Select an instance first (${this.keys.key("next_instance")})`);
      return;
    }
    void this.request({ type: "rate", asset_id: this.assetId(), annotation: Number(sel.slice(1)), stars });
  }

  private markMissing(): void {
    if (!this.gradable()) return;
    const sel = this.selected;
    const g = sel?.startsWith("g") ? (this.item().gold ?? []).find((x) => `g${x.id}` === sel) : undefined;
    if (!g || !g.markable) {
      this.note(`Select a gold instance nobody matched (${this.keys.key("next_instance")} reaches them after the trainee's)`);
      return;
    }
    void this.request({ type: "missing", asset_id: this.assetId(), gold: g.id });
  }

  private clicked(x: number, y: number, tol: number): void {
    this.focus();
    const key = this.scene.hit(this.sceneState(), x, y, tol);
    this.select(key);
    if (key?.startsWith("g") && this.item().gradable) {
      const g = (this.item().gold ?? []).find((e) => `g${e.id}` === key);
      if (g?.markable) void this.request({ type: "missing", asset_id: this.assetId(), gold: g.id });
    }
  }

  // ---- the decision --------------------------------------------------------------------------------
  /** What Pass and Fail offer now: the decision trait, the images and the open draft. */
  offers(): { pass: Offer; fail: Offer } {
    const m = this.model;
    const item = this.item();
    const input = {
      decision: m.get("decision") ?? {},
      images: m.get("images") ?? [],
      current: item.asset_id ?? null,
      gradable: Boolean(item.gradable),
      dirty: Boolean(m.get("draft")?.dirty) || this.commentTimer !== undefined,
    };
    return { pass: passOffer(input), fail: failOffer(input) };
  }

  /** A press of Pass or Fail: refused with the reason while not offered, else the first press asks for the
   * confirmation and the second (or Confirm) decides. */
  private decide(action: DecisionAction): void {
    const offer = this.offers()[action === "pass_attempt" ? "pass" : "fail"];
    if (!offer.enabled) {
      this.armed = null;
      this.note(offer.reason);
    } else if (this.armed !== action) {
      this.armed = action;
      this.note(""); // the confirmation says it all
    } else {
      this.armed = null;
      void this.sendDecision(action === "pass_attempt" ? "pass" : "fail");
    }
    this.queueUi();
  }

  private disarm(why: string): void {
    if (!this.armed) return;
    this.armed = null;
    if (why) this.note(why);
    this.queueUi();
  }

  private async sendDecision(decision: "pass" | "fail"): Promise<void> {
    const attempt = this.model.get("attempt_info")?.id;
    if (attempt === undefined || this.deciding) return;
    this.deciding = true;
    try {
      await this.request({ type: "decide", attempt, decision, from_asset: this.assetId(), comment: this.takeComment() });
    } finally {
      this.deciding = false;
      this.queueUi();
    }
  }

  // ---- the comment, saving, moving -----------------------------------------------------------------
  private commentTyped(): void {
    clearTimeout(this.commentTimer);
    const asset = this.assetId();
    this.commentTimer = setTimeout(() => {
      this.commentTimer = undefined;
      if (asset === this.assetId()) void this.request({ type: "comment", asset_id: asset, comment: this.side.comment.value });
      this.queueUi();
    }, COMMENT_MS);
    this.queueUi();
  }

  /** The comment typed so far, for a save or a move (the debounced send is then not needed). */
  private takeComment(): string | undefined {
    clearTimeout(this.commentTimer);
    this.commentTimer = undefined;
    return this.item().gradable ? this.side.comment.value : undefined;
  }

  private async save(): Promise<void> {
    await this.request({ type: "save", asset_id: this.assetId(), comment: this.takeComment() });
  }

  private move(dir: 1 | -1): void {
    const rows = this.model.get("images") ?? [];
    const from = this.navTarget ?? this.assetId();
    const i = rows.findIndex((r) => r.asset_id === from);
    const next = rows[i + dir];
    if (!next) {
      this.note(dir > 0 ? "This is the attempt's last image" : "This is the attempt's first image");
      return;
    }
    this.goTo(next.asset_id);
  }

  /** Open image `asset` (Python saves a changed grade first); arrows pressed meanwhile move the target. */
  goTo(asset: number): void {
    this.disarm("Nothing decided");
    this.navTarget = asset;
    if (this.navigating) return;
    void this.navigate();
  }

  private async navigate(): Promise<void> {
    this.navigating = true;
    try {
      while (this.navTarget !== null && this.navTarget !== this.assetId() && !this.disposed) {
        const target = this.navTarget;
        const from = this.assetId();
        const ok = await this.request({ type: "open", asset_id: target, from_asset: from, comment: this.takeComment() });
        if (!ok) break; // the save was refused: stay, the draft kept
      }
    } finally {
      this.navTarget = null;
      this.navigating = false;
      this.queueUi();
    }
  }

  private async switchAttempt(id: number): Promise<void> {
    this.disarm("Nothing decided");
    await this.request({ type: "attempt", attempt: id, from_asset: this.assetId(), comment: this.takeComment() });
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
    const item = this.item();
    const draft = m.get("draft") ?? {};
    const exam = m.get("exam_info") ?? {};
    const open = item.asset_id !== undefined;
    const offers = this.offers();
    if (this.armed && !offers[this.armed === "pass_attempt" ? "pass" : "fail"].enabled) this.armed = null;
    const attempt = m.get("attempt_info") ?? {};
    const decision = m.get("decision") ?? {};
    this.head.update({
      title: `Exam ${exam.name ?? ""}${m.get("user") ? ` · grading as ${m.get("user")}` : ""}`,
      attempts: m.get("attempts") ?? [],
      attempt,
      summary: m.get("summary") ?? {},
      decision,
      pass: offers.pass,
      fail: offers.fail,
      armed: this.armed,
      confirm: this.armed ? confirmText(this.armed, `attempt ${attempt.number ?? ""} of ${attempt.user ?? ""}`, decision, this.keys.key(this.armed)) : "",
      images: m.get("images") ?? [],
      current: open ? (item.asset_id ?? null) : null,
      gold: this.goldShown,
      focus: this.focusOn,
      gradable: Boolean(item.gradable),
      canUndo: Boolean(draft.can_undo),
      canRedo: Boolean(draft.can_redo),
      dirty: Boolean(draft.dirty) || this.commentTimer !== undefined,
      busy: this.requests.pending > 0,
    });
    this.side.update(item, draft, m.get("schema")?.classes ?? [], this.selected);
    setHidden(this.side.el, !open);
    setHidden(this.stage.el, !open);
    setHidden(this.empty, open);
    setText(this.empty, open ? "" : m.get("status") || "Nothing to grade");
    const left = proposalsLeft(item, draft);
    const stateWords = { drawing: "not handed in", handed_in: "to grade", graded: `graded by ${item.grader ?? ""}` };
    setText(
      this.itemLine,
      open
        ? `${item.file_name} (${(item.index ?? 0) + 1}/${item.count ?? 0}) · ${stateWords[item.state ?? "drawing"]}${left ? ` · ${left} proposal${left > 1 ? "s" : ""} left (${this.keys.key("accept_proposals")} accepts)` : ""}${this.focusOn ? " · Focus" : ""}${this.goldShown ? "" : " · gold hidden"}`
        : "",
    );
    setText(this.noteLine, item.note ?? "");
    setHidden(this.noteLine, !item.note);
    setText(this.status, m.get("status") ?? "");
    setText(this.errorEl, m.get("error") ?? "");
    this.root.classList.toggle("lgr-focus", this.focusOn);
    this.root.setAttribute("aria-busy", this.busy ? "true" : "false");
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.noteTimer);
    clearTimeout(this.commentTimer);
    this.disposer.dispose();
    this.root.remove();
  }
}
