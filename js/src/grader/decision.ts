// The attempt's decision in the grader, read from the `decision` trait (labnb/widgets/grader_payload.py), the
// images and the open draft: whether Pass and Fail may be pressed now and, when not, why (the tooltip and the
// note a refused key shows), the decision's words in the summary line and the confirmation's. Pure: no DOM.
// Python decides (exam.passed re-checks the mark and grants the credentials); this only says what to offer.
import type { Decision, ImageRow } from "./types";

export type DecisionAction = "pass_attempt" | "fail_attempt";

/** Whether a decision button may be pressed, and what its tooltip says. */
export interface Offer {
  enabled: boolean;
  reason: string;
}

export interface DecisionInput {
  decision: Partial<Decision>;
  images: readonly ImageRow[];
  /** The open image (null when none is open). */
  current: number | null;
  /** The open image takes a grade (handed in, attempt undecided). */
  gradable: boolean;
  /** The open image's grade changed and is not saved yet (the decision saves it first). */
  dirty: boolean;
}

function by(d: Partial<Decision>): string {
  return d.decided_by ? ` by ${d.decided_by}` : "";
}

function grantsText(d: Partial<Decision>): string {
  return d.grants?.length ? `grants ${d.grants.join(", ")}` : "grants no credential";
}

/** Why an attempt cannot be decided now ("" when it can). */
function notDecidable(d: Partial<Decision>): string {
  if (d.state === undefined) return "No attempt is open";
  if (d.state === "passed" || d.state === "failed") return `Already ${d.state}${by(d)}: the attempt is read-only`;
  if (!d.decidable) return "Not handed in yet (not every image is): only a handed-in attempt is decided";
  return "";
}

/** Pass: offered once the mark is met; or when the open image's changed grade is all that is left to grade and
 * the automatic criteria are met (the grade is saved first and Python checks the mark with it). */
export function passOffer(x: DecisionInput): Offer {
  const d = x.decision;
  const no = notDecidable(d);
  if (no) return { enabled: false, reason: no };
  const saveFirst = x.dirty && x.gradable ? "; the open image's changed grade is saved first and the mark checked with it" : "";
  if (d.mark_met === true) return { enabled: true, reason: `Pass the attempt: the mark is met (${d.mark ?? ""}); ${grantsText(d)}${saveFirst}` };
  const others = x.images.filter((r) => r.state !== "graded" && r.asset_id !== x.current).length;
  if (saveFirst && others === 0 && d.auto_met) return { enabled: true, reason: `Pass the attempt if the mark is met (${d.mark ?? ""}); ${grantsText(d)}${saveFirst}` };
  const unmet = (d.unmet ?? []).join("; ") || "the mark is not met";
  return { enabled: false, reason: `Cannot pass yet: ${unmet} (the mark: ${d.mark ?? ""})` };
}

/** Fail: offered for any handed-in attempt not decided yet. */
export function failOffer(x: DecisionInput): Offer {
  const no = notDecidable(x.decision);
  if (no) return { enabled: false, reason: no };
  return { enabled: true, reason: "Fail the attempt: the trainee may retake the exam within its limits" };
}

/** The decision in the summary line: "passed by rita", "failed by rita", "pending · mark met",
 * "pending · 1 of 3 images not graded", "pending · mark not met: mean stars 2.80, the mark is >= 3". */
export function decisionText(d: Partial<Decision>): string {
  if (d.state === undefined) return "";
  if (d.state === "passed") return `passed${by(d)}${d.grants?.length ? ` · granted ${d.grants.join(", ")}` : ""}`;
  if (d.state === "failed") return `failed${by(d)}`;
  const unmet = (d.unmet ?? []).join("; ");
  const head = d.state === "started" ? "in progress" : "pending";
  if (d.mark_met === true) return `${head} · mark met`;
  if (d.mark_met === false) return `${head} · mark not met: ${unmet}`;
  return unmet ? `${head} · ${unmet}` : head;
}

/** The confirmation asked before a decision is sent. */
export function confirmText(action: DecisionAction, who: string, d: Partial<Decision>, key: string): string {
  const grants = d.grants?.length ? ` and grant ${d.grants.join(", ")}` : "";
  const what = action === "pass_attempt" ? `Pass ${who}${grants}?` : `Fail ${who}?`;
  return `${what} ${key} again or Confirm decides; Escape cancels.`;
}
