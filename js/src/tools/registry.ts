// Which tools a schema enables, and building them.
import type { SchemaPayload } from "../types";
import { BoxTool } from "./box";
import { KeypointsTool } from "./keypoints";
import { MaskTool } from "./mask";
import { PolygonTool } from "./polygon";
import { SelectTool } from "./select";
import type { EditorApi, Tool, ToolName } from "./tool";

/** Select always; the drawing tools the schema lists (keypoints only with a keypoint class). */
export function toolsFor(schema: SchemaPayload, readonly: boolean): ToolName[] {
  if (readonly) return ["select"];
  const enabled = new Set(schema.tools);
  const names: ToolName[] = ["select"];
  if (enabled.has("box")) names.push("box");
  if (enabled.has("polygon")) names.push("polygon");
  if (enabled.has("keypoints") && schema.classes.some((c) => c.keypoints.length)) names.push("keypoints");
  if (enabled.has("mask")) names.push("mask", "eraser");
  return names;
}

export function makeTool(api: EditorApi, name: ToolName): Tool {
  switch (name) {
    case "box":
      return new BoxTool(api);
    case "polygon":
      return new PolygonTool(api);
    case "keypoints":
      return new KeypointsTool(api);
    case "mask":
    case "eraser":
      return new MaskTool(api, name);
    default:
      return new SelectTool(api);
  }
}
