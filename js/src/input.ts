// Pointer, wheel and keyboard routing. The stage gets pointer events (captured during a drag, so a
// drag that leaves the widget still ends), the root gets keys. Panning (middle button, Space+drag, or
// a drag the tool declines) is handled here; everything else goes to the current tool. Handler time is
// measured into the next frame's time (layers.measure).
import { handleKey, isTextInput } from "./actions";
import type { Disposer } from "./disposer";
import type { Editor } from "./editor";
import { releaseFocusOutside } from "./focus";
import type { Pointer } from "./tools/tool";

/** The attribute on the widget's root that makes JupyterLab skip its shortcuts (set in ui/shell.ts). */
const SUPPRESS = "data-lm-suppress-shortcuts";
const SCROLL_KEYS = new Set(["Home", "End", "PageUp", "PageDown"]);

/** JupyterLab's keys that still work while the annotator has focus: save (Ctrl/Cmd+S), the left side bar
 * (Ctrl/Cmd+B) and the command palette (Ctrl/Cmd+Shift+C). */
function passThrough(e: KeyboardEvent): boolean {
  const mod = (e.ctrlKey || e.metaKey) && !e.altKey;
  const k = e.key.toLowerCase();
  return mod && ((!e.shiftKey && (k === "s" || k === "b")) || (e.shiftKey && k === "c"));
}

interface Gesture {
  kind: "pan" | "tool";
  id: number;
  lastX: number;
  lastY: number;
  startX: number;
  startY: number;
  moved: boolean;
  /** A pan the tool asked for: released without moving, it is the tool's click. */
  clickable: boolean;
}

export function installInput(ed: Editor, d: Disposer): void {
  const stage = ed.stage;
  const root = ed.root;
  let gesture: Gesture | null = null;

  const pointerOf = (e: MouseEvent): Pointer => {
    const r = stage.getBoundingClientRect();
    const sx = e.clientX - r.left;
    const sy = e.clientY - r.top;
    return { sx, sy, x: ed.view.toImageX(sx), y: ed.view.toImageY(sy), shift: e.shiftKey, alt: e.altKey, ctrl: e.ctrlKey || e.metaKey };
  };

  const begin = (e: PointerEvent, kind: Gesture["kind"], clickable: boolean): void => {
    gesture = { kind, id: e.pointerId, lastX: e.clientX, lastY: e.clientY, startX: e.clientX, startY: e.clientY, moved: false, clickable };
    try {
      stage.setPointerCapture(e.pointerId);
    } catch {
      // The pointer may already be gone (a synthetic event); the drag then ends at pointerup anyway.
    }
    if (kind === "pan") ed.setPanning(true);
  };

  d.listen<PointerEvent>(stage, "pointerdown", (e) =>
    ed.layers.measure(() => {
      ed.clock.touch();
      ed.focus();
      if (gesture) return;
      const p = pointerOf(e);
      ed.lastPointer = p;
      if (e.button === 1 || (e.button === 0 && ed.spaceHeld)) begin(e, "pan", false);
      else if (e.button === 0) {
        const wants = ed.tool.down(p);
        begin(e, wants === "pan" ? "pan" : "tool", wants === "pan");
      } else return;
      e.preventDefault(); // no text selection or native drag while drawing
    }),
  );

  d.listen<PointerEvent>(stage, "pointermove", (e) =>
    ed.layers.measure(() => {
      ed.clock.touch();
      const p = pointerOf(e);
      ed.lastPointer = p;
      ed.showPointer(p);
      const g = gesture;
      if (g && g.id === e.pointerId && g.kind === "pan") {
        ed.view.panBy(e.clientX - g.lastX, e.clientY - g.lastY);
        g.lastX = e.clientX;
        g.lastY = e.clientY;
        if (Math.hypot(e.clientX - g.startX, e.clientY - g.startY) > 3) g.moved = true;
        ed.viewChanged();
        return;
      }
      ed.tool.move(p, g !== null && g.kind === "tool");
    }),
  );

  const end = (e: PointerEvent): void =>
    ed.layers.measure(() => {
      const g = gesture;
      if (!g || g.id !== e.pointerId) return;
      gesture = null;
      if (stage.hasPointerCapture(e.pointerId)) stage.releasePointerCapture(e.pointerId);
      const p = pointerOf(e);
      if (g.kind === "pan") {
        ed.setPanning(false);
        if (!g.moved && g.clickable) ed.tool.click?.(p);
      } else if (e.type === "pointercancel") ed.tool.cancel();
      else ed.tool.up(p);
    });
  d.listen<PointerEvent>(stage, "pointerup", end);
  d.listen<PointerEvent>(stage, "pointercancel", end);
  // Capture lost without a pointerup (the page took it, a dialog opened): end the gesture, drop its edit.
  d.listen<PointerEvent>(stage, "lostpointercapture", (e) => {
    if (gesture && gesture.id === e.pointerId) end(new PointerEvent("pointercancel", e));
  });

  d.listen<MouseEvent>(stage, "dblclick", (e) => ed.layers.measure(() => ed.tool.dblclick?.(pointerOf(e))));
  d.listen<PointerEvent>(stage, "pointerleave", () => {
    if (gesture) return;
    ed.tool.leave?.();
    ed.showPointer(null);
  });
  d.listen<MouseEvent>(stage, "contextmenu", (e) => e.preventDefault());

  d.listen<WheelEvent>(
    stage,
    "wheel",
    (e) =>
      ed.layers.measure(() => {
        e.preventDefault(); // the wheel zooms the image, it does not scroll the notebook
        ed.clock.touch();
        const p = pointerOf(e);
        const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaMode === 2 ? e.deltaY * 400 : e.deltaY;
        const factor = Math.min(2, Math.max(0.5, Math.exp(-dy * 0.002)));
        ed.view.zoomAt(factor, p.sx, p.sy);
        ed.viewChanged();
        ed.tool.move(pointerOf(e), gesture?.kind === "tool");
      }),
    { passive: false },
  );

  d.listen<KeyboardEvent>(root, "keydown", (e) =>
    ed.layers.measure(() => {
      if (handleKey(ed, e)) {
        e.preventDefault();
        e.stopPropagation();
      } else if (!isTextInput(e.target) && !e.ctrlKey && !e.metaKey && !e.altKey && e.key !== "Tab") {
        // A plain key while the annotator has focus is never meant for the notebook ("a" would insert
        // a cell). The root also carries data-lm-suppress-shortcuts, which stops JupyterLab's own
        // capture-phase shortcut handler; this covers other listeners.
        e.stopPropagation();
        // Home, End and the page keys would scroll the notebook and take the image out of view.
        if (SCROLL_KEYS.has(e.key)) e.preventDefault();
      }
    }),
  );
  // data-lm-suppress-shortcuts turns off every JupyterLab shortcut, also the few a user expects to keep
  // while labelling (PASS_THROUGH). JupyterLab matches in the document's capture phase; the window's
  // capture phase comes first, so for those, unless the keymap uses them, the attribute is lifted for this
  // one event. Running cells (Shift/Ctrl/Alt+Enter) stays off: it would re-run the annotator's own cell.
  d.listen<KeyboardEvent>(
    window,
    "keydown",
    (e) => {
      if (!(e.target instanceof Node) || !root.contains(e.target) || isTextInput(e.target)) return;
      if (!passThrough(e) || ed.keys.match(e)) return;
      root.removeAttribute(SUPPRESS);
      setTimeout(() => root.setAttribute(SUPPRESS, "true"), 0);
    },
    { capture: true },
  );
  d.listen<KeyboardEvent>(root, "keyup", (e) => {
    if (e.key === " ") {
      ed.setSpace(false);
      e.stopPropagation();
    }
  });
  releaseFocusOutside(root, d); // a press outside (the cell's prompt) gives the keyboard back to the notebook
  d.listen<FocusEvent>(root, "focusout", (e) => {
    if (!(e.relatedTarget instanceof Node) || !root.contains(e.relatedTarget)) ed.setSpace(false);
  });
}
