"""The workflow methods of :class:`labnb.Project` (a mixin): jobs, and claiming one's next task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from labnb.workflow import claims as _claims
from labnb.workflow import tasks as _tasks
from labnb.workflow.job_list import Jobs
from labnb.workflow.jobs import Job

if TYPE_CHECKING:
    from labnb.agreement import AgreementReport
    from labnb.agreement.build import By
    from labnb.exams import Attempt, Exam, Exams
    from labnb.project import Project
    from labnb.widgets.annotator import Annotator
    from labnb.widgets.exam_grader import ExamGrader
    from labnb.widgets.review_panel import ReviewPanel
    from labnb.workflow.tasks import Kind, Task


class WorkflowMethods:
    """Mixed into :class:`labnb.Project`."""

    def _workflow_project(self) -> Project:
        return cast("Project", self)

    @property
    def jobs(self) -> Jobs:
        """``p.jobs.create(...)``, ``p.jobs["name"]``, ``p.jobs.df``."""
        return Jobs(self._workflow_project())

    @property
    def exams(self) -> Exams:
        """``p.exams.create(...)``, ``p.exams["name"]``, ``p.exams.df``, ``p.exams.start("name")``."""
        from labnb.exams import Exams  # noqa: PLC0415 - the exams layer builds on the workflow

        return Exams(self._workflow_project())

    def next_task(self, kind: Kind = "draw", job: Job | int | str | None = None) -> Task | None:
        """Claim the current user's next task of ``kind`` ("draw" or "review"), or None when there is none
        for them.

        A task already in hand comes back first (a pass sent back "to fix", then a live claim). Otherwise the
        first free task of a launched job (``job`` narrows it) that this user may take: drawing takes the
        annotator role, reviewing the reviewer role, and both the job's credentials; nobody draws two passes
        of one image or reviews their own drawing. The claim is atomic across processes and machines
        (SQLite and PostgreSQL) and lapses after the job's ``claim_minutes`` unless handed in.
        """
        return _claims.next_task(self._workflow_project(), kind, job)

    def work(self, job: Job | int | str | None = None, **options: Any) -> Annotator | None:
        """Start labelling: claim your next draw task (:meth:`next_task`) and return the Annotator on it, with
        the job's guide. Its "Submit" button saves every pending edit, hands the pass in and opens your next
        task, until none is left. None when there is no task for you now. ``options`` go to the Annotator
        (``keymap``, ``assist``, ...)."""
        task = self.next_task("draw", job)
        if task is None:
            return None
        return task.annotator(auto_next=True, **options)

    def task(self, task_id: int) -> Task:
        """A task by id (to look at it, or to act on one you hold)."""
        return _tasks.load(self._workflow_project(), task_id)

    def agreement(
        self, job: Job | int | str | None = None, by: By = "image", *, threshold: float = 0.5, progress: bool = True
    ) -> AgreementReport:
        """How much the drawn passes agree (reviewers and above): every work job's (``job``, a Job, id or
        name, narrows it), only passes handed in (annotated, in review or completed), never exam images.

        ``by="image"``: a row per (job, image): passes, annotators, objects (shapes matched across passes
        into units, as the consensus clusters them), ``found_by_all`` (share of objects every pass drew),
        ``iou`` (the workflow's mean pairwise matched IoU/OKS of the shapes, a missed object counting 0)
        and ``alpha`` (Krippendorff's alpha over the objects with distance 1 - IoU, a shape missing in a
        pass at the full distance 1), and per tag group the share of agreeing pairs of passes.
        ``by="label"``: the same per class. ``by="pair"``: the annotator x annotator matrix of mean
        agreement over the images both drew (``report.n``: how many). ``by="annotator"``: each person's
        ``vs_others`` (mean pairwise), ``vs_consensus`` and ``vs_ground_truth`` (F1, where the image has
        ground truth), with counts. ``report.summary``: per job, alpha, Fleiss' kappa and percent agreement
        of every tag group and attribute over the images, and the shapes' alpha. ``threshold`` is the
        IoU/OKS two shapes need to be one object.

        ``report.figure()`` charts it (a heatmap for pairs); ``report.below(0.7)`` lists the images under
        a threshold, and ``.add_passes()`` asks their jobs for another pass or ``.to_job("recheck")`` makes
        a reviewed job of them. Details: :mod:`labnb.agreement`.
        """
        from labnb.agreement import agreement  # noqa: PLC0415 - the report sits above the workflow

        return agreement(self._workflow_project(), job, by, threshold=threshold, progress=progress)

    def review_panel(self, job: Job | int | str, **options: Any) -> ReviewPanel:
        """The Review panel widget on ``job``'s review queue (reviewers and above).

        It lists the passes awaiting review that this user may review (never their own drawing) with their
        drawer and the image's agreement, filters them (agreement below a threshold, drawer, class), and
        shows the open item's image with every drawn pass in per-drawer colours. Keys: Up/Down (or
        Left/Right) move through the queue, A accepts, R rejects with a comment (Enter sends it), F fixes
        the pass in place with the Annotator's tools and F (or A) accepts it as fixed, S shows the passes
        side by side, G the job's review guide. Opening an item claims its review task. ``options`` go to
        :class:`labnb.widgets.review_panel.ReviewPanel` (``keymap``, ``side_by_side``).
        """
        from labnb.widgets.review_panel import ReviewPanel  # noqa: PLC0415 - widgets sit above the workflow

        return ReviewPanel(self._workflow_project(), job, **options)

    def exam_grader(self, exam: Exam | Attempt | int | str, **options: Any) -> ExamGrader:
        """The exam grader widget (reviewers and above; never on one's own attempt): grade a trainee's
        attempt image by image, then pass or fail it. With an exam (or its name) it lists the handed-in
        attempts to pick from and opens the first awaiting grading; with an attempt, that one. Refused
        (AccessDenied) for the trainee.

        The trainee's instances show in their class colours, the gold in gold, and the automatic pre-score's
        proposals (stars, Missing, tag verdicts) as proposals until confirmed or changed. Keys: Tab /
        Shift+Tab select the next / previous instance, 1-5 rate it (0 clears back to the proposal), F shows
        it alone with its matched gold (Focus), G shows or hides the gold, M marks the selected unmatched gold
        instance Missing (again: not missing), Enter accepts every proposal on the image, Ctrl+Z /
        Ctrl+Shift+Z undo and redo, S (or Ctrl+S) saves, Left/Right (or Up/Down) move between the attempt's
        images, saving a changed grade first (one ``exam.grade`` transaction per image), Escape leaves Focus.
        P passes the attempt (``exam.passed``: offered once it is handed in and meets the mark, which the head
        line says until then; grants the exam's credentials) and Shift+F fails it (``exam.fail``), each after
        a confirmation in the widget (the key again, or Confirm); a decided attempt is shown read-only.
        ``options`` go to :class:`labnb.widgets.exam_grader.ExamGrader` (``keymap``).
        """
        from labnb.widgets.exam_grader import ExamGrader  # noqa: PLC0415 - widgets sit above the workflow

        return ExamGrader(self._workflow_project(), exam, **options)
