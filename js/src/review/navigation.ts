// Which item is open, and whether the queue changed. The arrows and the queue's rows ask for an item and the
// panel opens (claims) the last one asked for: arrows pressed while an item opens move the target, one open
// request at a time. Every `poll_seconds` while on screen the panel asks Python whether the queue changed
// (no reply unless it did), so passes handed in meanwhile show up, and open when nothing was open.
import type { Requests } from "../requests";
import type { PanelModel } from "./model";
import type { Request } from "./types";

/** The shortest poll interval honoured (a typo of 0.01 s must not flood the kernel). */
const MIN_POLL_S = 0.5;

/** What navigation needs of the panel. */
export interface NavigationHost {
  readonly model: PanelModel;
  readonly root: HTMLElement;
  readonly requests: Requests<Request>;
  readonly fixing: boolean;
  /** A decision is being made (no poll meanwhile). */
  readonly deciding: boolean;
  readonly closed: boolean;
  currentId(): number | null;
  note(text: string): void;
  queueUi(): void;
}

export class Navigation {
  /** The item the arrows asked for, while it is being opened. */
  target: number | null = null;
  /** An item is being opened. */
  navigating = false;
  private pollTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly host: NavigationHost) {}

  /** Open the item `delta` rows away from the open one (or the one being opened). */
  move(delta: number): void {
    const rows = this.host.model.get("queue") ?? [];
    if (!rows.length) {
      this.host.note("The queue is empty");
      return;
    }
    const from = this.target ?? this.host.currentId();
    const i = rows.findIndex((r) => r.review_task === from);
    const j = i < 0 ? (delta > 0 ? 0 : rows.length - 1) : i + delta;
    const row = rows[j];
    if (!row) {
      this.host.note(delta > 0 ? "This is the last item" : "This is the first item");
      return;
    }
    this.go(row.review_task);
  }

  /** Open (claim) a review task; with one being opened, this one is opened next. */
  go(reviewTask: number): void {
    if (this.host.fixing && reviewTask !== this.host.currentId()) {
      this.host.note("Finish the fix first: F or A accepts it as fixed, R sends it back");
      return;
    }
    this.target = reviewTask;
    this.host.queueUi();
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.navigating) return;
    this.navigating = true;
    const host = this.host;
    try {
      // Bounded: every round opens the latest target, and a reviewer presses keys far slower than that.
      for (let round = 0; round < 50 && this.target !== null && this.target !== host.currentId() && !host.closed; round++) {
        const target = this.target;
        const r = await host.requests.send({ type: "open", review_task: target });
        if (!r.ok && this.target === target) break;
      }
    } finally {
      this.target = null;
      this.navigating = false;
      host.queueUi();
    }
  }

  /** Requests in flight and navigation done. */
  async settled(): Promise<void> {
    while ((this.host.requests.pending > 0 || this.navigating) && !this.host.closed) await new Promise((r) => setTimeout(r, 20));
  }

  /** (Re)start asking Python whether the queue changed, every `poll_seconds` (0: never). */
  pullPoll(): void {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    const s = Number(this.host.model.get("poll_seconds"));
    if (!Number.isFinite(s) || s <= 0) return;
    this.pollTimer = setInterval(() => this.poll(), Math.max(MIN_POLL_S, s) * 1000);
  }

  private poll(): void {
    const host = this.host;
    // Only while someone can see it, and never across a request: the reply would race the poll's changes.
    if (host.closed || !host.root.isConnected || document.visibilityState === "hidden") return;
    if (host.requests.pending > 0 || this.navigating || host.deciding) return;
    try {
      host.model.send({ type: "poll" });
    } catch {
      // the kernel is gone: the next request says so
    }
  }

  dispose(): void {
    clearInterval(this.pollTimer);
  }
}
