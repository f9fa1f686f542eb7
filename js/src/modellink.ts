// What Python sends, taken into the editor: a new image (bytes, info and its stored shapes arrive
// together), the stored form of the shapes each saved batch touched (in the ack, from this view or
// another view of the same widget), a refresh of the shapes set from Python, and the schema, keymap,
// guide and read-only flag, and the model-assist traits (suggestions and their settings).
//
// Python does not resend the `shapes` trait after a batch (700 kB at 5,000 objects), so the trait seen
// here goes stale: what Python holds is the trait plus the deltas since. That list is kept per image
// bytes (one DataView per image shown, the same object for every view of the widget: the preview's when
// there is one, since the full image arrives later), so a view shown later starts from it rather than
// from the stale trait.
//
// The same image with other bytes (its full image arriving after the preview, or a preview made late) is
// not a new image: the shapes and the view stay, and the image layer swaps the bitmap (`swap`).
import type { Disposer } from "./disposer";
import type { ChangeEvent, WidgetModel } from "./model";
import type { Store } from "./store";
import type { Sync } from "./sync";
import type { AckMessage, ImageInfo, ShapeDTO } from "./types";

/** Python's shapes for the image whose bytes are the key, when acks have changed them since the trait. */
const current = new WeakMap<DataView, ShapeDTO[]>();

/** `list` with the ack's stored shapes put in (replaced in place, or appended) and its removed ones taken out. */
export function applyDelta(list: readonly ShapeDTO[], upsert: readonly ShapeDTO[], removed: readonly string[]): ShapeDTO[] {
  const byCid = new Map(upsert.map((d) => [d.cid, d]));
  const gone = new Set(removed);
  const out: ShapeDTO[] = [];
  for (const d of list) {
    if (gone.has(d.cid)) continue;
    const u = byCid.get(d.cid);
    out.push(u ?? d);
    byCid.delete(d.cid);
  }
  for (const d of byCid.values()) out.push(d);
  return out;
}

function isDelta(content: unknown): content is AckMessage & { asset_id: number; upsert: ShapeDTO[]; removed: string[] } {
  if (typeof content !== "object" || content === null) return false;
  const c = content as Record<string, unknown>;
  return c["type"] === "ack" && typeof c["asset_id"] === "number" && Array.isArray(c["upsert"]) && Array.isArray(c["removed"]);
}

export interface LinkHooks {
  /** Another image (or the first): show it with these shapes. */
  load(info: ImageInfo, image: DataView, shapes: ShapeDTO[]): void;
  /** The same image, better bytes: its full image, or its preview. */
  swap(info: ImageInfo): void;
  /** Same image, new info (queue position and length). */
  info(info: ImageInfo): void;
  /** Schema, keymap, guide or read-only flag changed. */
  rebuild(): void;
  /** Status or error text changed. */
  refresh(): void;
  /** Suggestions, assist on/off, threshold, status or model changed. */
  assist(): void;
  /** A drag is under way: wait before replacing shapes. */
  editing(): boolean;
}

export class ModelLink {
  private asset = -1;
  private size = "";
  private shown: number | undefined = undefined;
  private image: DataView | null = null;
  private preview: DataView | null = null;
  /** The current image's key in `current`. */
  private key: DataView | null = null;
  /** The `shapes` trait value last applied to the store. */
  private applied: ShapeDTO[] | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(
    private readonly model: WidgetModel,
    private readonly store: Store,
    private readonly sync: Sync,
    private readonly hooks: LinkHooks,
    disposer: Disposer,
  ) {
    const onData = (): void => queueMicrotask(() => this.pull()); // image, info and shapes change together
    const onUi = (): void => hooks.rebuild();
    const onText = (): void => hooks.refresh();
    const onAssist = (): void => hooks.assist();
    const onShapes = (): void => {
      // Python set the trait itself (refresh(), an assignment): it supersedes the deltas.
      if (this.key) current.delete(this.key);
      onData();
    };
    const onMessage = (content: unknown): void => this.delta(content);
    model.on("msg:custom", onMessage);
    disposer.add(() => model.off("msg:custom", onMessage));
    const pairs: [ChangeEvent, () => void][] = [
      ["change:image", onData],
      ["change:preview", onData],
      ["change:image_info", onData],
      ["change:shapes", onShapes],
      ["change:schema", onUi],
      ["change:keymap", onUi],
      ["change:readonly", onUi],
      ["change:guide_html", onUi],
      ["change:task", onUi],
      ["change:status", onText],
      ["change:error", onText],
      ["change:suggestions", onAssist],
      ["change:assist_on", onAssist],
      ["change:assist_threshold", onAssist],
      ["change:assist_status", onAssist],
      ["change:assist_model", onAssist],
    ];
    for (const [ev, fn] of pairs) {
      model.on(ev, fn);
      disposer.add(() => model.off(ev, fn));
    }
    disposer.add(() => {
      this.closed = true;
      clearTimeout(this.timer);
    });
  }

  /** Take what Python sent: a new image, or new shapes for the shown one. */
  pull(): void {
    if (this.closed) return;
    const info = this.model.get("image_info") as Partial<ImageInfo> | undefined;
    if (!info || typeof info.asset_id !== "number" || !info.width || !info.height) return;
    const full = info as ImageInfo;
    const image = this.model.get("image");
    const preview = this.model.get("preview");
    const size = `${full.width}x${full.height}`;
    // a new showing: another asset, or Python says so (`shown`), or without `shown` other image bytes
    const again = full.shown !== undefined ? full.shown !== this.shown : image !== this.image;
    if (full.asset_id !== this.asset || size !== this.size || again) {
      this.asset = full.asset_id;
      this.shown = full.shown;
      this.image = image;
      this.preview = preview;
      this.key = preview && preview.byteLength ? preview : image;
      this.size = size;
      const shapes = this.python();
      this.applied = shapes;
      this.sync.know(shapes);
      this.hooks.load(full, image, shapes);
      return;
    }
    if (image !== this.image || preview !== this.preview) {
      this.image = image;
      this.preview = preview;
      this.hooks.swap(full);
    }
    this.hooks.info(full);
    this.reconcile();
  }

  /**
   * Apply Python's shapes when nothing of ours is on its way: while edits are pending, the trait
   * predates them, and the refresh Python sends after their ack is the one to apply.
   */
  reconcile(): void {
    const shapes = this.python();
    if (this.closed || shapes === this.applied || this.sync.pending > 0) return;
    if (this.hooks.editing()) {
      this.later(); // not under a drag
      return;
    }
    this.applied = shapes;
    this.sync.know(shapes);
    this.store.reconcile(shapes);
  }

  /** What Python holds for the shown image: the trait, with the acks' deltas since. */
  private python(): ShapeDTO[] {
    return (this.key && current.get(this.key)) || (this.model.get("shapes") ?? []);
  }

  /** An ack (of any view's batch): take its delta into Python's list, then into the store when idle. */
  private delta(content: unknown): void {
    if (this.closed || !isDelta(content) || !this.key || content.asset_id !== this.asset) return;
    // Every view gets the ack and the first one in has already applied it: applying it again changes nothing.
    current.set(this.key, applyDelta(this.python(), content.upsert, content.removed));
    // This view's own ack was handled by Sync first (registered before), so `pending` is up to date.
    queueMicrotask(() => this.reconcile());
  }

  /**
   * Check again shortly: after the last ack, Python's refresh follows at once, but a refresh skipped
   * while edits were pending is applied only if no newer one comes.
   */
  later(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.reconcile(), 250);
  }
}
