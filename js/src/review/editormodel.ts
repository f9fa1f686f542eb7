// The Annotator's editor on the pass under review. The editor talks to an anywidget model with the
// Annotator's traits (`../model.ts`, `../types.ts`); this adapter gives it one made of the review panel's
// traits: the image (`image`, `preview`, `image_info`, which Python fills as for the Annotator) and the
// reviewed pass's `shapes` as they are, `readonly` unless the reviewer is fixing, the panel's editor keymap,
// and the schema with every class in the drawer's colour (the pass under review shows in its drawer's
// colour, as the other passes do). Edits, tile requests and the request for the full image go out through
// the panel's comm, and Python's acks and tiles come back through it; the Annotator's other traits (guide,
// model assist, queue position) are constants here: the panel shows its own guide and has no model.
import type { ChangeEvent, WidgetModel } from "../model";
import type { AssistModelInfo, Model, SchemaPayload, ShapeDTO, TaskInfo, ToPython } from "../types";
import { safeColor } from "../ui/dom";
import type { PanelChange, PanelModel } from "./model";

/** Which panel traits change each Annotator trait (none: a constant in the panel). */
const SOURCES: Record<keyof Model, PanelChange[]> = {
  image: ["change:image"],
  preview: ["change:preview"],
  image_info: ["change:image_info"],
  shapes: ["change:shapes"],
  schema: ["change:schema", "change:current"],
  keymap: ["change:editor_keymap"],
  readonly: ["change:fixing"],
  error: ["change:error"],
  guide_html: [],
  position: [],
  status: [],
  suggestions: [],
  assist_on: [],
  assist_threshold: [],
  assist_status: [],
  assist_model: [],
  task: [],
};

const NO_SUGGESTIONS: ShapeDTO[] = [];
const NO_MODEL: AssistModelInfo = {};
const NO_TASK: TaskInfo = {}; // the panel decides the review itself: no "Submit" in its editor

export function editorModel(panel: PanelModel): WidgetModel {
  let recolored: { from: SchemaPayload; color: string; schema: SchemaPayload } | null = null;
  const schema = (): SchemaPayload => {
    const from = panel.get("schema");
    const color = panel.get("current").color;
    if (!color) return from;
    if (recolored && recolored.from === from && recolored.color === color) return recolored.schema;
    const c = safeColor(color);
    recolored = { from, color, schema: { ...from, classes: from.classes.map((k) => ({ ...k, color: c })) } };
    return recolored.schema;
  };
  const value = (key: keyof Model): unknown => {
    switch (key) {
      case "image":
        return panel.get("image");
      case "preview":
        return panel.get("preview");
      case "image_info":
        return panel.get("image_info");
      case "shapes":
        return panel.get("shapes") ?? [];
      case "schema":
        return schema();
      case "keymap":
        return panel.get("editor_keymap") ?? {};
      case "readonly":
        return !panel.get("fixing");
      case "error":
        return panel.get("error") ?? "";
      case "position":
        return panel.get("image_info").index ?? 0;
      case "guide_html":
      case "status":
      case "assist_status":
        return "";
      case "suggestions":
        return NO_SUGGESTIONS;
      case "assist_on":
        return false;
      case "assist_threshold":
        return 0.3;
      case "assist_model":
        return NO_MODEL;
      case "task":
        return NO_TASK;
    }
  };
  const events = (event: ChangeEvent): PanelChange[] => SOURCES[event.slice("change:".length) as keyof Model] ?? [];
  return {
    get: <K extends keyof Model>(key: K): Model[K] => value(key) as Model[K],
    set: () => undefined, // queue position and assist settings: nothing of them in the panel
    save_changes: () => undefined,
    send: (content: ToPython) => {
      // edits, and the image as the Annotator's editor asks for it (tiles, the full image); no "submit_task"
      if (content.type === "edits" || content.type === "tiles" || content.type === "want_full") panel.send(content);
    },
    on(event: ChangeEvent | "msg:custom", callback: ((content: unknown) => void) | (() => void)): void {
      if (event === "msg:custom") panel.on("msg:custom", callback as (content: unknown) => void);
      else for (const e of events(event)) panel.on(e, callback as () => void);
    },
    off(event: ChangeEvent | "msg:custom", callback: ((content: unknown) => void) | (() => void)): void {
      if (event === "msg:custom") panel.off("msg:custom", callback as (content: unknown) => void);
      else for (const e of events(event)) panel.off(e, callback as () => void);
    },
  } as WidgetModel;
}
