// The contract between labnb/widgets/annotator.py and the front end. Every synced trait of the Python
// `Annotator` widget appears in `Model`; every message either way appears below. Change both sides together.
//
// Coordinates are full-resolution image pixels everywhere (origin top-left, x right, y down), even when
// the bitmap the browser shows is a downscaled version of a very large image.

export type Kind = "box" | "polygon" | "keypoints" | "mask" | "tag";

export interface ClassDef {
  id: number;
  /** Display name: already stripped of any HTML by Python; still insert it with textContent only. */
  name: string;
  color: string; // "#rrggbb"
  hotkey: string | null; // one key, e.g. "1"
  keypoints: string[]; // named points, in order (keypoint classes only)
  skeleton: [number, number][]; // edges as index pairs into keypoints
}

export interface TagGroupDef {
  name: string;
  options: string[];
  multi: boolean;
}

export interface AttributeDef {
  name: string;
  type: "text" | "number" | "choice";
  options: string[];
  classes: string[] | null; // null: applies to every class
}

export interface SchemaPayload {
  classes: ClassDef[];
  tools: ("box" | "polygon" | "keypoints" | "mask" | "tags")[];
  tags: TagGroupDef[];
  attributes: AttributeDef[];
}

/** COCO run-length encoding, uncompressed: column-major runs starting with background. */
export interface MaskRLE {
  size: [number, number]; // [height, width] = the image's full size
  counts: number[];
}

export type Geometry =
  | { kind: "box"; x: number; y: number; w: number; h: number }
  | { kind: "polygon"; parts: number[][] } // each part flat [x0, y0, x1, y1, ...], >= 3 points
  | { kind: "keypoints"; points: Record<string, [number, number, number]> } // name -> [x, y, v], v in 0/1/2
  | { kind: "mask"; rle: MaskRLE }
  | { kind: "tag"; value: string; group: string | null };

export interface ShapeDTO {
  /** Store id; null until Python has acknowledged the create. */
  id: number | null;
  /** Client id, unique in this widget's life; Python echoes it in the ack of a create. */
  cid: string;
  /** Class name (null for tags). */
  label: string | null;
  attributes: Record<string, string | number | null>;
  track_id: number | null;
  geometry: Geometry;
  /**
   * Model assist. On a suggestion (the `suggestions` trait): the stored prediction's annotation id. On a
   * create: the suggestion being committed (Python checks it is a live prediction of this image and copies
   * the model, version and score from that row). On a stored shape: the prediction it was committed from.
   * Absent or null otherwise.
   */
  prediction_id?: number | null;
  /** Read-only, from Python: the model of a suggestion or of a committed one (never sent back). */
  model?: string | null;
  /** Read-only, from Python: the model's score, 0..1 (never sent back: Python reads it from the store). */
  score?: number | null;
}

export interface ImageInfo {
  asset_id: number;
  /**
   * A new number each time Python shows an image (even the same asset again: the Annotator's navigation,
   * another pass of the same image in the review panel), so the same image with new bytes (its full image
   * after the preview) is told apart from another showing of it (labnb/widgets/imagefeed.py). Without it,
   * new image bytes are a new image.
   */
  shown?: number;
  file_name: string;
  /** Full-resolution size: the coordinate space of every shape. */
  width: number;
  height: number;
  /**
   * The finest resolution the browser gets: the size of the bitmap in `image`, or for an image shown as tiles
   * its full size (tiles of level 0 are full-resolution pixels). The mask grid follows it (mask.ts).
   */
  bitmap_width: number;
  bitmap_height: number;
  mime: string; // of `image`, e.g. "image/jpeg"; "" until it arrives
  /** The stored small level in `preview` (labnb.pyramid): size and type; 0 / "" when there is none. */
  preview_width?: number;
  preview_height?: number;
  preview_mime?: string;
  /** A huge image is shown as tiles the browser asks for (tiles.ts); `{}` otherwise. */
  tiles?: TileSpec | Record<string, never>;
  index: number; // position in the queue, 0-based
  count: number; // queue length
}

/**
 * Tiles of a huge image: level k is the image at 1/2^k (ceil(width / 2^k) x ceil(height / 2^k) pixels), cut
 * in `size` x `size` tiles from the top left; levels 0..levels-1 are served (coarser views draw the preview).
 */
export interface TileSpec {
  size: number;
  levels: number;
}

/** Actions that have a key; Python sends the defaults merged with the user's remapping. */
export type Action =
  | "tool_select" | "tool_box" | "tool_polygon" | "tool_keypoints" | "tool_mask" | "eraser"
  | "next_image" | "prev_image" | "undo" | "redo" | "delete" | "copy" | "paste" | "select_all"
  | "zoom_in" | "zoom_out" | "zoom_fit" | "toggle_visibility" | "help" | "close_polygon"
  | "cancel" | "brush_bigger" | "brush_smaller" | "toggle_keypoint_visibility"
  | "accept_suggestions" | "accept_all_suggestions" | "toggle_assist";

/** The assist model, `{}` when the annotator has none (then nothing of model assist shows). */
export interface AssistModelInfo {
  name?: string;
  version?: string;
}

/**
 * The job task the annotator is bound to (`Task.annotator()`, `p.work()`), `{}` otherwise: the toolbar then
 * offers "Submit", which saves every pending edit before handing the pass in.
 */
export interface TaskInfo {
  id?: number;
  job?: string;
  pass?: number;
  state?: string;
  /** The reviewer's comment when the pass came back "to fix". */
  comment?: string | null;
  /** Whether this user may hand it in (a reviewer fixing a pass may not). */
  can_submit?: boolean;
}

/** The synced traits (see the Python class for each one's docstring). */
export interface Model {
  image: DataView; // encoded PNG/JPEG/WebP bytes; never base64; empty while it is on its way, and for tiles
  preview: DataView; // the stored small level, painted until `image` (or the tiles) are decoded; may be empty
  image_info: ImageInfo;
  shapes: ShapeDTO[]; // the image's stored shapes when loaded; acks then carry deltas (modellink.ts)
  schema: SchemaPayload;
  keymap: Record<Action, string>; // action -> key, e.g. {"undo": "Ctrl+z", "tool_box": "b"}
  guide_html: string; // sanitised HTML of the draw guide ("" when none)
  position: number; // JS sets it to navigate (after flushing edits); Python loads that image
  readonly: boolean;
  status: string; // short human-readable state, e.g. "saved", "saving 3 edits"
  error: string; // last error from Python, shown in the widget; "" when none
  /** The model's predictions for the shown image: ShapeDTOs with prediction_id, model and score, cid "g<id>", id null. */
  suggestions: ShapeDTO[];
  assist_on: boolean; // suggestions shown; JS toggles it (key M), Python then sends or clears `suggestions`
  assist_threshold: number; // 0..1: suggestions scoring less are not shown; JS sets it (the slider)
  assist_status: string; // "", "predicting …", "N suggestions", or the model's error
  assist_model: AssistModelInfo;
  task: TaskInfo;
}

// ---- messages -----------------------------------------------------------------------------------

export type Edit =
  | { op: "create"; cid: string; shape: ShapeDTO; duration_ms: number }
  | { op: "update"; id: number; cid: string; shape: ShapeDTO; duration_ms: number }
  | { op: "delete"; id: number; cid: string; duration_ms: number }
  | { op: "restore"; id: number; cid: string; duration_ms: number };

/** JS -> Python: finished edits, debounced (about 300 ms), in order. */
export interface EditsMessage {
  type: "edits";
  batch: number; // increasing per widget view
  asset_id: number; // the image these edits belong to (image_info.asset_id when they were made)
  edits: Edit[];
}

/**
 * Python -> JS, to every view: the outcome of one EditsMessage, per edit, in the same order. When the
 * edits were for the image shown, `upsert` holds the stored form of every shape the batch touched and
 * `removed` the touched client ids no longer stored (a refused create): the `shapes` trait is not resent.
 */
export interface AckMessage {
  type: "ack";
  batch: number;
  asset_id?: number;
  results: ({ cid: string; ok: true; id: number; revision: number } | { cid: string; ok: false; message: string })[];
  upsert?: ShapeDTO[];
  removed?: string[];
}

/** JS -> Python: hand in the bound task; sent only once every edit has been acknowledged. */
export interface SubmitTaskMessage {
  type: "submit_task";
  /** active time since the last edit, counted with the hand-in */
  duration_ms: number;
}

/**
 * JS -> Python: the tiles this view needs now as [level, tx, ty], in the order wanted (a coarser level first,
 * then the zoom's own, centre first). A newer request from the same view supersedes it (Python stops serving
 * the older one; the tiles still wanted are listed again).
 */
export interface TilesRequest {
  type: "tiles";
  id: number;
  view: string;
  asset_id: number;
  tiles: [number, number, number][];
}

/** Python -> JS: one tile, its encoded bytes in the message's one binary buffer. */
export interface TileMessage {
  type: "tile";
  id: number;
  asset_id: number;
  level: number;
  tx: number;
  ty: number;
  mime: string;
}

/** Python -> JS: a request failed (the file is gone, say); the message also goes to `error`. */
export interface TileErrorMessage {
  type: "tile_error";
  id: number;
  asset_id: number;
  message: string;
}

/**
 * JS -> Python: this view has painted the stored preview; send the full image (`image`). Python sends it once
 * per showing, whichever view asks first.
 */
export interface FullImageRequest {
  type: "want_full";
  asset_id: number;
}

export type ToPython = EditsMessage | SubmitTaskMessage | TilesRequest | FullImageRequest;
export type FromPython = AckMessage | TileMessage | TileErrorMessage;
