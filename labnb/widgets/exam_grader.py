"""The exam grader widget: a reviewer grades a trainee's attempt at an exam, image by image, in a notebook,
and passes or fails it.

``p.exam_grader(exam_or_attempt)`` shows one image of the attempt at a time: the trainee's instances in
their class colours, the exam's gold over them in gold, the automatic pre-score's proposals (stars per
instance, Missing per unmatched gold instance, a verdict per tag) shown as proposals until the grader
confirms or changes them. The grade being made is a :class:`labnb.widgets.grader_draft.Draft` held here,
in Python; the browser's keys and clicks send messages that change it, and the grade is saved with
:meth:`labnb.exams.exam.Exam.grade` (one transaction, one ``exam.grade`` event) when the grader saves or
moves to another image. The gold leaves the store only through
:func:`labnb.exams.grading_view.grading_item`, which checks the grader first; the constructor refuses the
attempt's own trainee and anyone below reviewer (AccessDenied) before reading anything. The decision is
:meth:`labnb.exams.exam.Exam.passed` (which checks the pass mark itself and grants the exam's credentials) or
:meth:`labnb.exams.exam.Exam.fail`; once an attempt is decided (here, elsewhere, or by ``auto_pass`` on a
save) the grader shows it read-only and refuses every grading message.

The front end is ``js/src/grader.ts`` (bundled into ``labnb/static/grader.js``; contract in
``js/src/grader/types.ts``). Messages from the browser (``{"type": ..., "seq": n}``, answered with
``{"type": "reply", "seq": n, "ok": bool, "error": str}`` after the traits are updated): ``open``
(``asset_id``: save the open image's changed grade, then show that image), ``attempt`` (``attempt``:
likewise, then open that attempt), and about the open image, named by its ``asset_id`` (refused when it is
not the open one): ``rate`` (``annotation``, ``stars`` 0-5), ``missing`` (``gold``, ``missing``: true,
false, or absent to toggle as M does), ``tag`` (``annotation``, ``right``), ``accept`` (every proposal of
the image), ``comment`` (``comment``), ``undo``, ``redo``, ``save``; and about the open attempt, named by
its id: ``decide`` (``attempt``, ``decision``: "pass" or "fail"; the open image's changed grade is saved
first). ``open``, ``attempt`` and ``decide`` may carry the ``comment`` typed so far with ``from_asset`` (the
image it is for), ``save`` with its own ``asset_id``.
``want_full`` and ``tiles`` (no ``seq``, no reply) ask for the image as the
Annotator's do (:mod:`labnb.widgets.imagefeed`). Every id is checked against the open image's own
instances; an error is shown in the widget (``error``) and changes nothing.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import anywidget
import traitlets

from labnb.errors import LabnbError
from labnb.exams.attempts import Attempt
from labnb.exams.exam import Exam
from labnb.exams.grading import check_grader
from labnb.exams.grading_view import GradingItem, grading_item
from labnb.exams.results import attempt_rows, image_rows
from labnb.widgets.errors import answer, error_text
from labnb.widgets.grader_draft import Draft
from labnb.widgets.grader_payload import (
    attempt_payload,
    decision_payload,
    images_payload,
    item_payload,
    locked_text,
    summary_payload,
)
from labnb.widgets.imagefeed import ImageFeed
from labnb.widgets.serializers import safe_text, schema_payload

if TYPE_CHECKING:
    from labnb.project import Project

STATIC = Path(__file__).resolve().parent.parent / "static"

#: The grader's keys; ``p.exam_grader(exam, keymap={...})`` overrides any of them. Where the keymap leaves
#: them free, ArrowDown/ArrowUp also move between images, Ctrl+S also saves and Ctrl+Y also redoes.
GRADER_KEYMAP: dict[str, str] = {
    "next_instance": "Tab",
    "prev_instance": "Shift+Tab",
    "rate_1": "1",
    "rate_2": "2",
    "rate_3": "3",
    "rate_4": "4",
    "rate_5": "5",
    "clear_stars": "0",
    "focus": "f",
    "gold": "g",
    "missing": "m",
    "accept_proposals": "Enter",
    "undo": "Ctrl+z",
    "redo": "Ctrl+Shift+z",
    "save": "s",
    "next_image": "ArrowRight",
    "prev_image": "ArrowLeft",
    "deselect": "Escape",
    "pass_attempt": "p",
    "fail_attempt": "Shift+f",
}

ExamTarget = Exam | Attempt | int | str


def _resolve(project: Project, target: ExamTarget) -> tuple[Exam, Attempt | None]:
    """The exam (read again through ``project``, so the current user is ``project``'s) and the attempt
    asked for; refused unless the user may grade it."""
    if isinstance(target, Attempt):
        exam = project.exams[target.exam.id]
        attempt = exam.attempt(target.id)
        check_grader(exam, attempt)
        return exam, attempt
    exam = project.exams[target.id if isinstance(target, Exam) else target]
    project.members.require("reviewer", f"grade the exam '{exam.name}'")
    return exam, None


class ExamGrader(anywidget.AnyWidget):
    """Grade an attempt at an exam, image by image, with the keyboard (reviewers and above; never one's own).

    Build it with ``p.exam_grader(exam)`` (the handed-in attempts to pick from; the first awaiting grading
    opens) or ``p.exam_grader(attempt)`` (that one). Keys (``keymap`` remaps them): Tab / Shift+Tab select
    the next / previous instance (the trainee's, then the gold nobody matched), 1-5 rate the selected one
    (0 clears back to the proposal), F shows it alone with its matched gold, G shows or hides the gold, M
    marks the selected gold instance Missing (again: not missing), Enter accepts every proposal on the
    image, Ctrl+Z / Ctrl+Shift+Z undo and redo, S (or Ctrl+S) saves, Left/Right (or Up/Down) move to the
    previous / next image, saving a changed grade first; Escape leaves Focus and clears the selection.
    Clicking an instance selects it, clicking an unmatched gold instance marks it Missing (or not), the
    stars in the list rate. Typing in the comment box triggers no key.

    P passes the attempt and Shift+F fails it, each after a confirmation in the widget (the same key again,
    or the Confirm button; Escape or any other key cancels), saving the open image's changed grade first.
    Pass is offered once the attempt is handed in, undecided and meets the pass mark (every image graded;
    the head says what is unmet), Fail for any handed-in, undecided attempt; ``exam.passed`` re-checks
    everything and grants the exam's credentials. A decided attempt (here, elsewhere, or passed by
    ``auto_pass`` on the last save) is shown read-only: nothing more is graded in the grader.
    """

    _esm = STATIC / "grader.js"
    _css = STATIC / "grader.css"

    exam_info = traitlets.Dict().tag(sync=True)
    """``{"id", "name"}`` of the exam."""

    user = traitlets.Unicode("").tag(sync=True)
    """The grader (the project's current user)."""

    attempts: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    """The attempts to pick from: ``id``, ``user``, ``number``, ``state``; the handed-in attempts of others
    (and the one asked for)."""

    attempt_info = traitlets.Dict().tag(sync=True)
    """The open attempt (``id``, ``user``, ``number``, ``state``), or ``{}``."""

    summary = traitlets.Dict().tag(sync=True)
    """The open attempt's line of ``exam.results()``: images_graded, images, mean_stars, missed, extra,
    wrong_label, precision, recall, f1, mean_iou, mark_met, result, state (None where undefined)."""

    images: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    """Per image of the attempt (``attempt.images``): asset_id, file_name, state (drawing, handed_in,
    graded), graded, mean_stars, missed, proposed_stars, tp, fp, fn."""

    decision = traitlets.Dict().tag(sync=True)
    """The open attempt's decision state (:func:`labnb.widgets.grader_payload.decision_payload`): state,
    decided_by, decided_at, decidable, mark_met, unmet (in words), auto_met, mark, grants, locked; ``{}``
    when no attempt is open."""

    item = traitlets.Dict().tag(sync=True)
    """The open image (:func:`labnb.widgets.grader_payload.item_payload`), ``{}`` when none is open."""

    draft = traitlets.Dict().tag(sync=True)
    """The grade being made of the open image (:meth:`labnb.widgets.grader_draft.Draft.to_json`): the
    grader's ``stars``, ``missing``, ``tags`` decisions by id, ``comment``, ``dirty``, ``can_undo``,
    ``can_redo``; what it does not decide is a proposal."""

    schema = traitlets.Dict().tag(sync=True)
    """The project's classes (names sanitised, colours, keypoints and skeletons) for drawing."""

    keymap = traitlets.Dict().tag(sync=True)
    """Action -> key (:data:`GRADER_KEYMAP` merged with the user's remapping)."""

    image = traitlets.Bytes(b"").tag(sync=True)
    """The open image, encoded, as the Annotator's ``image`` (:mod:`labnb.widgets.imagefeed`)."""

    preview = traitlets.Bytes(b"").tag(sync=True)
    """The open image's stored small level, painted first; as the Annotator's."""

    image_info = traitlets.Dict().tag(sync=True)
    """As the Annotator's (asset id, file name, sizes, mime, preview, tiles, ``shown``); ``index``/``count``
    among the attempt's images."""

    status = traitlets.Unicode("").tag(sync=True)
    """What just happened, in words ("Saved im0.png: 3.50 stars, 1 missed")."""

    error = traitlets.Unicode("").tag(sync=True)
    """The last error from Python, shown in the widget (ipywidgets would swallow it otherwise)."""

    def __init__(self, project: Project, target: ExamTarget, *, keymap: Mapping[str, str] | None = None) -> None:
        exam, asked = _resolve(project, target)  # refuses a trainee before any gold is read
        unknown = set(keymap or {}) - set(GRADER_KEYMAP)
        if unknown:
            raise LabnbError(f"unknown keymap action(s) {sorted(unknown)}; known: {sorted(GRADER_KEYMAP)}")
        self._project = project
        self._exam = exam
        self._asked = asked
        self._attempt: Attempt | None = None
        self._item: GradingItem | None = None
        self._draft: Draft | None = None
        self._shown = 0
        #: the widget's lock: the kernel's trait changes and those of the image feed's threads stay apart
        self._lock = threading.RLock()
        self._feed = ImageFeed(project, self, self._lock)
        super().__init__(
            exam_info={"id": exam.id, "name": safe_text(exam.name)},
            user=safe_text(project.user),
            schema=schema_payload(project.schema),
            keymap={**GRADER_KEYMAP, **(keymap or {})},
        )
        self.on_msg(self._on_message)
        with self._lock:
            try:
                choices = self._reload_attempts()
                first = asked or next((a for a in choices if a.state == "submitted"), None) or next(iter(choices), None)
                if first is None:
                    self.status = f"No attempt at '{exam.name}' is handed in yet"
                else:
                    self._open_attempt(first)
            except LabnbError as exc:
                self.error = error_text(exc)

    # -- Python-side API -------------------------------------------------------------------------
    @property
    def exam(self) -> Exam:
        return self._exam

    @property
    def current_attempt(self) -> Attempt | None:
        """The attempt open now."""
        return self._attempt

    @property
    def grade_draft(self) -> Draft | None:
        """The grade being made of the open image (None when no image is open)."""
        return self._draft

    def show_image(self, asset: int | str) -> None:
        """Save the open image's changed grade, then show ``asset`` of the attempt (as the arrows do)."""
        with self._lock:
            self._move(self._project._asset_id(asset))

    def save(self) -> None:
        """Save the open image's grade now (as S does), changed or not."""
        with self._lock:
            self._save()

    def decide(self, decision: str) -> None:
        """Pass (``"pass"``) or fail (``"fail"``) the open attempt, as P or Shift+F confirmed do: the open
        image's changed grade is saved first, then :meth:`Exam.passed` or :meth:`Exam.fail` decides (and
        refuses, saying why)."""
        with self._lock:
            attempt = self._attempt
            self._decide({"decision": decision, "attempt": attempt.id if attempt is not None else None})

    def close(self) -> None:
        """Close the widget: the image feed's threads stop."""
        feed = getattr(self, "_feed", None)  # absent when __init__ failed early (close runs from __del__)
        if feed is not None:
            feed.close()
        super().close()

    # -- messages --------------------------------------------------------------------------------
    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        with self._lock:  # trait changes stay apart from those of the image feed's threads
            self._dispatch(content)

    def _dispatch(self, content: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind in ("want_full", "tiles"):  # the image, as for the Annotator; no reply
            try:
                if kind == "want_full":
                    self._feed.want_full(content)
                else:
                    self._feed.request(content)
            except Exception as exc:  # shown in the widget
                self.error = error_text(exc)
            return
        answer(self, content, self._handle, refused=self._publish_draft)  # the draft as it stands, refused or not

    def _handle(self, content: Any) -> None:
        if not isinstance(content, dict):
            raise LabnbError(f"unexpected message from the exam grader: {str(content)[:80]}")
        kind = content.get("type")
        if kind == "attempt":
            self._take_comment(content, content.get("from_asset"))
            self._switch_attempt(content.get("attempt"))
        elif kind == "open":
            target = content.get("asset_id")
            if not isinstance(target, int) or isinstance(target, bool):
                raise LabnbError(f"open needs the id of an image of the attempt, got {target!r}")
            self._take_comment(content, content.get("from_asset"))
            self._move(target)
        elif kind == "save":
            self._require_open(content.get("asset_id"))
            self._require_undecided()
            self._take_comment(content, content.get("asset_id"))
            self._save()
        elif kind in self._EDITS:
            draft = self._require_open(content.get("asset_id"))
            self._require_undecided()
            self._EDITS[kind](self, draft, content)
            self._publish_draft()
        elif kind == "decide":
            self._decide(content)
        else:
            raise LabnbError(f"unknown message {kind!r} from the exam grader")

    def _edit_rate(self, draft: Draft, content: Mapping[str, Any]) -> None:
        if draft.rate(content.get("annotation"), content.get("stars")):
            stars = content.get("stars")
            self.status = f"Instance {content.get('annotation')}: " + (
                f"{stars} star{'s' if stars != 1 else ''}" if stars else "back to the proposal"
            )

    def _edit_missing(self, draft: Draft, content: Mapping[str, Any]) -> None:
        gold = content.get("gold")
        missing = draft.mark_missing(gold, content.get("missing"))
        self.status = f"Gold instance {gold}: " + ("Missing" if missing else "not missing")

    def _edit_tag(self, draft: Draft, content: Mapping[str, Any]) -> None:
        draft.set_tag(content.get("annotation"), content.get("right"))
        self.status = f"Tag {content.get('annotation')}: " + ("right" if content.get("right") else "wrong")

    def _edit_accept(self, draft: Draft, _content: Mapping[str, Any]) -> None:
        n = draft.accept_proposals()
        self.status = f"Accepted {n} proposal{'s' if n != 1 else ''}" if n else "No proposal left to accept"

    def _edit_comment(self, draft: Draft, content: Mapping[str, Any]) -> None:
        if draft.item.gradable:
            draft.set_comment(content.get("comment"))

    def _edit_undo(self, draft: Draft, _content: Mapping[str, Any]) -> None:
        self.status = "Undone" if draft.undo() else "Nothing to undo"

    def _edit_redo(self, draft: Draft, _content: Mapping[str, Any]) -> None:
        self.status = "Redone" if draft.redo() else "Nothing to redo"

    _EDITS: ClassVar[dict[str, Callable[[ExamGrader, Draft, Mapping[str, Any]], None]]] = {
        "rate": _edit_rate,
        "missing": _edit_missing,
        "tag": _edit_tag,
        "accept": _edit_accept,
        "comment": _edit_comment,
        "undo": _edit_undo,
        "redo": _edit_redo,
    }

    def _require_open(self, asset_id: Any) -> Draft:
        draft, item = self._draft, self._item
        if draft is None or item is None:
            raise LabnbError("no image is open")
        if asset_id != item.asset_id:
            raise LabnbError(f"the message is about image {asset_id!r}, not the open image; nothing was changed")
        return draft

    def _require_undecided(self) -> None:
        """Refuse a grading message once the open attempt is decided: it is read-only here."""
        locked = locked_text(self._attempt) if self._attempt is not None else ""
        if locked:
            raise LabnbError(f"{locked}; nothing was changed")

    def _gradable(self) -> bool:
        """The open image takes a grade: handed in, of an attempt not decided (as far as the widget knows)."""
        draft, attempt = self._draft, self._attempt
        return draft is not None and draft.item.gradable and attempt is not None and not locked_text(attempt)

    def _take_comment(self, content: Mapping[str, Any], about: Any) -> None:
        """The comment typed so far on image ``about``, sent along with ``open``, ``attempt``, ``decide`` and
        ``save``; ignored when that is no longer the open image or the attempt is decided."""
        draft = self._draft
        if "comment" in content and draft is not None and self._gradable() and about == draft.item.asset_id:
            draft.set_comment(content["comment"])

    def _publish_draft(self) -> None:
        self.draft = self._draft.to_json() if self._draft is not None else {}

    # -- saving and moving -----------------------------------------------------------------------
    def _save(self) -> None:
        draft, attempt = self._draft, self._attempt
        if draft is None or attempt is None:
            raise LabnbError("no image is open")
        if not draft.item.gradable:
            raise LabnbError(f"image '{draft.item.file_name}' is not handed in yet: it cannot be graded")
        check_grader(self._exam, attempt)  # says why (a role lost meanwhile) before the attempt is looked up
        name = draft.item.file_name
        locked = locked_text(attempt.refresh())  # decided elsewhere meanwhile?
        if locked:
            self._refresh_attempt()
            self._show(draft.item.asset_id, image=False)
            raise LabnbError(f"{locked}; the grade of '{name}' was not saved")
        row = self._exam.grade(attempt, draft.item.asset_id, **draft.grade_kwargs())
        self._refresh_attempt()
        self._show(draft.item.asset_id, image=False)  # read back as stored: graded, every verdict the grader's
        mean = row["mean_stars"]
        stars = "no instances" if math.isnan(mean) else f"{mean:.2f} stars"  # NaN: nothing drawn
        self.status = f"Saved {name}: {stars}, {int(row['missed'])} missed"
        if attempt.state == "passed":  # auto_pass: this grade met the mark
            self.status += f". {self._passed_words(attempt)} (the exam passes automatically once the mark is met)"

    def _save_or_drop(self) -> str:
        """Before moving on: save the open image's changed grade and return what the save said; when the
        attempt was decided elsewhere meanwhile, drop the grade (it could never be saved) and say so."""
        draft, attempt = self._draft, self._attempt
        assert draft is not None
        assert attempt is not None
        check_grader(self._exam, attempt)  # says why (a role lost meanwhile) before the attempt is looked up
        locked = locked_text(attempt.refresh())
        if locked:
            self._refresh_attempt()
            return f"The changed grade of {draft.item.file_name} was not saved: {locked}"
        self._save()
        return self.status

    # -- the decision ----------------------------------------------------------------------------
    def _decide(self, content: Mapping[str, Any]) -> None:
        decision = content.get("decision")
        if decision not in ("pass", "fail"):
            raise LabnbError(f"decision must be 'pass' or 'fail', got {decision!r}")
        attempt = self._attempt
        if attempt is None:
            raise LabnbError("no attempt is open")
        if content.get("attempt") != attempt.id:
            raise LabnbError(
                f"the decision is about attempt {content.get('attempt')!r}, not the open attempt {attempt.number} of "
                f"'{attempt.user}'; nothing was decided"
            )
        self._take_comment(content, content.get("from_asset"))
        draft = self._draft
        saved = ""
        if draft is not None and self._gradable() and draft.dirty:
            self._save()  # the pending grade first: the mark is checked with it (refused: nothing is decided)
            saved = f"{self.status}. "
            if decision == "pass" and attempt.state == "passed":
                return  # auto_pass: that save met the mark and passed it; the status says so
        if decision == "pass":
            self._exam.passed(attempt)  # checks the mark itself; refused with what is unmet
        else:
            self._exam.fail(attempt)
        self._refresh_attempt()
        if self._item is not None:
            self._show(self._item.asset_id, image=False)  # read-only now
        if decision == "pass":
            self.status = f"{saved}{self._passed_words(attempt)}; the attempt is read-only now"
        else:
            self.status = (
                f"{saved}Failed attempt {attempt.number} of {attempt.user}; the attempt is read-only now (the "
                "trainee may retake the exam within its limits)"
            )

    def _passed_words(self, attempt: Attempt) -> str:
        grants = ", ".join(f"'{g}'" for g in self._exam.grants)
        return f"Passed attempt {attempt.number} of {attempt.user}" + (f": granted {grants}" if grants else "")

    def _move(self, asset_id: int) -> None:
        """Save the open image's grade if it changed, then show ``asset_id``. A refused save keeps the image
        open with its draft: nothing is lost."""
        if self._attempt is None:
            raise LabnbError("no attempt is open")
        if asset_id not in [r["asset_id"] for r in self.images]:
            raise LabnbError(f"image {asset_id} is not an image of attempt {self._attempt.number}")
        saved = ""
        if self._draft is not None and self._gradable() and self._draft.dirty:
            saved = self._save_or_drop()
        else:
            self._refresh_attempt()  # images the trainee handed in meanwhile show as such
        self._show(asset_id)
        if saved:
            self.status = f"{saved}. {self.status}"

    def _switch_attempt(self, attempt_id: Any) -> None:
        if not isinstance(attempt_id, int) or isinstance(attempt_id, bool):
            raise LabnbError(f"attempt needs an attempt id, got {attempt_id!r}")
        if attempt_id not in [a["id"] for a in self.attempts]:
            raise LabnbError(f"attempt {attempt_id} is not one of the attempts to grade here")
        target = self._exam.attempt(attempt_id)
        saved = ""
        if self._draft is not None and self._gradable() and self._draft.dirty:
            saved = self._save_or_drop()
        self._open_attempt(target)
        if saved:
            self.status = f"{saved}. {self.status}"

    def _reload_attempts(self) -> list[Attempt]:
        """The attempts to pick from: the handed-in attempts of others, and the one asked for."""
        me = self._project.user
        found = [a for a in self._exam.attempts() if a.user != me and a.state != "started"]
        if self._asked is not None and all(a.id != self._asked.id for a in found):
            found.append(self._asked.refresh())
        found.sort(key=lambda a: (a.user, a.number))
        self.attempts = [attempt_payload(a) for a in found]
        return found

    def _open_attempt(self, attempt: Attempt) -> None:
        check_grader(self._exam, attempt)
        self._attempt = attempt
        self._refresh_attempt()
        rows = self.images
        first = next((r for r in rows if r["state"] == "handed_in"), None) or (rows[0] if rows else None)
        if first is None:
            self._hide()
            self.status = f"Attempt {attempt.number} of {attempt.user} has no images"
            return
        self._show(int(first["asset_id"]))

    def _refresh_attempt(self) -> None:
        """The open attempt's state, images and summary as stored now (after a grade: at once)."""
        a = self._attempt
        assert a is not None
        a.refresh()
        with self.hold_sync():
            self.attempt_info = attempt_payload(a)
            self.images = images_payload(image_rows(self._exam, [a]))
            row = attempt_rows(self._exam, [a]).iloc[0]
            self.summary = summary_payload(row)
            self.decision = decision_payload(self._exam, a, row)
            self._reload_attempts()

    def _show(self, asset_id: int, *, image: bool = True) -> None:
        """Show image ``asset_id`` of the open attempt with a fresh draft from the store (``image``: and send
        the image; not when the same image is read again after a save, whose bytes the browser holds)."""
        attempt = self._attempt
        assert attempt is not None
        item = grading_item(self._exam, attempt, asset_id)  # checks the grader before reading the gold
        ids = [r["asset_id"] for r in self.images]
        index = ids.index(asset_id) if asset_id in ids else 0
        shown = None
        if image:
            asset = self._project.asset(asset_id)
            info = {"asset_id": asset.id, "file_name": asset.file_name, "width": asset.width,
                    "height": asset.height, "index": index, "count": len(ids)}  # fmt: skip
            shown = self._feed.initial(asset, info)
        self._shown += 1
        self._item = item
        self._draft = Draft(item)
        with self.hold_sync():
            if shown is not None:
                self.image_info = shown["image_info"]
                self.image = shown["image"]
                self.preview = shown["preview"]
            self.item = item_payload(item, index, len(ids), self._shown, locked_text(attempt))
            self._publish_draft()
            self.error = ""
            what = {"drawing": "not handed in yet, not gradable", "handed_in": "to grade", "graded": "graded"}
            self.status = f"{item.file_name} ({index + 1}/{len(ids)}): {what[item.state]}"
        if shown is not None:
            self._feed.follow()

    def _hide(self) -> None:
        self._item = None
        self._draft = None
        self._feed.hide()
        with self.hold_sync():
            self.item = {}
            self.draft = {}
            self.image_info = {}
            self.image = b""
            self.preview = b""
