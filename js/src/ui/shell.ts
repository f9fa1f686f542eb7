// Everything around the canvases: the root element (focusable, with the test hooks), toolbar, side
// panels (classes, tags, the selection's class and attributes), guide, status bar, help overlay, and the
// stage's prompt, toast and loading note. The panels are rebuilt when the schema, keymap, guide or read-only
// flag change; `update` refreshes them from the editor's state (cheap when nothing changed). The side panel
// folds into a narrow rail (its toggle is `data-testid="side-toggle"`) to give the image the width.
import type { KeyMap } from "../keys";
import type { ToolName } from "../tools/tool";
import type { Action, SchemaPayload, ShapeDTO } from "../types";
import { AttributesPanel } from "./attributes";
import { ClassPicker } from "./classes";
import { h, setHidden, setPressed, setText } from "./dom";
import { GuidePanel } from "./guide";
import { HelpOverlay } from "./help";
import { icon } from "./icons";
import { StatusBar, type StatusState } from "./status";
import { TagsPanel } from "./tags";
import { Toolbar, type ToolbarState } from "./toolbar";

export interface ShellHandlers {
  tool(name: ToolName): void;
  action(a: Action): void;
  pickClass(name: string): void;
  toggleVisibility(name: string): void;
  toggleTag(group: string | null, value: string): void;
  setAttribute(name: string, value: string | number | null): void;
  /** The suggestions' threshold slider moved (`done` when released). */
  setThreshold(value: number, done: boolean): void;
  /** "Submit" of a task-bound annotator. */
  submitTask(): void;
}

export interface ShellConfig {
  schema: SchemaPayload;
  keys: KeyMap;
  readonly: boolean;
  guideHtml: string;
  tools: ToolName[];
  /** The annotator has a model: show the assist controls and keys. */
  assist: boolean;
  /** Bound to a job task this user may hand in: show "Submit". */
  task: boolean;
  /** The colour a class is drawn in. */
  colorOf(label: string | null): string;
}

export interface ShellState {
  toolbar: ToolbarState;
  label: string | null;
  hidden: ReadonlySet<string>;
  counts: ReadonlyMap<string, number>;
  tags: readonly ShapeDTO[];
  selected: readonly ShapeDTO[];
  status: StatusState;
}

export class Shell {
  readonly root: HTMLElement;
  readonly stage: HTMLElement;
  private readonly toolbarSlot = h("div", { class: "lnb-toolbar-slot" });
  private readonly side = h("div", { class: "lnb-side" });
  private readonly sidePanels = h("div", { class: "lnb-side-panels" });
  private readonly sideToggle = h("button", { type: "button", class: "lnb-btn lnb-btn-small lnb-side-toggle", "data-testid": "side-toggle" });
  private readonly helpSlot = h("div", { class: "lnb-help-slot" });
  private readonly prompt = h("div", { class: "lnb-prompt", hidden: true, role: "status" });
  private readonly toast = h("div", { class: "lnb-toast", hidden: true, role: "status", "aria-live": "polite" });
  private readonly loadingNote = h("div", { class: "lnb-loading", hidden: true }, "Loading image…");
  private readonly guide: GuidePanel;
  private readonly status = new StatusBar();
  private toolbar: Toolbar | null = null;
  private classes: ClassPicker | null = null;
  private tags: TagsPanel | null = null;
  private attrs: AttributesPanel | null = null;
  private help: HelpOverlay | null = null;
  private toastTimer: ReturnType<typeof setTimeout> | undefined;
  guideOpen = false;
  helpOpen = false;
  private guideSeen = false;
  private sideShown = true;
  /** The side panel was folded or unfolded by its own button (the review panel remembers the choice). */
  onSide: ((open: boolean) => void) | null = null;

  constructor(
    private readonly handlers: ShellHandlers,
    /** The guide or help was opened or closed (the editor refocuses and refreshes). */
    private readonly onPanels: () => void,
  ) {
    this.stage = h("div", { class: "lnb-stage", "data-testid": "stage" }, this.prompt, this.toast, this.loadingNote);
    this.guide = new GuidePanel(() => this.setGuide(false));
    this.side.append(this.sideToggle, this.sidePanels);
    this.sideToggle.addEventListener("click", () => {
      this.setSideOpen(!this.sideShown);
      this.onSide?.(this.sideShown);
    });
    this.root = h(
      "div",
      {
        class: "labnb-annotator",
        "data-testid": "annotator",
        tabindex: 0,
        // JupyterLab matches its shortcuts in the capture phase; this attribute makes it skip events
        // from inside the widget, so "b" or Delete never reach the notebook while the widget has focus.
        "data-lm-suppress-shortcuts": "true",
        role: "application",
        "aria-label": "Image annotator",
      },
      this.toolbarSlot,
      h("div", { class: "lnb-body" }, this.side, this.stage, this.guide.el),
      this.status.el,
      this.helpSlot,
    );
    this.setSideOpen(true);
  }

  build(c: ShellConfig): void {
    const hd = this.handlers;
    const enabled = new Set(c.schema.tools);
    this.toolbar = new Toolbar(
      c.keys,
      c.tools,
      c.readonly,
      c.guideHtml !== "",
      c.assist,
      {
        tool: (t) => hd.tool(t),
        action: (a) => hd.action(a),
        toggleGuide: () => this.setGuide(!this.guideOpen),
        setThreshold: (v, done) => hd.setThreshold(v, done),
        submitTask: () => hd.submitTask(),
      },
      c.task,
    );
    this.toolbarSlot.replaceChildren(this.toolbar.el);
    this.classes = new ClassPicker(c.schema.classes, { pick: (n) => hd.pickClass(n), toggleVisibility: (n) => hd.toggleVisibility(n) });
    this.tags = enabled.has("tags") ? new TagsPanel(c.schema.tags, { toggle: (g, v) => hd.toggleTag(g, v) }, c.readonly) : null;
    this.attrs = new AttributesPanel(c.schema.attributes, { set: (n, v) => hd.setAttribute(n, v) }, c.readonly, c.colorOf);
    this.sidePanels.replaceChildren(this.classes.el, ...(this.tags ? [this.tags.el] : []), this.attrs.el);
    this.help = new HelpOverlay(c.keys, c.schema.classes, c.tools, c.assist, () => this.setHelp(false));
    this.help.setOpen(this.helpOpen);
    this.helpSlot.replaceChildren(this.help.el);
    this.guide.setHtml(c.guideHtml);
    if (c.guideHtml === "") this.guideOpen = false;
    else if (!this.guideSeen) {
      this.guideOpen = true; // shown at first, then as the annotator leaves it
      this.guideSeen = true;
    }
    this.guide.setOpen(this.guideOpen);
  }

  update(s: ShellState): void {
    this.toolbar?.update({ ...s.toolbar, guideOpen: this.guideOpen });
    this.classes?.update(s.label, s.hidden, s.counts);
    this.tags?.update(s.tags);
    this.attrs?.update(s.selected);
    this.status.update(s.status);
  }

  setGuide(open: boolean): void {
    this.guideOpen = open;
    this.guide.setOpen(open);
    this.onPanels();
  }

  setHelp(open: boolean): void {
    this.helpOpen = open;
    this.help?.setOpen(open);
    this.onPanels();
  }

  get sideOpen(): boolean {
    return this.sideShown;
  }

  /** Unfold (true) or fold the side panel into its rail. */
  setSideOpen(open: boolean): void {
    this.sideShown = open;
    this.root.classList.toggle("lnb-side-folded", !open);
    setHidden(this.sidePanels, !open);
    setPressed(this.sideToggle, open);
    const tip = open ? "Fold the side panel (classes, tags, selection) to give the image the width" : "Show the classes, tags and selection";
    this.sideToggle.title = tip;
    this.sideToggle.setAttribute("aria-label", tip);
    this.sideToggle.replaceChildren(icon(open ? "prev" : "next"), h("span", { class: "lnb-side-toggle-label" }, open ? "" : "Classes"));
  }

  revealClass(name: string): void {
    this.classes?.reveal(name);
  }

  setPrompt(text: string | null): void {
    setText(this.prompt, text ?? "");
    setHidden(this.prompt, !text);
  }

  message(text: string): void {
    setText(this.toast, text);
    setHidden(this.toast, false);
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => setHidden(this.toast, true), 3500);
  }

  setLoading(on: boolean): void {
    setHidden(this.loadingNote, !on);
  }

  setPointer(text: string): void {
    this.status.setPointer(text);
  }

  dispose(): void {
    clearTimeout(this.toastTimer);
    this.root.remove();
  }
}
