// The contract between labnb/widgets/exam_grader.py and the exam grader's front end. Every synced trait of
// the Python `ExamGrader` appears in `GraderModel`; every message either way appears below. Change both sides
// together. Shapes travel in the Annotator's wire format (`../types.ts` ShapeDTO); the image traits are the
// Annotator's (`image`, `preview`, `image_info`), filled by labnb/widgets/imagefeed.py.
import type { FullImageRequest, ImageInfo, SchemaPayload, ShapeDTO, TilesRequest } from "../types";

/** Actions of the grader's keys (Python sends the defaults merged with the user's remapping). */
export type GraderAction =
  | "next_instance"
  | "prev_instance"
  | "rate_1"
  | "rate_2"
  | "rate_3"
  | "rate_4"
  | "rate_5"
  | "clear_stars"
  | "focus"
  | "gold"
  | "missing"
  | "accept_proposals"
  | "undo"
  | "redo"
  | "save"
  | "next_image"
  | "prev_image"
  | "deselect"
  | "pass_attempt"
  | "fail_attempt";

/** A trainee's instance on the open image, with the pre-score's verdict (null before hand-in). */
export interface TraineeEntry {
  id: number;
  /** Plain text from Python: insert with textContent only (as every name below). */
  label: string;
  kind: string;
  status: "tp" | "fp" | "wrong_label" | null;
  gold: number | null; // the gold instance it matched
  iou: number | null;
  proposed: number | null; // stars the pre-score proposes
  shape: ShapeDTO; // cid "t<id>"
}

/** A gold instance of the open image. */
export interface GoldEntry {
  id: number;
  label: string;
  kind: string;
  status: "matched" | "missed" | "wrong_label" | null;
  match: number | null; // the trainee instance matched to it
  iou: number | null;
  markable: boolean; // no trainee instance of its class matched it: it may be marked Missing
  proposed_missing: boolean;
  shape: ShapeDTO; // cid "g<id>"
}

export interface TagEntry {
  id: number;
  label: string; // "group:value"
  status: "tp" | "fp" | null;
  proposed: boolean | null; // right?
}

/** The open image (`{}` when none is). */
export interface Item {
  asset_id: number;
  file_name: string;
  state: "drawing" | "handed_in" | "graded";
  scored: boolean; // handed in: the pre-score's verdicts exist (drawn even while the attempt is read-only)
  gradable: boolean; // takes a grade: scored, and the attempt is not decided
  note: string; // why it is not gradable (not handed in, or the attempt decided: read-only)
  index: number;
  count: number;
  shown: number; // a new number every time Python shows an image (after a save too)
  trainee: TraineeEntry[];
  gold: GoldEntry[];
  tags: TagEntry[];
  gold_tags: { label: string; found: boolean }[];
  grader: string | null;
  graded_at: string | null;
}

/** The grade being made: the grader's decisions by id (strings: JSON keys); the rest are proposals. */
export interface DraftState {
  stars: Record<string, number>;
  missing: Record<string, boolean>;
  tags: Record<string, boolean>;
  comment: string;
  dirty: boolean;
  can_undo: boolean;
  can_redo: boolean;
}

export interface AttemptInfo {
  id: number;
  user: string;
  number: number;
  state: string;
}

export interface ImageRow {
  asset_id: number;
  file_name: string;
  state: "drawing" | "handed_in" | "graded";
  graded: boolean;
  mean_stars: number | null;
  missed: number | null;
  proposed_stars: number | null;
  tp: number | null;
  fp: number | null;
  fn: number | null;
}

export interface Summary {
  images_graded: number;
  images: number;
  mean_stars: number | null;
  missed: number;
  extra: number;
  wrong_label: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  mean_iou: number | null;
  mark_met: boolean | null;
  result: string;
  state: string;
}

/** The open attempt's decision state (`{}` when none is open); labnb/widgets/grader_payload.py. */
export interface Decision {
  state: string; // started, submitted, passed, failed
  decided_by: string | null;
  decided_at: string | null;
  decidable: boolean; // handed in, not decided: Fail may be pressed
  mark_met: boolean | null; // null while undecidable (images not graded yet)
  unmet: string[]; // what is unmet or missing, in words
  auto_met: boolean; // the automatic criteria (F1) are met: grading alone can still meet the mark
  mark: string; // the pass mark in words
  grants: string[]; // the credentials passing grants
  locked: string; // why the attempt takes no more grades ("" while undecided)
}

/** The synced traits (see the Python class for each one's docstring). */
export interface GraderModelState {
  exam_info: { id?: number; name?: string };
  user: string;
  attempts: AttemptInfo[];
  attempt_info: Partial<AttemptInfo>;
  summary: Partial<Summary>;
  decision: Partial<Decision>;
  images: ImageRow[];
  item: Partial<Item>;
  draft: Partial<DraftState>;
  schema: SchemaPayload;
  keymap: Partial<Record<GraderAction, string>>;
  image: DataView;
  preview: DataView;
  image_info: Partial<ImageInfo>;
  status: string;
  error: string;
}

// ---- messages -----------------------------------------------------------------------------------

/** JS -> Python requests; each carries `seq`, which Python's reply echoes (../requests.ts). */
export type Request =
  | { type: "open"; asset_id: number; from_asset?: number; comment?: string }
  | { type: "attempt"; attempt: number; from_asset?: number; comment?: string }
  | { type: "rate"; asset_id: number; annotation: number; stars: number }
  | { type: "missing"; asset_id: number; gold: number; missing?: boolean }
  | { type: "tag"; asset_id: number; annotation: number; right: boolean }
  | { type: "accept"; asset_id: number }
  | { type: "comment"; asset_id: number; comment: string }
  | { type: "undo"; asset_id: number }
  | { type: "redo"; asset_id: number }
  | { type: "save"; asset_id: number; comment?: string }
  | { type: "decide"; attempt: number; decision: "pass" | "fail"; from_asset?: number; comment?: string };

/** Everything the browser sends: requests, and the image as the Annotator's editor asks for it. */
export type ToPython = (Request & { seq: number }) | TilesRequest | FullImageRequest;
