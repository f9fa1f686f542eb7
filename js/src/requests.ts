// A widget's requests to Python and Python's replies (the review panel's open, filter and decisions; the exam
// grader's ratings, marks and saves). Each request carries a sequence number; Python updates the traits,
// then replies with it, so the widget knows when a request is done and whether it was refused (the reason
// is the `error` trait). A request the kernel cannot take is answered at once, refused, and the widget's
// note says why.

/** Python -> JS: a request was handled (the traits are already updated), or refused with `error`. */
export interface ReplyMessage {
  type: "reply";
  seq: number;
  ok: boolean;
  error: string;
}

function isReply(content: unknown): content is ReplyMessage {
  if (typeof content !== "object" || content === null) return false;
  const c = content as Record<string, unknown>;
  return c["type"] === "reply" && typeof c["seq"] === "number";
}

export class Requests<R extends { type: string }> {
  private seq = Math.floor(Math.random() * 2 ** 30) * 1024;
  private readonly waiting = new Map<number, (r: ReplyMessage) => void>();

  constructor(
    /** Sends one request over the widget's comm. */
    private readonly post: (msg: R & { seq: number }) => void,
    /** Says why a request could not be sent (the widget's note). */
    private readonly note: (text: string) => void,
    /** A request was sent or answered (the widget updates its buttons). */
    private readonly changed: () => void,
  ) {}

  /** How many requests are waiting for their reply. */
  get pending(): number {
    return this.waiting.size;
  }

  send(msg: R): Promise<ReplyMessage> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.waiting.set(seq, resolve);
      try {
        this.post({ ...msg, seq });
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
