// How the panel shares its width: the image gets most of it. The queue folds into a narrow rail (Q, or its
// « button) and the editor's class list folds likewise (C, or its own button); full width (Z) folds both
// away, so the image, and the side-by-side panes, span the panel. Unless the reviewer chose, the queue is
// unfolded only in a panel wide enough for it and a large image (WIDE_PX), as a notebook output is on a
// wide screen; in a typical JupyterLab output it starts folded. Choices are remembered (prefs.ts).
import type { Disposer } from "../disposer";
import type { Shell } from "../ui/shell";
import { loadPrefs, savePrefs, type ReviewPrefs } from "./prefs";

/** A panel at least this wide (CSS px) unfolds the queue by default: 240 px of queue and 190 px of class
 * list leave the image over 60 % of it. */
export const WIDE_PX = 1100;

export class PanelLayout {
  readonly prefs: ReviewPrefs = loadPrefs();
  private wide = true;

  constructor(
    private readonly root: HTMLElement,
    private readonly shell: Shell,
    /** The layout changed (the panel updates its buttons; the editor's stage refits by itself). */
    private readonly changed: () => void,
    disposer: Disposer,
  ) {
    const ro = new ResizeObserver(() => {
      const w = root.clientWidth;
      if (!w) return; // not laid out (a hidden output)
      const wide = w >= WIDE_PX;
      if (wide === this.wide) return;
      this.wide = wide;
      this.apply();
    });
    ro.observe(root);
    disposer.add(() => ro.disconnect());
    shell.onSide = (open) => {
      if (open && this.prefs.fullWidth) this.prefs.fullWidth = false;
      this.prefs.classes = open;
      this.save();
    };
    this.apply(false);
  }

  get queueOpen(): boolean {
    return !this.prefs.fullWidth && (this.prefs.queue ?? this.wide);
  }

  get classesOpen(): boolean {
    return !this.prefs.fullWidth && this.prefs.classes;
  }

  get fullWidth(): boolean {
    return this.prefs.fullWidth;
  }

  get labels(): boolean {
    return this.prefs.labels;
  }

  toggleQueue(): void {
    const open = !this.queueOpen;
    if (open) this.prefs.fullWidth = false;
    this.prefs.queue = open;
    this.save();
  }

  toggleClasses(): void {
    const open = !this.classesOpen;
    if (open) this.prefs.fullWidth = false;
    this.prefs.classes = open;
    this.save();
  }

  toggleFullWidth(): void {
    this.prefs.fullWidth = !this.prefs.fullWidth;
    this.save();
  }

  toggleLabels(): void {
    this.prefs.labels = !this.prefs.labels;
    this.save();
  }

  private save(): void {
    savePrefs(this.prefs);
    this.apply();
  }

  private apply(notify = true): void {
    this.root.classList.toggle("lrv-queue-folded", !this.queueOpen);
    this.root.classList.toggle("lrv-full", this.prefs.fullWidth);
    if (this.shell.sideOpen !== this.classesOpen) this.shell.setSideOpen(this.classesOpen);
    if (notify) this.changed();
  }
}
