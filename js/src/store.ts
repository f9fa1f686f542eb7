// The front-end document: the shown image's shapes by client id, in drawing order. Every edit is a
// command (a list of changes, each with its state before and after) applied at once, kept for
// undo/redo, and handed to sync.ts to reach Python. Shapes are immutable objects: an edit replaces the
// object, so caches keyed by a shape's geometry (paths, mask bitmaps) stay valid until it changes.
import { deepEqual } from "./geometry";
import type { ShapeDTO } from "./types";

export interface Change {
  cid: string;
  before: ShapeDTO | null;
  after: ShapeDTO | null;
  /** Drawing order of the shape, so an undone delete comes back at the same depth. */
  z: number;
}

export type Direction = "do" | "undo" | "redo";

const MAX_HISTORY = 500;

export function sameContent(a: ShapeDTO, b: ShapeDTO): boolean {
  return (
    a.label === b.label &&
    a.track_id === b.track_id &&
    (a.prediction_id ?? null) === (b.prediction_id ?? null) &&
    deepEqual(a.attributes, b.attributes) &&
    (a.geometry === b.geometry || deepEqual(a.geometry, b.geometry))
  );
}

export class Store {
  private readonly shapes = new Map<string, ShapeDTO>();
  private readonly zs = new Map<string, number>();
  private sorted: ShapeDTO[] | null = null;
  private nextZ = 0;
  private readonly undoStack: Change[][] = [];
  private readonly redoStack: Change[][] = [];
  /** Increases on every change of content; caches compare it. */
  version = 0;
  /** Shapes changed (their client ids), or null when everything did. */
  onChange: (cids: readonly string[] | null) => void = () => undefined;
  /** A command was applied: what sync.ts sends, with the active time it took. */
  onEdit: (changes: readonly Change[], durationMs: number, direction: Direction) => void = () => undefined;

  constructor(
    private readonly takeDuration: () => number,
    /** Store ids Python has acknowledged, by client id (sync.ts knows them). */
    private readonly idOf: (cid: string) => number | undefined,
  ) {}

  get(cid: string): ShapeDTO | undefined {
    return this.shapes.get(cid);
  }

  get size(): number {
    return this.shapes.size;
  }

  /** Shapes in drawing order (cached until the next change). */
  all(): readonly ShapeDTO[] {
    if (!this.sorted) {
      const cids = [...this.shapes.keys()].sort((a, b) => (this.zs.get(a) ?? 0) - (this.zs.get(b) ?? 0));
      this.sorted = cids.map((c) => this.shapes.get(c) as ShapeDTO);
    }
    return this.sorted;
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /** A new image: its stored shapes, and no history. */
  reset(dtos: readonly ShapeDTO[]): void {
    this.shapes.clear();
    this.zs.clear();
    this.sorted = null;
    this.nextZ = 0;
    for (const d of dtos) this.put(d.cid, d, this.nextZ++);
    this.undoStack.length = 0;
    this.redoStack.length = 0;
    this.touched();
    this.onChange(null);
  }

  /**
   * Python's view of the same image (after a save, or from another view of the widget). Shapes equal
   * to ours keep their object, so nothing is redrawn for them. Returns the client ids that changed.
   */
  reconcile(dtos: readonly ShapeDTO[]): string[] {
    const changed: string[] = [];
    const seen = new Set<string>();
    dtos.forEach((d, i) => {
      seen.add(d.cid);
      const mine = this.shapes.get(d.cid);
      if (mine && sameContent(mine, d)) {
        if (mine.id !== d.id) this.shapes.set(d.cid, { ...mine, id: d.id });
      } else {
        this.shapes.set(d.cid, d);
        changed.push(d.cid);
      }
      this.zs.set(d.cid, i);
    });
    for (const cid of [...this.shapes.keys()]) {
      if (seen.has(cid)) continue;
      this.shapes.delete(cid);
      this.zs.delete(cid);
      changed.push(cid);
    }
    this.nextZ = Math.max(this.nextZ, dtos.length);
    this.sorted = null;
    if (changed.length) {
      this.touched();
      this.onChange(changed);
    }
    return changed;
  }

  /** Apply one command: each entry sets a shape (null deletes it). No-op entries are dropped. */
  commit(edits: readonly { cid: string; after: ShapeDTO | null }[]): void {
    const changes: Change[] = [];
    for (const { cid, after } of edits) {
      const before = this.shapes.get(cid) ?? null;
      if (before === null && after === null) continue;
      if (before && after && sameContent(before, after)) continue;
      changes.push({ cid, before, after, z: this.zs.get(cid) ?? this.nextZ++ });
    }
    if (!changes.length) return;
    this.applyChanges(changes, "forward");
    this.undoStack.push(changes);
    if (this.undoStack.length > MAX_HISTORY) this.undoStack.shift();
    this.redoStack.length = 0;
    this.onEdit(changes, this.takeDuration(), "do");
  }

  undo(): boolean {
    const changes = this.undoStack.pop();
    if (!changes) return false;
    this.applyChanges(changes, "backward");
    this.redoStack.push(changes);
    const inverse = changes
      .slice()
      .reverse()
      .map((c) => ({ cid: c.cid, before: c.after, after: c.before, z: c.z }));
    this.onEdit(inverse, this.takeDuration(), "undo");
    return true;
  }

  redo(): boolean {
    const changes = this.redoStack.pop();
    if (!changes) return false;
    this.applyChanges(changes, "forward");
    this.undoStack.push(changes);
    this.onEdit(changes, this.takeDuration(), "redo");
    return true;
  }

  /** Python acknowledged a create: record the store id without a redraw or a history entry. */
  patchId(cid: string, id: number): void {
    const s = this.shapes.get(cid);
    if (s && s.id !== id) {
      this.shapes.set(cid, { ...s, id });
      this.sorted = null;
    }
  }

  private applyChanges(changes: readonly Change[], dir: "forward" | "backward"): void {
    const list = dir === "forward" ? changes : changes.slice().reverse();
    for (const c of list) {
      const target = dir === "forward" ? c.after : c.before;
      if (target) this.put(c.cid, target, c.z);
      else {
        this.shapes.delete(c.cid);
        this.zs.delete(c.cid);
      }
    }
    this.sorted = null;
    this.touched();
    this.onChange(changes.map((c) => c.cid));
  }

  private put(cid: string, shape: ShapeDTO, z: number): void {
    // Keep the id Python gave, also when an undo brings back a copy made before the ack arrived.
    const current = this.shapes.get(cid);
    const id = shape.id ?? current?.id ?? this.idOf(cid) ?? null;
    this.shapes.set(cid, id === shape.id ? shape : { ...shape, id });
    this.zs.set(cid, z);
    if (z >= this.nextZ) this.nextZ = z + 1;
    this.sorted = null;
  }

  private touched(): void {
    this.version++;
  }
}
