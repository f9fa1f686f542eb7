// The decisions on the open item: accept, fix (the pass becomes editable; pressed again, or accept, the fix
// is accepted) and reject, whose comment box opens first (Enter sends). A decision waits for the requests in
// flight and the navigation; on a fixed pass it first waits until the editor's edits are saved (a drawing
// in progress is not part of the fix). The reviewer's active time on the item goes with it.
import type { ActivityClock } from "../activity";
import type { Editor } from "../editor";
import { CommentBox } from "./comment";
import type { Requests } from "../requests";
import type { Request } from "./types";

/** How long a decision on a fixed pass waits for the editor's edits to be saved. */
const DRAIN_MS = 5000;

/** What the decisions need of the panel. */
export interface DecisionHost {
  readonly editor: Editor;
  readonly requests: Requests<Request>;
  readonly nav: { settled(): Promise<void> };
  readonly clock: ActivityClock;
  readonly fixing: boolean;
  currentId(): number | null;
  note(text: string): void;
  focus(): void;
  queueUi(): void;
}

/** Makes one of the panel's buttons (toolbar.ts `PanelToolbar.button`). */
export type ButtonMaker = (name: string, text: string, tip: string, onClick: () => void) => HTMLButtonElement;

export class Decisions {
  /** A decision is on its way (the decision buttons are disabled). */
  deciding = false;
  /** The reject comment box. */
  readonly comment: CommentBox;

  constructor(
    private readonly host: DecisionHost,
    button: ButtonMaker,
  ) {
    const send = button("send-reject", "Send back", "Reject with this comment (Enter)", () => void this.sendReject());
    const cancel = button("cancel-reject", "Cancel", "Keep the item (Escape)", () => this.closeComment());
    this.comment = new CommentBox(send, cancel, { send: () => void this.sendReject(), cancel: () => this.closeComment() });
  }

  async decide(kind: "accept" | "fix" | "reject", comment = ""): Promise<boolean> {
    if (this.deciding) return false;
    const host = this.host;
    this.deciding = true;
    host.queueUi();
    try {
      await host.nav.settled();
      const id = host.currentId();
      if (id === null) {
        host.note("No item is open");
        return false;
      }
      const starting = kind === "fix" && !host.fixing;
      if (host.fixing) {
        host.editor.tool.cancel(); // a drawing in progress is not part of the fix
        if (!(await host.editor.sync.drain(DRAIN_MS))) {
          host.note("The kernel has not confirmed the last edits yet; decide again in a moment");
          return false;
        }
      }
      const duration_ms = starting ? 0 : host.clock.take();
      const msg: Request = kind === "reject" ? { type: "reject", review_task: id, comment, duration_ms } : { type: kind, review_task: id, duration_ms };
      const r = await host.requests.send(msg);
      if (r.ok && !starting) host.focus();
      return r.ok;
    } finally {
      this.deciding = false;
      host.queueUi();
    }
  }

  openComment(): void {
    if (this.host.currentId() === null) {
      this.host.note("No item is open");
      return;
    }
    this.comment.show();
    this.host.queueUi();
  }

  closeComment(refocus = true): void {
    const wasOpen = this.comment.open;
    this.comment.hide();
    if (wasOpen && refocus) this.host.focus();
    this.host.queueUi();
  }

  private async sendReject(): Promise<void> {
    const ok = await this.decide("reject", this.comment.text);
    if (ok) this.closeComment();
    else if (this.comment.open) this.comment.input.focus();
  }
}
