// Edits to Python. Finished edits queue here and leave debounced (300 ms after the last one, 500 ms at
// most after the first) as one EditsMessage; pointer moves never get here. One batch is in flight at a
// time: an update, delete or restore needs the store id that only the ack of its create brings, so a
// batch stops before such an edit and the next batch leaves as soon as the ack arrives. Every finished
// edit is sent as its own edit (one event in the store, with its active time), never merged away.
import type { WidgetModel } from "./model";
import { sameContent, type Change } from "./store";
import type { AckMessage, Edit, ShapeDTO } from "./types";

const DEBOUNCE_MS = 300;
const MAX_WAIT_MS = 500;
/** After this long without an ack the status says the kernel is not answering. */
const ACK_WARN_MS = 10_000;
/** Try again this long after sending failed. */
const RETRY_MS = 3000;
/** A closed view keeps listening this long for the acks of what it flushed on closing. */
const LINGER_MS = 30_000;

interface Pending {
  asset: number;
  op: Edit["op"];
  cid: string;
  shape: ShapeDTO | null;
  duration: number;
}

function isAck(content: unknown): content is AckMessage {
  if (typeof content !== "object" || content === null) return false;
  const c = content as Record<string, unknown>;
  return c["type"] === "ack" && typeof c["batch"] === "number" && Array.isArray(c["results"]);
}

/** A shape as sent to Python: without the read-only model and score, which Python takes from the store. */
function outgoing(s: ShapeDTO): ShapeDTO {
  const { model: _model, score: _score, ...rest } = s;
  return rest;
}

export class Sync {
  private queue: Pending[] = [];
  private inflight: { batch: number; edits: Pending[] } | null = null;
  private readonly ids = new Map<string, number>();
  /** What Python holds (or will hold once the queue is through) for each client id it has seen. */
  private readonly known = new Map<string, ShapeDTO>();
  private readonly failed = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private watchdog: ReturnType<typeof setTimeout> | undefined;
  private firstQueued = 0;
  private batchSeq: number;
  private waiters: (() => void)[] = [];
  private closed = false;
  /** No ack for a while: the kernel is busy or gone. */
  waiting = false;
  /** Messages of the edits Python refused in the last batch. */
  errors: string[] = [];
  /** Edits saved since the view opened. */
  saved = 0;
  onAck: (cid: string, id: number) => void = () => undefined;
  onState: () => void = () => undefined;
  private readonly onMessage = (content: unknown): void => this.handle(content);

  constructor(private readonly model: WidgetModel) {
    // Python broadcasts each ack to every view of the widget: batch numbers that differ per view let a
    // view recognise its own.
    this.batchSeq = Math.floor(Math.random() * 2 ** 30) * 1024;
    model.on("msg:custom", this.onMessage);
  }

  idOf(cid: string): number | undefined {
    return this.ids.get(cid);
  }

  /** Edits not yet acknowledged (queued or in flight). */
  get pending(): number {
    return this.queue.length + (this.inflight?.edits.length ?? 0);
  }

  get inFlight(): boolean {
    return this.inflight !== null;
  }

  /** Shapes as Python sent them: their ids and content are what the store has. */
  know(dtos: readonly ShapeDTO[]): void {
    for (const d of dtos) {
      if (d.id !== null) this.ids.set(d.cid, d.id);
      this.known.set(d.cid, d);
    }
  }

  /** Queue the edits of one applied command; its active time is shared among them. */
  record(asset: number, changes: readonly Change[], durationMs: number): void {
    const out: Omit<Pending, "duration">[] = [];
    for (const c of changes) {
      if (c.after && !c.before) {
        const had = this.known.get(c.cid);
        if (had) {
          out.push({ asset, op: "restore", cid: c.cid, shape: null });
          if (!sameContent(had, c.after)) out.push({ asset, op: "update", cid: c.cid, shape: c.after });
        } else out.push({ asset, op: "create", cid: c.cid, shape: c.after });
        this.known.set(c.cid, c.after);
      } else if (c.before && !c.after) {
        out.push({ asset, op: "delete", cid: c.cid, shape: null });
      } else if (c.after) {
        out.push({ asset, op: "update", cid: c.cid, shape: c.after });
        this.known.set(c.cid, c.after);
      }
    }
    let left = Math.max(0, Math.round(durationMs));
    const share = out.length ? Math.floor(left / out.length) : 0;
    out.forEach((p, i) => {
      const duration = i === out.length - 1 ? left : share;
      left -= duration;
      this.queue.push({ ...p, duration });
    });
    if (!out.length) return;
    const now = performance.now();
    if (!this.firstQueued) this.firstQueued = now;
    clearTimeout(this.timer);
    const delay = Math.max(0, Math.min(DEBOUNCE_MS, this.firstQueued + MAX_WAIT_MS - now));
    this.timer = setTimeout(() => this.flush(), delay);
    this.onState();
  }

  /** Send what can be sent now (the debounce is skipped). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.firstQueued = 0;
    if (this.inflight || !this.queue.length) return;
    const first = this.queue[0];
    if (!first) return;
    const asset = first.asset;
    const edits: Edit[] = [];
    const taken: Pending[] = [];
    const creating = new Set<string>();
    while (this.queue.length) {
      const p = this.queue[0] as Pending;
      if (p.asset !== asset) break;
      const edit = this.toEdit(p, creating);
      if (edit === "wait") break;
      this.queue.shift();
      if (edit === "drop") continue;
      edits.push(edit);
      taken.push(p);
    }
    if (!edits.length) {
      this.settle();
      return;
    }
    const batch = ++this.batchSeq;
    try {
      this.model.send({ type: "edits", batch, asset_id: asset, edits });
    } catch (err) {
      // The comm is gone (kernel restarted): keep the edits, say so; nothing else can save them.
      console.error("labnb: could not send edits", err);
      this.queue.unshift(...taken);
      this.waiting = true;
      this.onState();
      this.timer = setTimeout(() => this.flush(), RETRY_MS);
      return;
    }
    this.inflight = { batch, edits: taken };
    this.watchdog = setTimeout(() => {
      this.waiting = true;
      this.onState();
    }, ACK_WARN_MS);
    this.onState();
  }

  private toEdit(p: Pending, creating: Set<string>): Edit | "wait" | "drop" {
    if (p.op === "create" && p.shape) {
      creating.add(p.cid);
      return { op: "create", cid: p.cid, shape: outgoing({ ...p.shape, id: null, cid: p.cid }), duration_ms: p.duration };
    }
    const id = this.ids.get(p.cid);
    if (id === undefined) {
      if (creating.has(p.cid)) return "wait"; // the id comes with this batch's ack
      // Its create was refused, so there is nothing in the store to change.
      return "drop";
    }
    if (p.op === "update" && p.shape) {
      return { op: "update", id, cid: p.cid, shape: outgoing({ ...p.shape, id, cid: p.cid }), duration_ms: p.duration };
    }
    if (p.op === "delete" || p.op === "restore") return { op: p.op, id, cid: p.cid, duration_ms: p.duration };
    return "drop";
  }

  private handle(content: unknown): void {
    if (!isAck(content) || !this.inflight || content.batch !== this.inflight.batch) return;
    clearTimeout(this.watchdog);
    this.waiting = false;
    const sent = this.inflight.edits;
    this.inflight = null;
    const errors: string[] = [];
    content.results.forEach((r, i) => {
      if (r.ok) {
        this.ids.set(r.cid, r.id);
        this.saved++;
        this.onAck(r.cid, r.id);
      } else {
        errors.push(r.message);
        if (sent[i]?.op === "create") this.failed.add(r.cid);
      }
    });
    this.errors = errors;
    if (this.queue.length) this.flush();
    this.settle();
  }

  private settle(): void {
    this.onState();
    if (this.pending === 0) {
      for (const w of this.waiters.splice(0)) w();
      if (this.closed) this.detach();
    }
  }

  /** Send everything and wait for the acks (false after `timeoutMs` without them). */
  drain(timeoutMs: number): Promise<boolean> {
    this.flush();
    if (this.pending === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  /** The view is closing: send what is left and stop once it is acknowledged (or after a while). */
  close(): void {
    this.onAck = () => undefined;
    this.onState = () => undefined;
    this.closed = true;
    this.flush();
    if (this.pending === 0) this.detach();
    else setTimeout(() => this.detach(), LINGER_MS);
  }

  private detach(): void {
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    this.model.off("msg:custom", this.onMessage);
  }
}
