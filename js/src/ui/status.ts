// The status bar: file name, image size, zoom, the pointer's image coordinates, object count, save
// state, model assist's state (with a model only), and the last error. Hooks: `data-testid="status"`,
// `data-testid="assist-status"` and `data-testid="error"`.
import { h, setHidden, setText } from "./dom";

export interface StatusState {
  file: string;
  position: string;
  size: string;
  zoom: string;
  objects: number;
  save: string;
  saveKind: "saved" | "saving" | "warn" | "";
  error: string;
  /** Model assist's state in words; null without a model. */
  assist: string | null;
}

export class StatusBar {
  readonly el: HTMLElement;
  private readonly file = h("span", { class: "lnb-status-file" });
  private readonly position = h("span", { class: "lnb-status-item" });
  private readonly size = h("span", { class: "lnb-status-item" });
  private readonly zoom = h("span", { class: "lnb-status-item" });
  private readonly objects = h("span", { class: "lnb-status-item" });
  private readonly save = h("span", { class: "lnb-status-save", role: "status", "aria-live": "polite" });
  private readonly pointer = h("span", { class: "lnb-status-pointer" });
  private readonly assist = h("span", { class: "lnb-status-assist", "data-testid": "assist-status", hidden: true });
  private readonly error = h("span", { class: "lnb-status-error", "data-testid": "error", role: "alert" });

  constructor() {
    this.el = h(
      "div",
      { class: "lnb-statusbar" },
      h("span", { class: "lnb-status-main", "data-testid": "status" }, this.file, this.position, this.size, this.zoom, this.objects, this.save),
      this.assist,
      this.pointer,
      this.error,
    );
  }

  update(s: StatusState): void {
    setText(this.file, s.file);
    this.file.title = s.file;
    setText(this.position, s.position);
    setText(this.size, s.size);
    setText(this.zoom, s.zoom);
    setText(this.objects, `${s.objects} object${s.objects === 1 ? "" : "s"}`);
    setText(this.save, s.save);
    this.save.dataset["state"] = s.saveKind;
    setText(this.error, s.error);
    setHidden(this.assist, s.assist === null);
    setText(this.assist, s.assist ?? "");
    this.assist.title = s.assist ?? "";
  }

  setPointer(text: string): void {
    setText(this.pointer, text);
  }
}

/** The save state in words, from the edits on their way and Python's own status. */
export function saveState(
  sync: { pending: number; waiting: boolean; saved: number },
  navigating: boolean,
  pythonStatus: string,
  refused: boolean,
): { save: string; saveKind: StatusState["saveKind"] } {
  const edits = `${sync.pending} edit${sync.pending === 1 ? "" : "s"}`;
  if (sync.waiting) return { save: `Waiting for the kernel (${edits} unsaved)`, saveKind: "warn" };
  if (sync.pending) return { save: `Saving ${edits}…`, saveKind: "saving" };
  if (navigating) return { save: "Loading…", saveKind: "saving" };
  if (pythonStatus) return { save: pythonStatus, saveKind: refused ? "warn" : "saved" };
  return sync.saved ? { save: "All changes saved", saveKind: "saved" } : { save: "", saveKind: "" };
}
