// An R-tree of shape bounds: hit-testing and rectangle selection among thousands of shapes look at the
// few whose bounds contain the point instead of looping over all of them.
import RBush from "rbush";
import type { Rect } from "./view";

interface Item extends Rect {
  cid: string;
}

export class HitIndex {
  private readonly tree = new RBush<Item>(16);
  private readonly items = new Map<string, Item>();

  /** Replace everything (bulk loading is much faster than inserting one by one). */
  reset(entries: Iterable<[string, Rect]>): void {
    this.tree.clear();
    this.items.clear();
    const list: Item[] = [];
    for (const [cid, r] of entries) {
      const item = { cid, minX: r.minX, minY: r.minY, maxX: r.maxX, maxY: r.maxY };
      list.push(item);
      this.items.set(cid, item);
    }
    this.tree.load(list);
  }

  set(cid: string, r: Rect | null): void {
    this.remove(cid);
    if (!r) return;
    const item = { cid, minX: r.minX, minY: r.minY, maxX: r.maxX, maxY: r.maxY };
    this.items.set(cid, item);
    this.tree.insert(item);
  }

  remove(cid: string): void {
    const old = this.items.get(cid);
    if (!old) return;
    this.tree.remove(old);
    this.items.delete(cid);
  }

  bounds(cid: string): Rect | undefined {
    return this.items.get(cid);
  }

  /** Client ids of the shapes whose bounds meet `r`. */
  search(r: Rect): string[] {
    return this.tree.search(r).map((i) => i.cid);
  }

  clear(): void {
    this.tree.clear();
    this.items.clear();
  }
}
