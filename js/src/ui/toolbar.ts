// The toolbar: tools (icon and short name, the key in the tooltip), brush size for the mask tools,
// undo/redo/delete, zoom, model suggestions (with a model only: on/off, score threshold slider, accept
// all), image navigation, and the guide and help toggles. Buttons carry the test hooks `data-tool` and
// `data-action`; the slider `data-testid="assist-threshold"`, its value `data-testid="assist-threshold-value"`.
import { ACTION_LABELS, type KeyMap } from "../keys";
import type { ToolName } from "../tools/tool";
import type { Action } from "../types";
import { h, setDisabled, setHidden, setPressed, setText } from "./dom";
import { icon, type IconName } from "./icons";

const TOOL_INFO: Record<ToolName, { label: string; icon: IconName; action: Action }> = {
  select: { label: "Select", icon: "select", action: "tool_select" },
  box: { label: "Box", icon: "box", action: "tool_box" },
  polygon: { label: "Polygon", icon: "polygon", action: "tool_polygon" },
  keypoints: { label: "Points", icon: "keypoints", action: "tool_keypoints" },
  mask: { label: "Brush", icon: "mask", action: "tool_mask" },
  eraser: { label: "Eraser", icon: "eraser", action: "eraser" },
};

export interface ToolbarHandlers {
  tool(name: ToolName): void;
  action(a: Action): void;
  toggleGuide(): void;
  setThreshold(value: number, done: boolean): void;
  submitTask?(): void;
}

export interface ToolbarState {
  tool: ToolName;
  canUndo: boolean;
  canRedo: boolean;
  hasSelection: boolean;
  index: number;
  count: number;
  zoom: number;
  brushSize: number;
  guideOpen?: boolean;
  busy: boolean;
  assist: { on: boolean; threshold: number; shown: number; selected: number };
}

export class Toolbar {
  readonly el: HTMLElement;
  private readonly toolButtons = new Map<ToolName, HTMLButtonElement>();
  private readonly actions = new Map<Action, HTMLButtonElement>();
  private readonly brush: HTMLElement;
  private readonly brushText: HTMLElement;
  private readonly position: HTMLElement;
  private readonly zoomText: HTMLElement;
  private readonly guideButton: HTMLButtonElement;
  private readonly assist: HTMLElement | null = null;
  private readonly slider: HTMLInputElement | null = null;
  private readonly thresholdText: HTMLElement | null = null;
  private sliding = false;

  constructor(
    keys: KeyMap,
    tools: readonly ToolName[],
    readonly: boolean,
    hasGuide: boolean,
    hasAssist: boolean,
    handlers: ToolbarHandlers,
    hasTask = false,
  ) {
    const action = (a: Action, name: IconName, label?: string): HTMLButtonElement => {
      const tip = `${ACTION_LABELS[a]}${keys.hint(a)}`;
      const b = h("button", { type: "button", class: "lnb-btn", "data-action": a, title: tip, "aria-label": tip }, icon(name));
      if (label) b.append(h("span", { class: "lnb-btn-label" }, label));
      b.addEventListener("click", () => handlers.action(a));
      this.actions.set(a, b);
      return b;
    };
    const toolGroup = h("div", { class: "lnb-group", role: "group", "aria-label": "Tools" });
    for (const t of readonly ? (["select"] as ToolName[]) : tools) {
      const info = TOOL_INFO[t];
      const tip = `${ACTION_LABELS[info.action]}${keys.hint(info.action)}`;
      const b = h(
        "button",
        { type: "button", class: "lnb-btn lnb-tool", "data-tool": t, "aria-pressed": "false", title: tip, "aria-label": tip },
        icon(info.icon),
        h("span", { class: "lnb-btn-label" }, info.label),
      );
      b.addEventListener("click", () => handlers.tool(t));
      this.toolButtons.set(t, b);
      toolGroup.append(b);
    }
    this.brushText = h("span", { class: "lnb-brush-size", title: "Brush size in image pixels" }, "");
    this.brush = h(
      "div",
      { class: "lnb-group lnb-brush", role: "group", "aria-label": "Brush size" },
      action("brush_smaller", "brushSmaller"),
      this.brushText,
      action("brush_bigger", "brushBigger"),
    );
    this.zoomText = h("span", { class: "lnb-zoom", title: "Zoom (0 fits the image)" }, "100%");
    this.position = h("span", { class: "lnb-position" }, "");
    this.guideButton = h(
      "button",
      { type: "button", class: "lnb-btn", "data-action": "guide", title: "Show or hide the guide", "aria-pressed": "false" },
      icon("guide"),
      h("span", { class: "lnb-btn-label" }, "Guide"),
    );
    this.guideButton.addEventListener("click", () => handlers.toggleGuide());
    setHidden(this.guideButton, !hasGuide);
    const edit = readonly
      ? h("div", { class: "lnb-group" })
      : h("div", { class: "lnb-group", role: "group", "aria-label": "Edit" }, action("undo", "undo"), action("redo", "redo"), action("delete", "trash"));
    if (hasAssist) {
      const slider = h("input", {
        type: "range",
        min: 0,
        max: 1,
        step: 0.01,
        class: "lnb-threshold",
        "data-testid": "assist-threshold",
        title: "Minimum score of the suggestions shown",
        "aria-label": "Minimum score of the suggestions shown",
      });
      slider.addEventListener("input", () => {
        this.sliding = true;
        handlers.setThreshold(Number(slider.value), false);
      });
      slider.addEventListener("change", () => {
        this.sliding = false;
        handlers.setThreshold(Number(slider.value), true);
      });
      this.slider = slider;
      this.thresholdText = h("span", { class: "lnb-threshold-value", "data-testid": "assist-threshold-value", title: "Minimum score shown" }, "");
      const toggle = action("toggle_assist", "assist", "Assist");
      toggle.setAttribute("aria-pressed", "false");
      this.assist = h(
        "div",
        { class: "lnb-group lnb-assist", role: "group", "aria-label": "Model suggestions" },
        toggle,
        h("label", { class: "lnb-threshold-label" }, slider, this.thresholdText),
        ...(readonly ? [] : [action("accept_all_suggestions", "acceptAll", "Accept all")]),
      );
    }
    this.el = h(
      "div",
      { class: "lnb-toolbar", role: "toolbar", "aria-label": "Annotator tools" },
      toolGroup,
      this.brush,
      edit,
      this.assist,
      h("div", { class: "lnb-group", role: "group", "aria-label": "Zoom" }, action("zoom_out", "zoomOut"), this.zoomText, action("zoom_in", "zoomIn"), action("zoom_fit", "fit")),
      h("div", { class: "lnb-spacer" }),
      h("div", { class: "lnb-group lnb-nav", role: "group", "aria-label": "Images" }, action("prev_image", "prev"), this.position, action("next_image", "next")),
      h("div", { class: "lnb-group" }, this.guideButton, action("help", "help")),
    );
    if (hasTask && handlers.submitTask) {
      const submit = h(
        "button",
        { type: "button", class: "lnb-btn lnb-submit", "data-action": "submit_task", title: "Save every edit, then hand this task in" },
        h("span", { class: "lnb-btn-label" }, "Submit"),
      );
      const go = handlers.submitTask;
      submit.addEventListener("click", () => go());
      this.el.append(h("div", { class: "lnb-group", role: "group", "aria-label": "Task" }, submit));
    }
  }

  update(s: ToolbarState): void {
    for (const [t, b] of this.toolButtons) setPressed(b, t === s.tool);
    setHidden(this.brush, s.tool !== "mask" && s.tool !== "eraser");
    setText(this.brushText, `${Math.round(s.brushSize)} px`);
    const undo = this.actions.get("undo");
    const redo = this.actions.get("redo");
    const del = this.actions.get("delete");
    if (undo) setDisabled(undo, !s.canUndo);
    if (redo) setDisabled(redo, !s.canRedo);
    if (del) setDisabled(del, !s.hasSelection);
    const prev = this.actions.get("prev_image");
    const next = this.actions.get("next_image");
    if (prev) setDisabled(prev, s.busy || s.index <= 0);
    if (next) setDisabled(next, s.busy || s.index >= s.count - 1);
    setText(this.position, s.count ? `${s.index + 1} / ${s.count}` : "");
    setText(this.zoomText, formatZoom(s.zoom));
    setPressed(this.guideButton, s.guideOpen === true);
    if (this.assist && this.slider && this.thresholdText) {
      const toggle = this.actions.get("toggle_assist");
      if (toggle) setPressed(toggle, s.assist.on);
      const all = this.actions.get("accept_all_suggestions");
      if (all) setDisabled(all, !s.assist.on || s.assist.shown === 0);
      setDisabled(this.slider, !s.assist.on);
      const value = s.assist.threshold.toFixed(2);
      if (!this.sliding && this.slider.value !== String(s.assist.threshold)) this.slider.value = String(s.assist.threshold);
      setText(this.thresholdText, `≥ ${value}`);
    }
  }
}

export function formatZoom(scale: number): string {
  const pct = scale * 100;
  return pct >= 10 ? `${Math.round(pct)}%` : `${pct.toFixed(1)}%`;
}
