// The anywidget model as the Annotator uses it, typed against the Python traits (types.ts). This is the
// one place where the untyped anywidget boundary is described; everything else sees `WidgetModel`.
import type { Model, ToPython } from "./types";

export type ChangeEvent = `change:${keyof Model & string}`;

export interface WidgetModel {
  get<K extends keyof Model>(key: K): Model[K];
  set<K extends keyof Model>(key: K, value: Model[K]): void;
  save_changes(): void;
  send(content: ToPython): void;
  on(event: ChangeEvent, callback: () => void): void;
  off(event: ChangeEvent, callback: () => void): void;
  // Custom messages come from Python, so their content is checked before use (sync.ts). Binary buffers
  // (tiles.ts) come as DataViews or ArrayBuffers, depending on the front end.
  on(event: "msg:custom", callback: (content: unknown, buffers?: readonly (DataView | ArrayBuffer)[]) => void): void;
  off(event: "msg:custom", callback: (content: unknown, buffers?: readonly (DataView | ArrayBuffer)[]) => void): void;
}
