// The debug handle of the exam grader, for browser tests only (see js/README.md): `window.__labnb.graders`
// lists one object per rendered grader view. It reads state and converts coordinates; it changes nothing.
import { registerIn, settled } from "../debug";
import type { ImageLayer } from "../imagelayer";
import type { GraderView } from "./panel";
import type { DrawnText } from "./scene";

export interface GraderState {
  asset_id: number | null;
  file_name: string | null;
  selected: string | null;
  /** The decision waiting for its confirmation. */
  armed: string | null;
  focus: boolean;
  gold: boolean;
  /** The texts drawn on the instances in the last frame: stars and "Missing" marks. */
  drawn: DrawnText[];
  /** Ids of the trainee's and the gold's instances drawn in the last frame. */
  shownTrainee: number[];
  shownGold: number[];
  zoom: number;
  busy: boolean;
  image: ReturnType<ImageLayer["describe"]>;
}

export interface GraderHandle {
  state(): GraderState;
  /** Page (client) position of image point (x, y). */
  toClient(x: number, y: number): [number, number];
  idle(): Promise<void>;
}

export function graderState(view: GraderView): GraderState {
  const item = view.item();
  const sc = view.scene;
  return {
    asset_id: item.asset_id ?? null,
    file_name: item.file_name ?? null,
    selected: view.selected,
    armed: view.armed,
    focus: view.focusOn,
    gold: view.goldShown,
    drawn: sc.drawn.map((d) => ({ ...d })),
    shownTrainee: [...sc.shownTrainee],
    shownGold: [...sc.shownGold],
    zoom: view.stage.view.scale,
    busy: view.busy,
    image: view.stage.image.describe(),
  };
}

export function registerGraderDebug(view: GraderView): () => void {
  return registerIn<GraderHandle>("graders", {
    state: () => graderState(view),
    toClient: (x, y) => view.stage.toClient(x, y),
    idle: () => settled(() => view.busy, 25), // a reply can queue UI work and a frame
  });
}
