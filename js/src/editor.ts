// The Annotator's editor: one per rendered view. It owns the state (image, tool, class, selection,
// hidden classes), connects the model, the store, sync and the layers, and implements the editor side of
// the tools' API. Around it: ui/shell.ts (the DOM outside the canvases), input.ts (pointer and keys),
// actions.ts (document actions), overlay.ts and render.ts (drawing).
import { pickClass, runAction, selectedShapes, setAttribute, setThreshold, toggleClassVisibility, toggleTag } from "./actions";
import { ActivityClock } from "./activity";
import { Assist, drawGhosts, ghostAt, type Ghost } from "./assist";
import { Disposer } from "./disposer";
import { HitIndex } from "./hitindex";
import { boundsOf, shapeAt, shapesIn } from "./hittest";
import { ImageLayer } from "./imagelayer";
import { isTiled, TileSet } from "./tiles";
import { installInput } from "./input";
import { formatKey, KeyMap } from "./keys";
import { LayerStack, type LayerName } from "./layers";
import { MaskGrid } from "./mask";
import type { WidgetModel } from "./model";
import { ModelLink } from "./modellink";
import { paintOverlay } from "./overlay";
import { ShapePainter, UNKNOWN_COLOR } from "./render";
import { Store } from "./store";
import { Sync } from "./sync";
import { forgetPaintedMask } from "./tools/mask";
import { makeTool, toolsFor } from "./tools/registry";
import { SelectTool } from "./tools/select";
import type { EditorApi, Pointer, PreviewItem, Tool, ToolName } from "./tools/tool";
import type { AssistModelInfo, ClassDef, Geometry, ImageInfo, SchemaPayload, ShapeDTO } from "./types";
import { safeColor } from "./ui/dom";
import { Shell } from "./ui/shell";
import { saveState } from "./ui/status";
import { formatZoom } from "./ui/toolbar";
import { Viewport, type Rect } from "./view";

const EMPTY_INFO: ImageInfo = { asset_id: -1, file_name: "", width: 1, height: 1, bitmap_width: 1, bitmap_height: 1, mime: "", index: 0, count: 0 };

export class Editor implements EditorApi {
  readonly shell: Shell;
  readonly view = new Viewport();
  readonly layers: LayerStack;
  readonly clock = new ActivityClock();
  readonly sync: Sync;
  readonly store: Store;
  readonly index = new HitIndex();
  /** Model assist: the suggestions ("ghosts") of the shown image and what is shown of them. */
  readonly assist = new Assist();
  private readonly disposer = new Disposer();
  private readonly image: ImageLayer;
  private readonly link: ModelLink;
  info: ImageInfo = EMPTY_INFO;
  grid = new MaskGrid(1, 1, 1);
  painter = new ShapePainter(this.grid);
  schema: SchemaPayload = { classes: [], tools: [], tags: [], attributes: [] };
  keys = new KeyMap({});
  readonly = false;
  private readonly classes = new Map<string, ClassDef>();
  private tools = new Map<ToolName, Tool>();
  tool: Tool;
  label: string | null = null;
  readonly selection = new Set<string>();
  readonly hidden = new Set<string>();
  brushSize = 0;
  spaceHeld = false;
  lastPointer: Pointer | null = null;
  navigating = false;
  private panning = false;
  private toolCursor = "default";
  private hover: string | null = null;
  private preview: PreviewItem[] | null = null;
  private readonly previewCids = new Set<string>();
  private shapesStale = true;
  private uiQueued = false;
  private countsVersion = -1;
  private counts = new Map<string, number>();
  private tagShapes: ShapeDTO[] = [];
  private cidSeq = 0;
  /**
   * Drawn on the shapes layer under the editor's own shapes, in the same view (so it follows pans and zooms
   * with them); null draws nothing. The review panel draws the other passes of the image here.
   */
  underlay: ((ctx: CanvasRenderingContext2D, view: Viewport, dpr: number) => void) | null = null;
  /** Drawn on the shapes layer above the editor's shapes, in the same view; the review panel's class labels. */
  aboveShapes: ((ctx: CanvasRenderingContext2D, view: Viewport, dpr: number) => void) | null = null;
  /** Client ids are unique per view and widget life: several views may create shapes at once. */
  private readonly token = `c${Math.random().toString(36).slice(2, 8)}`;
  private disposed = false;
  private submitting = false;

  constructor(
    readonly model: WidgetModel,
    el: HTMLElement,
  ) {
    this.shell = new Shell(
      {
        tool: (t) => {
          this.setTool(t);
          this.focus();
        },
        action: (a) => {
          this.focus();
          runAction(this, a);
        },
        pickClass: (n) => {
          pickClass(this, n);
          this.focus();
        },
        toggleVisibility: (n) => toggleClassVisibility(this, n),
        toggleTag: (g, v) => toggleTag(this, g, v),
        setAttribute: (n, v) => setAttribute(this, n, v),
        setThreshold: (v, done) => setThreshold(this, v, done),
        submitTask: () => void this.submitTask(),
      },
      () => {
        if (!this.shell.helpOpen) this.focus();
        this.queueUi();
      },
    );
    this.layers = new LayerStack(this.stage, this.view, (layer, ctx, view) => this.paint(layer, ctx, view));
    this.image = new ImageLayer(
      () => {
        this.shell.setLoading(false);
        this.layers.invalidate("image");
      },
      (msg) => {
        this.shell.setLoading(false);
        this.message(msg);
      },
    );
    this.sync = new Sync(model);
    this.store = new Store(
      () => this.clock.take(),
      (cid) => this.sync.idOf(cid),
    );
    this.store.onChange = (cids) => this.shapesChanged(cids);
    this.store.onEdit = (changes, ms) => this.sync.record(this.info.asset_id, changes, ms);
    this.sync.onAck = (cid, id) => this.store.patchId(cid, id);
    this.sync.onState = () => {
      this.queueUi();
      if (this.sync.pending === 0) this.link.later();
    };
    this.tool = new SelectTool(this);
    el.appendChild(this.root);
    installInput(this, this.disposer);
    this.link = new ModelLink(
      model,
      this.store,
      this.sync,
      {
        load: (info, image, shapes) => this.loadImage(info, image, shapes),
        swap: (info) => {
          this.info = info;
          this.image.update(info, this.model.get("image"), this.model.get("preview"));
          this.shell.setLoading(this.image.loading);
        },
        info: (info) => {
          this.info = info;
          this.queueUi();
        },
        rebuild: () => this.buildUi(),
        refresh: () => this.queueUi(),
        assist: () => this.pullAssist(),
        editing: () => this.preview !== null,
      },
      this.disposer,
    );
    const ro = new ResizeObserver(() => this.resized());
    ro.observe(this.stage);
    this.disposer.add(() => ro.disconnect());
    this.link.pull(); // starts decoding the image before the panels are built
    this.pullAssist(false);
    this.buildUi();
    this.resized();
  }

  get root(): HTMLElement {
    return this.shell.root;
  }

  get stage(): HTMLElement {
    return this.shell.stage;
  }

  get helpOpen(): boolean {
    return this.shell.helpOpen;
  }

  // ---- model -----------------------------------------------------------------------------------
  /** Hand the bound task in, once every edit made so far is saved (an edit arriving after would be refused). */
  private async submitTask(): Promise<void> {
    if (this.submitting) return;
    this.submitting = true;
    this.message("Saving, then submitting…");
    try {
      if (!(await this.sync.drain(15_000))) {
        this.message("Edits are not saved yet (is the kernel busy?); nothing was submitted");
        return;
      }
      this.model.send({ type: "submit_task" });
    } finally {
      this.submitting = false;
    }
  }

  private loadImage(info: ImageInfo, image: DataView, shapes: ShapeDTO[]): void {
    this.tool.deactivate();
    this.info = info;
    this.grid = new MaskGrid(info.width, info.height, info.bitmap_width || info.width);
    this.painter = new ShapePainter(this.grid);
    this.selection.clear();
    this.hover = null;
    this.assist.selected.clear();
    this.assist.hover = null;
    this.preview = null;
    this.previewCids.clear();
    this.store.reset(shapes);
    this.view.setImage(info.width, info.height);
    // The short side sets the default brush: a 50,000 x 400 panorama wants a 13 px brush, not 800.
    if (!this.brushSize) this.brushSize = Math.max(2, Math.round(Math.min(info.width, info.height) / 30));
    this.clock.restart();
    this.navigating = false;
    this.tool.activate?.();
    const tiles = isTiled(info)
      ? new TileSet(this.model, info, () => this.layers.invalidate("image"), (msg) => this.message(msg))
      : null;
    const wantFull = (): void => this.model.send({ type: "want_full", asset_id: info.asset_id });
    this.image.load(info, image, { preview: this.model.get("preview"), tiles, wantFull });
    this.shell.setLoading(this.image.loading);
    this.layers.invalidate("image", "shapes", "ghosts", "overlay");
    this.queueUi();
  }

  /** Python's assist traits (model, on, threshold, status, suggestions) into the view. */
  pullAssist(rebuild = true): void {
    const m = this.model;
    const info = m.get("assist_model") as AssistModelInfo | undefined;
    const model = info && typeof info.name === "string" && info.name ? info : null;
    const a = this.assist;
    const was = a.active;
    a.model = model;
    a.on = model !== null && Boolean(m.get("assist_on"));
    const t = Number(m.get("assist_threshold"));
    if (Number.isFinite(t)) a.threshold = Math.min(1, Math.max(0, t));
    a.status = String(m.get("assist_status") ?? "");
    a.setSuggestions(m.get("suggestions"));
    a.invalidate();
    this.layers.setEnabled("ghosts", model !== null);
    if (was !== a.active && rebuild) this.buildUi();
    this.ghostsChanged();
  }

  /** What is shown of the suggestions may have changed: redraw them. */
  ghostsChanged(): void {
    this.assist.invalidate();
    this.layers.invalidate("ghosts", "overlay");
    this.queueUi();
  }

  /** The suggestions shown now (assist on, score at or above the threshold, not committed, class shown). */
  visibleGhosts(): readonly Ghost[] {
    return this.assist.visible(this.store.all(), this.hidden);
  }

  /** The shown suggestion under an image point, if it is smaller than `than` (the stored shape hit there). */
  ghostAt(x: number, y: number, than: ShapeDTO | null): Ghost | null {
    const gh = ghostAt(this.visibleGhosts(), this.painter, x, y, this.px(5));
    if (!gh || !than) return gh;
    const b = this.index.bounds(than.cid);
    const area = than.geometry.kind === "keypoints" ? 0 : b ? (b.maxX - b.minX) * (b.maxY - b.minY) : Infinity;
    return gh.area < area ? gh : null;
  }

  /** Select a suggestion ("replace" also clears the selection of stored shapes), or clear them (null). */
  selectGhost(cid: string | null, mode: "replace" | "toggle" = "replace"): void {
    const sel = this.assist.selected;
    if (mode === "replace") {
      this.select([]);
      sel.clear();
    }
    if (cid !== null) {
      if (mode === "toggle" && sel.has(cid)) sel.delete(cid);
      else sel.add(cid);
    }
    this.layers.invalidate("overlay");
    this.queueUi();
  }

  setGhostHover(cid: string | null): void {
    if (cid === this.assist.hover) return;
    this.assist.hover = cid;
    this.layers.invalidate("overlay");
  }

  // ---- shapes ----------------------------------------------------------------------------------
  private shapesChanged(cids: readonly string[] | null): void {
    if (cids === null) {
      const entries: [string, Rect][] = [];
      for (const s of this.store.all()) {
        const b = boundsOf(s);
        if (b) entries.push([s.cid, b]);
      }
      this.index.reset(entries);
    } else {
      for (const cid of cids) {
        const s = this.store.get(cid);
        this.index.set(cid, s ? boundsOf(s) : null);
        if (!s) this.selection.delete(cid);
      }
    }
    if (this.hover && !this.store.get(this.hover)) this.hover = null;
    this.shapesStale = true;
    this.layers.invalidate("shapes", "overlay");
    if (this.assist.active) this.ghostsChanged(); // a committed suggestion stops showing, an undone one returns
    this.queueUi();
  }

  /** The shapes the shapes layer draws: visible, and not being edited (the overlay draws those). */
  shownShapes(): ShapeDTO[] {
    return this.store.all().filter((s) => this.isVisible(s) && !this.previewCids.has(s.cid));
  }

  isVisible(s: ShapeDTO): boolean {
    return s.geometry.kind !== "tag" && !(s.label !== null && this.hidden.has(s.label));
  }

  shapeAt(x: number, y: number): ShapeDTO | null {
    return shapeAt(this, x, y, this.px(5));
  }

  shapesIn(r: Rect, contained: boolean): ShapeDTO[] {
    return shapesIn(this, r, contained);
  }

  // ---- EditorApi ---------------------------------------------------------------------------------
  get dpr(): number {
    return this.layers.dpr;
  }

  px(screenPx: number): number {
    return screenPx / this.view.scale;
  }

  classOf(label: string | null): ClassDef | undefined {
    return label === null ? undefined : this.classes.get(label);
  }

  colorOf(label: string | null): string {
    const c = this.classOf(label);
    return c ? safeColor(c.color) : UNKNOWN_COLOR;
  }

  select(cids: Iterable<string>, mode: "replace" | "add" | "toggle" = "replace"): void {
    if (mode === "replace" && this.assist.selected.size) {
      this.assist.selected.clear();
      this.layers.invalidate("overlay");
      this.queueUi();
    }
    const before = [...this.selection].join(",");
    if (mode === "replace") this.selection.clear();
    for (const cid of cids) {
      const s = this.store.get(cid);
      if (!s || s.geometry.kind === "tag") continue;
      if (mode === "toggle" && this.selection.has(cid)) this.selection.delete(cid);
      else this.selection.add(cid);
    }
    if ([...this.selection].join(",") === before) return;
    this.layers.invalidate("overlay");
    this.queueUi();
    if (this.tool.name === "mask" || this.tool.name === "eraser") this.tool.activate?.();
  }

  setHover(cid: string | null): void {
    if (cid === this.hover) return;
    this.hover = cid;
    this.layers.invalidate("overlay");
  }

  setPreview(items: PreviewItem[] | null): void {
    this.preview = items;
    const before = [...this.previewCids].join(",");
    this.previewCids.clear();
    for (const it of items ?? []) this.previewCids.add(it.shape.cid);
    // The shapes layer is rebuilt only when the set of shapes under edit changes: at the start and
    // the end of a drag, never during it.
    if ([...this.previewCids].join(",") !== before) {
      this.shapesStale = true;
      this.layers.invalidate("shapes");
    }
    this.layers.invalidate("overlay");
  }

  commit(edits: readonly { cid: string; after: ShapeDTO | null }[]): void {
    if (this.readonly) {
      this.message("This annotator is read-only");
      return;
    }
    this.store.commit(edits);
  }

  newCid(): string {
    return `${this.token}-${++this.cidSeq}`;
  }

  newShape(label: string | null, geometry: Geometry): ShapeDTO {
    return { id: null, cid: this.newCid(), label, attributes: {}, track_id: null, geometry };
  }

  redrawOverlay(): void {
    this.layers.invalidate("overlay");
  }

  setPrompt(text: string | null): void {
    this.shell.setPrompt(text);
  }

  message(text: string): void {
    this.shell.message(text);
  }

  setCursor(cursor: string): void {
    this.toolCursor = cursor;
    this.applyCursor();
  }

  private applyCursor(): void {
    const c = this.panning ? "grabbing" : this.spaceHeld ? "grab" : this.toolCursor;
    if (this.stage.style.cursor !== c) this.stage.style.cursor = c;
  }

  // ---- view and state --------------------------------------------------------------------------
  focus(): void {
    if (document.activeElement !== this.root) this.root.focus({ preventScroll: true });
  }

  setSpace(on: boolean): void {
    if (this.spaceHeld === on) return;
    this.spaceHeld = on;
    this.applyCursor();
  }

  setPanning(on: boolean): void {
    this.panning = on;
    this.applyCursor();
  }

  viewChanged(): void {
    this.layers.follow();
    this.queueUi();
  }

  zoomBy(factor: number): void {
    this.view.zoomAt(factor, this.view.width / 2, this.view.height / 2);
    this.viewChanged();
  }

  fit(): void {
    this.view.fit();
    this.viewChanged();
  }

  private resized(): void {
    const w = this.stage.clientWidth;
    const h = this.stage.clientHeight;
    if (!w || !h) return;
    this.view.setSize(w, h);
    this.layers.resize(w, h);
    this.queueUi();
  }

  showPointer(p: Pointer | null): void {
    const inside = p && p.x >= 0 && p.y >= 0 && p.x < this.info.width && p.y < this.info.height;
    this.shell.setPointer(inside && p ? `x ${Math.floor(p.x)}  y ${Math.floor(p.y)}` : "");
  }

  setTool(name: ToolName): boolean {
    const next = this.tools.get(name);
    if (!next) {
      this.message(`The ${name} tool is not enabled for this project`);
      return false;
    }
    if (next === this.tool) return true;
    this.tool.deactivate();
    if (name !== "mask" && name !== "eraser") forgetPaintedMask(this);
    this.tool = next;
    if (name === "keypoints" && !this.classOf(this.label)?.keypoints.length) {
      const kp = this.schema.classes.find((c) => c.keypoints.length);
      if (kp) this.label = kp.name;
    }
    this.setPrompt(null);
    this.setCursor(name === "select" ? "default" : "crosshair");
    next.activate?.();
    this.layers.invalidate("overlay");
    this.queueUi();
    return true;
  }

  /** The shapes layer must be rebuilt (visibility changed). */
  refreshShapes(): void {
    this.shapesStale = true;
    this.layers.invalidate("shapes", "overlay");
    if (this.assist.active) this.ghostsChanged();
    this.queueUi();
  }

  // ---- painting ----------------------------------------------------------------------------------
  private paint(layer: LayerName, ctx: CanvasRenderingContext2D, view: Viewport): void {
    if (layer === "image") this.image.draw(ctx, view, this.dpr, this.info);
    else if (layer === "shapes") {
      if (this.shapesStale) {
        this.painter.rebuild(this.store.all(), (s) => !this.isVisible(s) || this.previewCids.has(s.cid), (l) => this.classOf(l));
        this.shapesStale = false;
      }
      this.underlay?.(ctx, view, this.dpr);
      this.painter.draw(ctx, view, this.dpr);
      this.aboveShapes?.(ctx, view, this.dpr);
    } else if (layer === "ghosts") {
      drawGhosts(ctx, view, this.dpr, this.visibleGhosts(), this.painter, (l) => this.classOf(l));
    } else {
      paintOverlay(ctx, {
        view,
        dpr: this.dpr,
        painter: this.painter,
        store: this.store,
        index: this.index,
        selection: this.selection,
        hover: this.hover,
        preview: this.preview,
        previewCids: this.previewCids,
        tool: this.tool,
        classOf: (l) => this.classOf(l),
        colorOf: (l) => this.colorOf(l),
        isVisible: (s) => this.isVisible(s),
        ghosts: this.assist.active ? this.visibleGhosts() : [],
        ghostSelection: this.assist.selected,
        ghostHover: this.assist.hover,
        acceptHint: this.keys.keys.accept_suggestions ? `${formatKey(this.keys.keys.accept_suggestions)} accepts` : "",
      });
    }
  }

  // ---- UI --------------------------------------------------------------------------------------
  private buildUi(): void {
    const m = this.model;
    this.schema = m.get("schema") ?? this.schema;
    this.keys = new KeyMap(m.get("keymap") ?? {});
    this.readonly = Boolean(m.get("readonly"));
    this.classes.clear();
    for (const c of this.schema.classes) this.classes.set(c.name, c);
    if (this.label === null || !this.classes.has(this.label)) this.label = this.schema.classes[0]?.name ?? null;

    const names = toolsFor(this.schema, this.readonly);
    const current = this.tool.name;
    this.tool.deactivate();
    this.tools = new Map(names.map((n) => [n, makeTool(this, n)]));
    // Select first: a click never draws by surprise, and a drag on empty canvas pans.
    this.tool = this.tools.get(current) ?? this.tools.get("select") ?? new SelectTool(this);
    this.tool.activate?.();
    this.setCursor(this.tool.name === "select" ? "default" : "crosshair");
    this.shell.build({
      schema: this.schema,
      keys: this.keys,
      readonly: this.readonly,
      guideHtml: m.get("guide_html") ?? "",
      tools: names,
      assist: this.assist.active,
      task: !this.readonly && m.get("task")?.can_submit === true,
      colorOf: (l) => this.colorOf(l),
    });
    this.countsVersion = -1;
    this.shapesStale = true;
    this.layers.invalidate("shapes", "overlay");
    this.queueUi();
  }

  queueUi(): void {
    if (this.uiQueued) return;
    this.uiQueued = true;
    queueMicrotask(() => {
      this.uiQueued = false;
      if (!this.disposed) this.updateUi();
    });
  }

  private updateUi(): void {
    if (this.countsVersion !== this.store.version) {
      this.countsVersion = this.store.version;
      this.counts = new Map();
      this.tagShapes = [];
      for (const s of this.store.all()) {
        if (s.geometry.kind === "tag") this.tagShapes.push(s);
        else if (s.label !== null) this.counts.set(s.label, (this.counts.get(s.label) ?? 0) + 1);
      }
    }
    const info = this.info;
    const error = this.model.get("error") || this.sync.errors.join("; ");
    const a = this.assist;
    const ghosts = a.active ? this.visibleGhosts() : [];
    this.shell.update({
      toolbar: {
        tool: this.tool.name,
        canUndo: this.store.canUndo,
        canRedo: this.store.canRedo,
        hasSelection: this.selection.size > 0,
        index: info.index,
        count: info.count,
        zoom: this.view.scale,
        brushSize: this.brushSize,
        busy: this.navigating,
        assist: { on: a.on, threshold: a.threshold, shown: ghosts.length, selected: a.selected.size },
      },
      label: this.label,
      hidden: this.hidden,
      counts: this.counts,
      tags: this.tagShapes,
      selected: selectedShapes(this),
      status: {
        file: info.file_name,
        position: info.count ? `${info.index + 1} / ${info.count}` : "",
        size: `${info.width} × ${info.height}${info.bitmap_width && info.bitmap_width < info.width ? ` (shown at ${info.bitmap_width} × ${info.bitmap_height})` : ""}`,
        zoom: formatZoom(this.view.scale),
        objects: this.store.size - this.tagShapes.length,
        ...saveState(this.sync, this.navigating, this.model.get("status") || (this.readonly ? "Read-only" : ""), error !== ""),
        error,
        assist: a.active ? assistText(a, ghosts.length, this.keys.keys.toggle_assist) : null,
      },
    });
  }

  // ---- debug handle ------------------------------------------------------------------------------
  state(): {
    tool: ToolName;
    label: string | null;
    zoom: number;
    selected: string[];
    shapes: ShapeDTO[];
    pending: number;
    frameTimes: number[];
    assist: { model: AssistModelInfo | null; on: boolean; threshold: number; status: string };
    ghosts: { cid: string; prediction_id: number; score: number; label: string | null; visible: boolean; selected: boolean }[];
    image: ReturnType<ImageLayer["describe"]>;
  } {
    const a = this.assist;
    const shown = new Set(this.visibleGhosts().map((g) => g.cid));
    return {
      tool: this.tool.name,
      label: this.label,
      zoom: this.view.scale,
      selected: [...this.selection],
      shapes: [...this.store.all()],
      pending: this.sync.pending,
      frameTimes: this.layers.frameTimes.values(),
      image: this.image.describe(),
      assist: { model: a.model, on: a.on, threshold: a.threshold, status: a.status },
      ghosts: a.suggestions.map((g) => ({
        cid: g.cid,
        prediction_id: g.predictionId,
        score: g.score,
        label: g.dto.label,
        visible: shown.has(g.cid),
        selected: a.selected.has(g.cid),
      })),
    };
  }

  get closed(): boolean {
    return this.disposed;
  }

  get busy(): boolean {
    return this.sync.pending > 0 || this.layers.scheduled || this.image.loading || this.image.refining || this.uiQueued;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.tool.deactivate();
    this.sync.close(); // sends what is queued; stays until its acks arrive
    this.disposer.dispose();
    this.layers.dispose();
    this.image.dispose();
    this.shell.dispose();
  }
}

/** The status bar's assist part: the model, Python's status, how many suggestions are shown. */
function assistText(a: Assist, shown: number, toggleKey: string | undefined): string {
  const name = a.model?.name ?? "model";
  if (!a.on) return `${name}: assist off${toggleKey ? ` (${formatKey(toggleKey)} turns it on)` : ""}`;
  const total = a.suggestions.length;
  const extra = total && /suggestion/.test(a.status) ? `, ${shown} shown at ≥ ${a.threshold.toFixed(2)}` : "";
  return `${name}: ${a.status || "no suggestions"}${extra}`;
}
