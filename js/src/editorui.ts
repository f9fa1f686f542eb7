// The panels around the editor's canvases (ui/shell.ts builds their DOM), seen from the editor: what their
// buttons and fields do, the schema, keymap and read-only flag read into the editor together with the tools
// they enable and the panels rebuilt for them (`buildUi`), and the toolbar, class list, tags, selection
// panel and status bar brought up to date from the editor's state (`updateUi`, run at most once per
// microtask through `Editor.queueUi`).
import { pickClass, runAction, selectedShapes, setAttribute, setThreshold, submitTask, toggleClassVisibility, toggleTag } from "./actions";
import type { Assist } from "./assist";
import type { Editor } from "./editor";
import { visibleGhosts } from "./editorassist";
import { formatKey, KeyMap } from "./keys";
import type { Store } from "./store";
import { makeTool, toolsFor } from "./tools/registry";
import { SelectTool } from "./tools/select";
import type { ShapeDTO } from "./types";
import { Shell } from "./ui/shell";
import { saveState } from "./ui/status";
import { formatZoom } from "./ui/toolbar";

/** The shell of an editor, its controls wired to the editor (keyboard focus goes back to the canvas). */
export function createShell(ed: Editor): Shell {
  return new Shell(
    {
      tool: (t) => {
        ed.setTool(t);
        ed.focus();
      },
      action: (a) => {
        ed.focus();
        runAction(ed, a);
      },
      pickClass: (n) => {
        pickClass(ed, n);
        ed.focus();
      },
      toggleVisibility: (n) => toggleClassVisibility(ed, n),
      toggleTag: (g, v) => toggleTag(ed, g, v),
      setAttribute: (n, v) => setAttribute(ed, n, v),
      setThreshold: (v, done) => setThreshold(ed, v, done),
      submitTask: () => void submitTask(ed),
    },
    () => {
      if (!ed.shell.helpOpen) ed.focus();
      ed.queueUi();
    },
  );
}

/** Objects per class and the image's tags, counted again only when the store has changed. */
export class ShapeCounts {
  private version = -1;
  perClass = new Map<string, number>();
  tags: ShapeDTO[] = [];

  /** Count again at the next `update`, whatever the store's version (the panels were rebuilt). */
  invalidate(): void {
    this.version = -1;
  }

  update(store: Store): void {
    if (this.version === store.version) return;
    this.version = store.version;
    this.perClass = new Map();
    this.tags = [];
    for (const s of store.all()) {
      if (s.geometry.kind === "tag") this.tags.push(s);
      else if (s.label !== null) this.perClass.set(s.label, (this.perClass.get(s.label) ?? 0) + 1);
    }
  }
}

/** Python's schema, keymap and read-only flag into the editor: its classes, tools and panels. */
export function buildUi(ed: Editor): void {
  const m = ed.model;
  ed.schema = m.get("schema") ?? ed.schema;
  ed.keys = new KeyMap(m.get("keymap") ?? {});
  ed.readonly = Boolean(m.get("readonly"));
  ed.classes.clear();
  for (const c of ed.schema.classes) ed.classes.set(c.name, c);
  if (ed.label === null || !ed.classes.has(ed.label)) ed.label = ed.schema.classes[0]?.name ?? null;

  const names = toolsFor(ed.schema, ed.readonly);
  const current = ed.tool.name;
  ed.tool.deactivate();
  ed.tools = new Map(names.map((n) => [n, makeTool(ed, n)]));
  // Select first: a click never draws by surprise, and a drag on empty canvas pans.
  ed.tool = ed.tools.get(current) ?? ed.tools.get("select") ?? new SelectTool(ed);
  ed.tool.activate?.();
  ed.setCursor(ed.tool.name === "select" ? "default" : "crosshair");
  ed.shell.build({
    schema: ed.schema,
    keys: ed.keys,
    readonly: ed.readonly,
    guideHtml: m.get("guide_html") ?? "",
    tools: names,
    assist: ed.assist.active,
    task: !ed.readonly && m.get("task")?.can_submit === true,
    colorOf: (l) => ed.colorOf(l),
  });
  ed.shapeCounts.invalidate();
  ed.shapesStale = true;
  ed.layers.invalidate("shapes", "overlay");
  ed.queueUi();
}

/** The panels and the status bar from the editor's state. */
export function updateUi(ed: Editor): void {
  const counts = ed.shapeCounts;
  counts.update(ed.store);
  const info = ed.info;
  const error = ed.model.get("error") || ed.sync.errors.join("; ");
  const a = ed.assist;
  const ghosts = a.active ? visibleGhosts(ed) : [];
  ed.shell.update({
    toolbar: {
      tool: ed.tool.name,
      canUndo: ed.store.canUndo,
      canRedo: ed.store.canRedo,
      hasSelection: ed.selection.size > 0,
      index: info.index,
      count: info.count,
      zoom: ed.view.scale,
      brushSize: ed.brushSize,
      busy: ed.navigating,
      assist: { on: a.on, threshold: a.threshold, shown: ghosts.length, selected: a.selected.size },
    },
    label: ed.label,
    hidden: ed.hidden,
    counts: counts.perClass,
    tags: counts.tags,
    selected: selectedShapes(ed),
    status: {
      file: info.file_name,
      position: info.count ? `${info.index + 1} / ${info.count}` : "",
      size: `${info.width} × ${info.height}${info.bitmap_width && info.bitmap_width < info.width ? ` (shown at ${info.bitmap_width} × ${info.bitmap_height})` : ""}`,
      zoom: formatZoom(ed.view.scale),
      objects: ed.store.size - counts.tags.length,
      ...saveState(ed.sync, ed.navigating, ed.model.get("status") || (ed.readonly ? "Read-only" : ""), error !== ""),
      error,
      assist: a.active ? assistText(a, ghosts.length, ed.keys.keys.toggle_assist) : null,
    },
  });
}

/** The status bar's assist part: the model, Python's status, how many suggestions are shown. */
function assistText(a: Assist, shown: number, toggleKey: string | undefined): string {
  const name = a.model?.name ?? "model";
  if (!a.on) return `${name}: assist off${toggleKey ? ` (${formatKey(toggleKey)} turns it on)` : ""}`;
  const total = a.suggestions.length;
  const extra = total && /suggestion/.test(a.status) ? `, ${shown} shown at ≥ ${a.threshold.toFixed(2)}` : "";
  return `${name}: ${a.status || "no suggestions"}${extra}`;
}
