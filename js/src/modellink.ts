// What Python sends, taken into the editor: a new image (bytes, info and its stored shapes arrive
// together), Python's refresh of the shown image's shapes after each saved batch (or from another view
// of the same widget), and the schema, keymap, guide and read-only flag.
import type { Disposer } from "./disposer";
import type { ChangeEvent, WidgetModel } from "./model";
import type { Store } from "./store";
import type { Sync } from "./sync";
import type { ImageInfo, ShapeDTO } from "./types";

export interface LinkHooks {
  /** Another image (or the first): show it with these shapes. */
  load(info: ImageInfo, image: DataView, shapes: ShapeDTO[]): void;
  /** Same image, new info (queue position and length). */
  info(info: ImageInfo): void;
  /** Schema, keymap, guide or read-only flag changed. */
  rebuild(): void;
  /** Status or error text changed. */
  refresh(): void;
  /** A drag is under way: wait before replacing shapes. */
  editing(): boolean;
}

export class ModelLink {
  private asset = -1;
  private size = "";
  private image: DataView | null = null;
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
    const pairs: [ChangeEvent, () => void][] = [
      ["change:image", onData],
      ["change:image_info", onData],
      ["change:shapes", onData],
      ["change:schema", onUi],
      ["change:keymap", onUi],
      ["change:readonly", onUi],
      ["change:guide_html", onUi],
      ["change:status", onText],
      ["change:error", onText],
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
    const size = `${full.width}x${full.height}`;
    if (full.asset_id !== this.asset || image !== this.image || size !== this.size) {
      this.asset = full.asset_id;
      this.image = image;
      this.size = size;
      const shapes = this.model.get("shapes") ?? [];
      this.applied = shapes;
      this.sync.know(shapes);
      this.hooks.load(full, image, shapes);
      return;
    }
    this.hooks.info(full);
    this.reconcile();
  }

  /**
   * Apply Python's shapes when nothing of ours is on its way: while edits are pending, the trait
   * predates them, and the refresh Python sends after their ack is the one to apply.
   */
  reconcile(): void {
    const shapes = this.model.get("shapes") ?? [];
    if (this.closed || shapes === this.applied || this.sync.pending > 0) return;
    if (this.hooks.editing()) {
      this.later(); // not under a drag
      return;
    }
    this.applied = shapes;
    this.sync.know(shapes);
    this.store.reconcile(shapes);
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
