// The panel's requests to Python (open, filter, refresh, the decisions) and Python's replies. Each request
// carries a sequence number; Python updates the traits, then replies with it, so the panel knows when a
// request is done and whether it was refused (the reason is the `error` trait). A request the kernel cannot
// take is answered at once, refused, and the panel's note says why.
import type { PanelModel } from "./model";
import type { ReplyMessage, Request } from "./types";

function isReply(content: unknown): content is ReplyMessage {
  if (typeof content !== "object" || content === null) return false;
  const c = content as Record<string, unknown>;
  return c["type"] === "reply" && typeof c["seq"] === "number";
}

export class Requests {
  private seq = Math.floor(Math.random() * 2 ** 30) * 1024;
  private readonly waiting = new Map<number, (r: ReplyMessage) => void>();

  constructor(
    private readonly model: PanelModel,
    /** Says why a request could not be sent (the panel's note). */
    private readonly note: (text: string) => void,
    /** A request was sent or answered (the panel updates its buttons). */
    private readonly changed: () => void,
  ) {}

  /** How many requests are waiting for their reply. */
  get pending(): number {
    return this.waiting.size;
  }

  send(msg: Request): Promise<ReplyMessage> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.waiting.set(seq, resolve);
      try {
        this.model.send({ ...msg, seq });
      } catch (err) {
        this.waiting.delete(seq);
        const error = `The kernel cannot be reached: ${String(err)}`;
        this.note(error);
        resolve({ type: "reply", seq, ok: false, error });
      }
      this.changed();
    });
  }

  /** A custom message from Python: a reply settles the request it names; anything else is not ours. */
  receive(content: unknown): void {
    if (!isReply(content)) return;
    const done = this.waiting.get(content.seq);
    if (!done) return;
    this.waiting.delete(content.seq);
    done(content);
    this.changed();
  }
}
