// The anywidget model as the exam grader uses it, typed against the Python traits (types.ts); the one place
// where the untyped anywidget boundary of the grader is described.
import type { WidgetModel } from "../model";
import type { GraderModelState, ToPython } from "./types";

export type GraderChange = `change:${keyof GraderModelState & string}`;

export interface GraderModel {
  get<K extends keyof GraderModelState>(key: K): GraderModelState[K];
  set<K extends keyof GraderModelState>(key: K, value: GraderModelState[K]): void;
  save_changes(): void;
  send(content: ToPython): void;
  on(event: GraderChange, callback: () => void): void;
  off(event: GraderChange, callback: () => void): void;
  on(event: "msg:custom", callback: (content: unknown, buffers?: readonly (DataView | ArrayBuffer)[]) => void): void;
  off(event: "msg:custom", callback: (content: unknown, buffers?: readonly (DataView | ArrayBuffer)[]) => void): void;
}

/**
 * The part of the Annotator's model the image layer's tiles use (tiles.ts: tile requests out, tiles back,
 * over the grader's comm). Nothing else of the Annotator's model is read through it.
 */
export function tileModel(model: GraderModel): WidgetModel {
  return {
    get: () => undefined,
    set: () => undefined,
    save_changes: () => undefined,
    send: (content: ToPython) => model.send(content),
    on: (event: string, callback: (content: unknown, buffers?: readonly (DataView | ArrayBuffer)[]) => void) => {
      if (event === "msg:custom") model.on("msg:custom", callback);
    },
    off: (event: string, callback: (content: unknown, buffers?: readonly (DataView | ArrayBuffer)[]) => void) => {
      if (event === "msg:custom") model.off("msg:custom", callback);
    },
  } as unknown as WidgetModel;
}
