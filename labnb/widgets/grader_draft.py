"""The grade being made of one image in the exam grader, before it is saved: what the grader confirmed or
changed of the pre-score's proposals, with undo and redo.

The pre-score proposes stars for every trainee instance, Missing for every gold instance nobody matched and
a verdict for every tag (:mod:`labnb.exams.prescore`). A draft holds only what the grader decided; the rest
stays a proposal, shown as such, and :meth:`Draft.grade_kwargs` leaves it to :meth:`labnb.exams.exam.Exam.
grade`, which fills proposals in, so a saved grade is always complete. Every id a message names is checked
against the image's own instances here, before anything changes, so a bad message changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from labnb.errors import LabnbError
from labnb.exams.grading_view import GradingItem

#: Gold statuses the grader may mark Missing: no trainee instance of its class matched it.
UNMATCHED = ("missed", "wrong_label")


@dataclass(frozen=True)
class Decisions:
    """What the grader decided: stars per trainee instance, Missing per gold instance, right per tag."""

    stars: dict[int, int] = field(default_factory=dict)
    missing: dict[int, bool] = field(default_factory=dict)
    tags: dict[int, bool] = field(default_factory=dict)


def _int_id(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LabnbError(f"{what} must be an id, got {value!r}")
    return value


class Draft:
    """The grade of the open image being made: decisions over the proposals of ``item``'s pre-score."""

    def __init__(self, item: GradingItem) -> None:
        self.item = item
        detail = item.detail or {"gold": [], "trainee": []}
        self._shapes = {int(e["id"]): e for e in detail["trainee"] if e["kind"] != "tag"}
        self._tags = {int(e["id"]): e for e in detail["trainee"] if e["kind"] == "tag"}
        self._gold = {int(e["id"]): e for e in detail["gold"] if e["kind"] != "tag"}
        saved = item.grade
        if saved is None:
            start = Decisions()
            self.comment = ""
        else:  # a graded image opens as graded: every verdict is the grader's, none a proposal
            missing = {g: g in saved.missing for g, e in self._gold.items() if e["status"] in UNMATCHED}
            missing.update({g: True for g in saved.missing if g in self._gold})
            start = Decisions(
                stars={i: v for i, v in saved.stars.items() if i in self._shapes},
                missing=missing,
                tags={i: v for i, v in saved.tags.items() if i in self._tags},
            )
            self.comment = saved.comment or ""
        self.decisions = start
        self._saved = (start, self.comment)
        self._undo: list[Decisions] = []
        self._redo: list[Decisions] = []

    # -- state ------------------------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """Something differs from what is stored (moving on saves it then)."""
        return (self.decisions, self.comment) != self._saved

    def proposed_missing(self, gold_id: int) -> bool:
        return bool(self._gold[gold_id]["status"] == "missed")

    def missing_ids(self) -> list[int]:
        """The gold marked Missing: the grader's decisions, else the proposals."""
        d = self.decisions.missing
        return sorted(g for g in self._gold if d.get(g, self.proposed_missing(g)))

    def grade_kwargs(self) -> dict[str, Any]:
        """What :meth:`labnb.exams.exam.Exam.grade` saves: the stars and tag verdicts decided (the rest keep
        their proposal there), every gold id marked Missing, the comment."""
        d = self.decisions
        return {
            "stars": dict(d.stars),
            "missing": self.missing_ids(),
            "tags": dict(d.tags),
            "comment": self.comment or None,
        }

    def to_json(self) -> dict[str, Any]:
        """The ``draft`` trait (ids as strings: JSON keys)."""
        d = self.decisions
        return {
            "stars": {str(k): v for k, v in d.stars.items()},
            "missing": {str(k): v for k, v in d.missing.items()},
            "tags": {str(k): v for k, v in d.tags.items()},
            "comment": self.comment,
            "dirty": self.dirty,
            "can_undo": bool(self._undo),
            "can_redo": bool(self._redo),
        }

    # -- changes ---------------------------------------------------------------------------------------
    def _require_gradable(self) -> None:
        if not self.item.gradable:
            raise LabnbError(f"image '{self.item.file_name}' is not handed in yet: it cannot be graded")

    def _change(self, new: Decisions) -> bool:
        if new == self.decisions:
            return False
        self._undo.append(self.decisions)
        self._redo.clear()
        self.decisions = new
        return True

    def rate(self, annotation: Any, stars: Any) -> bool:
        """Give trainee instance ``annotation`` 1-5 stars (0: back to the proposal)."""
        self._require_gradable()
        i = _int_id(annotation, "the instance to rate")
        if i not in self._shapes:
            raise LabnbError(f"annotation {i} is not an instance the trainee drew on image '{self.item.file_name}'")
        if isinstance(stars, bool) or not isinstance(stars, int) or not 0 <= stars <= 5:
            raise LabnbError(f"stars must be a whole number from 1 to 5 (0 clears), got {stars!r}")
        given = dict(self.decisions.stars)
        if stars:
            given[i] = stars
        else:
            given.pop(i, None)
        return self._change(replace(self.decisions, stars=given))

    def mark_missing(self, gold: Any, missing: Any = None) -> bool:
        """Mark gold instance ``gold`` Missing (True) or not (False); None, as the M key does: a decided
        mark flips, a proposal or an unmarked instance becomes Missing. Returns the mark now."""
        self._require_gradable()
        g = _int_id(gold, "the gold instance")
        entry = self._gold.get(g)
        if entry is None:
            raise LabnbError(f"gold {g} is not a gold instance of image '{self.item.file_name}'")
        if entry["status"] not in UNMATCHED:
            raise LabnbError(
                f"gold {g} is matched by the trainee's instance {entry['match']}: rate that instance instead of "
                "marking the gold Missing"
            )
        if missing is not None and not isinstance(missing, bool):
            raise LabnbError(f"missing must be true, false or absent (toggle), got {missing!r}")
        decided = self.decisions.missing
        value = missing if missing is not None else (not decided[g] if g in decided else True)
        self._change(replace(self.decisions, missing={**decided, g: value}))
        return value

    def set_tag(self, annotation: Any, right: Any) -> bool:
        """Judge the trainee's tag ``annotation`` right (True) or wrong (False)."""
        self._require_gradable()
        i = _int_id(annotation, "the tag")
        if i not in self._tags:
            raise LabnbError(f"annotation {i} is not a tag the trainee set on image '{self.item.file_name}'")
        if not isinstance(right, bool):
            raise LabnbError(f"right must be true or false, got {right!r}")
        return self._change(replace(self.decisions, tags={**self.decisions.tags, i: right}))

    def accept_proposals(self) -> int:
        """Confirm every proposal left on the image (Enter); how many there were."""
        self._require_gradable()
        d = self.decisions
        stars = {i: d.stars.get(i, int(e["stars"])) for i, e in self._shapes.items()}
        missing = {**{g: self.proposed_missing(g) for g, e in self._gold.items() if e["status"] in UNMATCHED},
                   **d.missing}  # fmt: skip
        tags = {i: d.tags.get(i, bool(e.get("right"))) for i, e in self._tags.items()}
        left = len(stars) - len(d.stars) + len(missing) - len(d.missing) + len(tags) - len(d.tags)
        self._change(Decisions(stars, missing, tags))
        return left

    def set_comment(self, comment: Any) -> None:
        if not isinstance(comment, str):
            raise LabnbError(f"the comment must be text, got {type(comment).__name__}")
        self.comment = comment

    def undo(self) -> bool:
        if not self._undo:
            return False
        self._redo.append(self.decisions)
        self.decisions = self._undo.pop()
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        self._undo.append(self.decisions)
        self.decisions = self._redo.pop()
        return True
