// What every tool sees of the editor, and what the editor asks of every tool. Tools turn pointer
// gestures into commands on the store; the editor routes events, pans and zooms, and draws.
import type { MaskGrid } from "../mask";
import type { ShapePainter } from "../render";
import type { Store } from "../store";
import type { Action, ClassDef, Geometry, ImageInfo, ShapeDTO } from "../types";
import type { Rect, Viewport } from "../view";

export type ToolName = "select" | "box" | "polygon" | "keypoints" | "mask" | "eraser";

export interface Pointer {
  /** Full-resolution image coordinates (not clamped to the image). */
  x: number;
  y: number;
  /** Stage coordinates in CSS px. */
  sx: number;
  sy: number;
  shift: boolean;
  alt: boolean;
  ctrl: boolean;
}

/** A shape drawn on the overlay instead of the shapes layer while a gesture edits it. */
export interface PreviewItem {
  shape: ShapeDTO;
  /** Offset of a mask being dragged (its pixels move when the drag ends). */
  dx: number;
  dy: number;
  /** Left off the shapes layer but drawn by the tool itself (a mask being painted). */
  hidden?: boolean;
}

export interface EditorApi {
  readonly view: Viewport;
  readonly store: Store;
  readonly painter: ShapePainter;
  readonly grid: MaskGrid;
  readonly info: ImageInfo;
  readonly dpr: number;
  readonly label: string | null;
  /** Shapes can be looked at and selected, not changed. */
  readonly readonly: boolean;
  readonly selection: ReadonlySet<string>;
  brushSize: number;
  select(cids: Iterable<string>, mode?: "replace" | "add" | "toggle"): void;
  classOf(label: string | null): ClassDef | undefined;
  colorOf(label: string | null): string;
  /** The visible shape under an image point (the smallest when several overlap). */
  shapeAt(x: number, y: number): ShapeDTO | null;
  /** Visible shapes whose bounds lie inside an image rectangle. */
  shapesIn(r: Rect, contained: boolean): ShapeDTO[];
  setHover(cid: string | null): void;
  /** The shown suggestion (ghost) under an image point, when it is smaller than `than` (the shape hit there). */
  ghostAt(x: number, y: number, than: ShapeDTO | null): { cid: string } | null;
  /** Select a suggestion ("replace" also clears the shape selection), or clear the suggestions' (null). */
  selectGhost(cid: string | null, mode?: "replace" | "toggle"): void;
  setGhostHover(cid: string | null): void;
  setPreview(items: PreviewItem[] | null): void;
  commit(edits: readonly { cid: string; after: ShapeDTO | null }[]): void;
  newShape(label: string | null, geometry: Geometry): ShapeDTO;
  redrawOverlay(): void;
  setPrompt(text: string | null): void;
  message(text: string): void;
  setCursor(cursor: string): void;
  /** Image pixels per screen pixel: tolerances are given on screen. */
  px(screenPx: number): number;
}

export interface Tool {
  readonly name: ToolName;
  /** Left button pressed. "pan" lets the drag pan the view (then `click` if it did not move). */
  down(p: Pointer): "pan" | void;
  /** Pointer moved; `pressed` while the button that started a gesture is down. */
  move(p: Pointer, pressed: boolean): void;
  up(p: Pointer): void;
  /** A "pan" press released without moving. */
  click?(p: Pointer): void;
  dblclick?(p: Pointer): void;
  /** A keymap action while this tool is active; true when the tool used it. */
  action?(a: Action): boolean;
  /** Keys the keymap does not name (Backspace, N); true when used. */
  key?(e: KeyboardEvent): boolean;
  /** Escape: true when something was cancelled. */
  cancel(): boolean;
  /** Whatever the tool draws on the overlay (after selection and hover). */
  draw(ctx: CanvasRenderingContext2D): void;
  /** The tool became the current one (show its prompt). */
  activate?(): void;
  deactivate(): void;
  /** The pointer left the stage. */
  leave?(): void;
}
