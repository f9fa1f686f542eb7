// The contract between labnb/widgets/review_panel.py and the review panel's front end. Every synced trait of
// the Python `ReviewPanel` appears in `ReviewModel`; every message either way appears below. Change both
// sides together. The pass under review travels in the Annotator's own wire format (`../types.ts`: the
// `shapes`, `image` and `image_info` traits, `EditsMessage` and `AckMessage`), because the Annotator's editor
// shows and fixes it.
import type { Action, EditsMessage, FullImageRequest, ImageInfo, SchemaPayload, ShapeDTO, TilesRequest } from "../types";

/** Actions of the panel's own keys (Python sends the defaults merged with the user's remapping). */
export type ReviewAction =
  | "accept"
  | "reject"
  | "fix"
  | "next_item"
  | "prev_item"
  | "side_by_side"
  | "guide"
  | "refresh"
  | "labels"
  | "queue"
  | "classes"
  | "full_width";

/** One item of the queue: a draw pass awaiting review (or the review this user holds). */
export interface QueueRow {
  review_task: number;
  draw_task: number;
  asset_id: number;
  /** Plain text from Python: insert with textContent only (as every name below). */
  file_name: string;
  drawer: string;
  pass: number; // 0-based
  agreement: number | null; // of the image's passes; null while unknown (shown "–")
  labels: string[]; // classes in the pass
  held: boolean; // the review this user holds
}

/** The open item: its queue row, the drawer's colour, the review task's state and the earlier rejection. */
export interface CurrentItem extends QueueRow {
  color: string;
  state: string;
  comment: string | null;
}

/** A drawn pass of the open image. The reviewed one's shapes are the `shapes` trait (its `shapes` is empty). */
export interface PassInfo {
  draw_task: number;
  drawer: string;
  pass: number;
  state: string;
  color: string; // "#rrggbb"
  reviewed: boolean;
  shapes: ShapeDTO[];
}

export interface Filters {
  agreement_below: number | null;
  drawer: string | null;
  label: string | null;
}

/** The synced traits (see the Python class for each one's docstring). */
export interface ReviewModel {
  job_info: { id?: number; name?: string };
  user: string;
  queue: QueueRow[];
  queue_total: number;
  filters: Filters;
  drawers: { name: string; color: string }[];
  current: Partial<CurrentItem>; // {} when nothing is open
  image: DataView; // as the Annotator's: empty until the browser asks (want_full), and for a huge image
  preview: DataView; // the stored small level, painted first (may be empty: the image came whole)
  image_info: Partial<ImageInfo>; // {} when nothing is open
  shapes: ShapeDTO[];
  passes: PassInfo[];
  schema: SchemaPayload;
  keymap: Partial<Record<ReviewAction, string>>;
  editor_keymap: Partial<Record<Action, string>>;
  guide_html: string; // sanitised in Python
  fixing: boolean;
  side_by_side: boolean; // JS toggles it
  poll_seconds: number; // how often to send `poll` (0: never)
  status: string;
  error: string;
}

// ---- messages -----------------------------------------------------------------------------------

/** JS -> Python requests; each carries `seq`, which Python's `ReplyMessage` echoes. */
export type Request =
  | { type: "open"; review_task: number }
  | ({ type: "filter" } & Filters)
  | { type: "refresh" }
  | { type: "accept"; review_task: number; duration_ms: number }
  | { type: "fix"; review_task: number; duration_ms: number }
  | { type: "reject"; review_task: number; comment: string; duration_ms: number };

/** JS -> Python, every `poll_seconds` while the panel is on screen: has the queue changed? No reply; Python
 * changes the traits (the queue, and the item it opens when none was open) only when it has. */
export interface PollMessage {
  type: "poll";
}

/** The editor's messages (the Annotator's wire format): its edits, and the image's tiles and full image. */
export type ToPython = (Request & { seq: number }) | PollMessage | EditsMessage | TilesRequest | FullImageRequest;

/** Python -> JS: a request was handled (the traits are already updated), or refused with `error`. */
export type { ReplyMessage } from "../requests";
