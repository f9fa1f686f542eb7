// The Annotator's editor: one per rendered view. It owns the state (image, tool, class, selection,
// hidden classes), connects the model, the store, sync and the layers, and implements the editor side of
// the tools' API. Around it: editorui.ts (what the panels show, and the schema read into classes and
// tools), editorpaint.ts (what each layer draws), editorassist.ts (model suggestions in the view),
// ui/shell.ts (the DOM outside the canvases), input.ts (pointer and keys), actions.ts (document actions),
// overlay.ts and render.ts (drawing), debug.ts (what tests read).
import { ActivityClock } from "./activity";
import { Assist, type Ghost } from "./assist";
import { Disposer } from "./disposer";
import { HitIndex } from "./hitindex";
import { reindex, shapeAt, shapesIn } from "./hittest";
import { ImageLayer } from "./imagelayer";
import { isTiled, TileSet } from "./tiles";
import { installInput } from "./input";
import { ghostsChanged, ghostUnder, hoverGhost, pickGhost, pullAssist } from "./editorassist";
import { paintLayer } from "./editorpaint";
import { buildUi, createShell, ShapeCounts, updateUi } from "./editorui";
import { KeyMap } from "./keys";
import { LayerStack } from "./layers";
import { MaskGrid } from "./mask";
import type { WidgetModel } from "./model";
import { ModelLink } from "./modellink";
import { ShapePainter, UNKNOWN_COLOR } from "./render";
import { Store } from "./store";
import { Sync } from "./sync";
import { forgetPaintedMask } from "./tools/mask";
import { SelectTool } from "./tools/select";
import type { EditorApi, Pointer, PreviewItem, Tool, ToolName } from "./tools/tool";
import type { ClassDef, Geometry, ImageInfo, SchemaPayload, ShapeDTO } from "./types";
import { safeColor } from "./ui/dom";
import type { Shell } from "./ui/shell";
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
  readonly image: ImageLayer;
  private readonly link: ModelLink;
  info: ImageInfo = EMPTY_INFO;
  grid = new MaskGrid(1, 1, 1);
  painter = new ShapePainter(this.grid);
  schema: SchemaPayload = { classes: [], tools: [], tags: [], attributes: [] };
  keys = new KeyMap({});
  readonly = false;
  /** The schema's classes by name, and the tools it enables (editorui.ts builds both). */
  readonly classes = new Map<string, ClassDef>();
  tools = new Map<ToolName, Tool>();
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
  /** The hovered shape (`setHover`), and the shapes a gesture edits, drawn on the overlay (`setPreview`). */
  hover: string | null = null;
  preview: PreviewItem[] | null = null;
  readonly previewCids = new Set<string>();
  /** The shapes layer's batches must be rebuilt before it is drawn next. */
  shapesStale = true;
  private uiQueued = false;
  readonly shapeCounts = new ShapeCounts();
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
  /** A task hand-in is waiting for the edits to be saved (actions.ts `submitTask`). */
  submitting = false;

  constructor(
    readonly model: WidgetModel,
    el: HTMLElement,
  ) {
    this.shell = createShell(this);
    this.layers = new LayerStack(this.stage, this.view, (layer, ctx, view) => paintLayer(this, layer, ctx, view));
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
        assist: () => pullAssist(this),
        editing: () => this.preview !== null,
      },
      this.disposer,
    );
    const ro = new ResizeObserver(() => this.resized());
    ro.observe(this.stage);
    this.disposer.add(() => ro.disconnect());
    this.link.pull(); // starts decoding the image before the panels are built
    pullAssist(this, false);
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

  // ---- a new image ---------------------------------------------------------------------------
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

  // ---- suggestions (editorassist.ts) ------------------------------------------------------------
  ghostAt(x: number, y: number, than: ShapeDTO | null): Ghost | null {
    return ghostUnder(this, x, y, than);
  }

  selectGhost(cid: string | null, mode: "replace" | "toggle" = "replace"): void {
    pickGhost(this, cid, mode);
  }

  setGhostHover(cid: string | null): void {
    hoverGhost(this, cid);
  }

  // ---- shapes ----------------------------------------------------------------------------------
  private shapesChanged(cids: readonly string[] | null): void {
    reindex(this.index, this.store, cids);
    for (const cid of cids ?? []) if (!this.store.get(cid)) this.selection.delete(cid);
    if (this.hover && !this.store.get(this.hover)) this.hover = null;
    this.shapesStale = true;
    this.layers.invalidate("shapes", "overlay");
    if (this.assist.active) ghostsChanged(this); // a committed suggestion stops showing, an undone one returns
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
    if (this.assist.active) ghostsChanged(this);
    this.queueUi();
  }

  // ---- UI (editorui.ts) ------------------------------------------------------------------------
  buildUi(): void {
    buildUi(this);
  }

  queueUi(): void {
    if (this.uiQueued) return;
    this.uiQueued = true;
    queueMicrotask(() => {
      this.uiQueued = false;
      if (!this.disposed) updateUi(this);
    });
  }

  // ---- life ------------------------------------------------------------------------------------
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
