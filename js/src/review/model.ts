// The anywidget model as the review panel uses it, typed against the Python traits (types.ts); the one place
// where the untyped anywidget boundary of the panel is described.
import type { ReviewModel, ToPython } from "./types";

export type PanelChange = `change:${keyof ReviewModel & string}`;

export interface PanelModel {
  get<K extends keyof ReviewModel>(key: K): ReviewModel[K];
  set<K extends keyof ReviewModel>(key: K, value: ReviewModel[K]): void;
  save_changes(): void;
  send(content: ToPython): void;
  on(event: PanelChange, callback: () => void): void;
  off(event: PanelChange, callback: () => void): void;
  on(event: "msg:custom", callback: (content: unknown) => void): void;
  off(event: "msg:custom", callback: (content: unknown) => void): void;
}
