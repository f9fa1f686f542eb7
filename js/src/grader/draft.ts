// What the grade being made says of each instance: the grader's decision (from the `draft` trait), else the
// pre-score's proposal, marked as one. Pure functions of the `item` and `draft` traits, so the canvas, the
// side list and the tests read the same answer. Also the order Tab walks (the trainee's instances, then the
// gold nobody matched) and what Focus shows (the selected instance with its matched counterpart).
import type { DraftState, GoldEntry, Item, TagEntry, TraineeEntry } from "./types";

/** Stars of a trainee instance: the grader's, else the proposal (`proposed` true). */
export interface StarsVerdict {
  stars: number | null;
  proposed: boolean;
}

export interface MarkVerdict {
  value: boolean;
  proposed: boolean;
}

export function starsOf(draft: Partial<DraftState>, e: TraineeEntry): StarsVerdict {
  const given = draft.stars?.[String(e.id)];
  if (typeof given === "number" && given > 0) return { stars: given, proposed: false };
  return { stars: e.proposed, proposed: true };
}

/** Whether a gold instance is marked Missing: the grader's decision, else the proposal. */
export function missingOf(draft: Partial<DraftState>, g: GoldEntry): MarkVerdict {
  const d = draft.missing?.[String(g.id)];
  if (typeof d === "boolean") return { value: d, proposed: false };
  return { value: g.proposed_missing, proposed: true };
}

/** Whether a trainee's tag is right: the grader's verdict, else the proposal. */
export function tagOf(draft: Partial<DraftState>, t: TagEntry): MarkVerdict {
  const d = draft.tags?.[String(t.id)];
  if (typeof d === "boolean") return { value: d, proposed: false };
  return { value: Boolean(t.proposed), proposed: true };
}

/** How many proposals are left on the image (what Enter would accept). */
export function proposalsLeft(item: Partial<Item>, draft: Partial<DraftState>): number {
  if (!item.gradable) return 0;
  let n = 0;
  for (const e of item.trainee ?? []) if (e.status !== null && starsOf(draft, e).proposed) n++;
  for (const g of item.gold ?? []) if (g.markable && missingOf(draft, g).proposed) n++;
  for (const t of item.tags ?? []) if (t.status !== null && tagOf(draft, t).proposed) n++;
  return n;
}

/** Selection keys: "t<annotation id>" for a trainee instance, "g<gold id>" for a gold one (their cids). */
export function tabOrder(item: Partial<Item>, goldShown: boolean): string[] {
  const out = (item.trainee ?? []).map((e) => `t${e.id}`);
  if (goldShown) for (const g of item.gold ?? []) if (g.markable) out.push(`g${g.id}`);
  return out;
}

/** The next (`dir` 1) or previous (-1) key of `order` after `current`, wrapping; the first or last without one. */
export function step(order: readonly string[], current: string | null, dir: 1 | -1): string | null {
  if (!order.length) return null;
  const i = current === null ? -1 : order.indexOf(current);
  if (i < 0) return (dir > 0 ? order[0] : order[order.length - 1]) ?? null;
  return order[(i + dir + order.length) % order.length] ?? null;
}

export interface Shown {
  trainee: Set<number>;
  gold: Set<number>;
}

/** What Focus shows of `selected`: the instance alone with its matched counterpart (null: no focus). */
export function focusPair(item: Partial<Item>, selected: string | null): Shown | null {
  if (!selected) return null;
  const id = Number(selected.slice(1));
  if (selected.startsWith("t")) {
    const e = (item.trainee ?? []).find((x) => x.id === id);
    if (!e) return null;
    return { trainee: new Set([e.id]), gold: new Set(e.gold === null ? [] : [e.gold]) };
  }
  const g = (item.gold ?? []).find((x) => x.id === id);
  if (!g) return null;
  return { trainee: new Set(g.match === null ? [] : [g.match]), gold: new Set([g.id]) };
}

/** "★★★☆☆" for the grader's stars, "☆☆☆" (hollow, as many as proposed) for a proposal. */
export function starsText(v: StarsVerdict): string {
  if (v.stars === null) return "";
  return v.proposed ? "☆".repeat(v.stars) : "★".repeat(v.stars) + "☆".repeat(Math.max(0, 5 - v.stars));
}
