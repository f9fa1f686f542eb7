"""The database tables, as SQLAlchemy Core ``Table`` objects.

The ``annotations`` table is the Python name ``annotation_rows``: a module-level ``annotations`` would be
shadowed by ``from __future__ import annotations`` in every module that imports it.

Core rather than ORM: a project holds up to millions of annotation rows, bulk-loaded and read per image,
and plain rows are several times faster to build than mapped objects. The migrations in
``labnb/store/migrations/versions`` create exactly these tables; a test checks the two agree.

One database may hold several projects (a team's PostgreSQL server), so every table is keyed by
``project_id``. Geometry is JSON text (``annotations.data``) beside denormalised bbox columns, which
is what queries, exports and metrics read most.
"""

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.sql.elements import TextClause

metadata = MetaData()


def sa_false() -> TextClause:
    """A server default of false that SQLite and PostgreSQL both take."""
    return text("false")


projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
    #: JSON: tools, tag groups, attributes (classes have their own table).
    Column("settings", Text, nullable=False),
)

label_classes = Table(
    "label_classes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("color", String(7), nullable=False),
    Column("hotkey", String(8)),
    Column("keypoints", Text, nullable=False, default="[]"),
    Column("skeleton", Text, nullable=False, default="[]"),
    Column("position", Integer, nullable=False),
    UniqueConstraint("project_id", "name"),
)

members = Table(
    "members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("user", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("added_by", String(200), nullable=False),
    UniqueConstraint("project_id", "user"),
)

blobs = Table(
    "blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

#: The small levels of each image (labnb.pyramid): a 256-px thumbnail and a 1024-px preview, each only when
#: smaller than the image. Keyed by the file's SHA-256 like ``blobs`` (the same pixels in two projects or
#: two imports share them), written while images are added (migration 0007).
image_previews = Table(
    "image_previews",
    metadata,
    Column("sha256", String(64), primary_key=True),
    #: the bound on the longest side: 256 or 1024
    Column("side", Integer, primary_key=True),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    #: ``jpeg`` or ``webp`` (images with transparency)
    Column("format", String(8), nullable=False),
    Column("data", LargeBinary, nullable=False),
)

assets = Table(
    "assets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    #: ``file:///abs/path``, ``blob:<sha256>`` (pixels in ``blobs``) or an ``http(s)`` URL.
    Column("uri", Text, nullable=False),
    Column("file_name", String(500), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("sha256", String(64)),
    Column("format", String(16)),
    Column("meta", Text, nullable=False, default="{}"),
    # Image sequences (video frames), added by migration 0002.
    Column("sequence", String(200)),
    Column("frame_index", Integer),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("added_by", String(200), nullable=False),
    Index("ix_assets_project_hash", "project_id", "sha256"),
    Index("ix_assets_project_name", "project_id", "file_name"),
    Index("ix_assets_sequence", "project_id", "sequence", "frame_index"),
)

annotation_rows = Table(
    "annotations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("asset_id", Integer, ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
    Column("label_id", Integer, ForeignKey("label_classes.id")),
    Column("kind", String(16), nullable=False),
    Column("data", Text),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
    Column("w", Float, nullable=False),
    Column("h", Float, nullable=False),
    Column("area", Float, nullable=False),
    Column("iscrowd", Boolean, nullable=False, default=False),
    Column("attributes", Text),
    #: ``human``, ``ground_truth`` or ``prediction``; predictions also carry model, version and score.
    Column("source", String(16), nullable=False),
    Column("model", String(200)),
    Column("model_version", String(100)),
    Column("score", Float),
    #: Object identity across the frames of a sequence (migration 0002).
    Column("track_id", Integer),
    #: The draw task (one pass of a job) whose work this is (migration 0004); None outside jobs.
    Column("task_id", Integer),
    #: The prediction an accepted model suggestion was committed from (migration 0006); None otherwise.
    Column("prediction_id", Integer),
    Column("revision", Integer, nullable=False, default=1),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_annotations_asset", "asset_id", "deleted"),
    Index("ix_annotations_project_source", "project_id", "source"),
    Index("ix_annotations_model", "asset_id", "source", "model", "model_version"),
    Index("ix_annotations_task", "task_id"),
)

#: That a model version ran on an image (even finding nothing), with the image's uncertainty under it:
#: the most uncertain of its detections by least confidence, margin and entropy (migration 0003).
prediction_runs = Table(
    "prediction_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("asset_id", Integer, ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
    Column("model", String(200), nullable=False),
    Column("model_version", String(100), nullable=False),
    Column("count", Integer, nullable=False),
    Column("least_confidence", Float, nullable=False),
    Column("margin", Float, nullable=False),
    Column("entropy", Float, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
    UniqueConstraint("asset_id", "model", "model_version", name="uq_prediction_runs_asset_model"),
    Index("ix_prediction_runs_model", "project_id", "model", "model_version"),
)

annotation_revisions = Table(
    "annotation_revisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("annotation_id", Integer, ForeignKey("annotations.id", ondelete="CASCADE"), nullable=False),
    Column("revision", Integer, nullable=False),
    #: ``update``, ``delete`` or ``restore``: what replaced the state kept in this row.
    Column("action", String(16), nullable=False),
    Column("user", String(200), nullable=False),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("label_id", Integer),
    #: The replaced state's kind (migration 0006): an update may turn a box into a polygon.
    Column("kind", String(16)),
    Column("data", Text),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
    Column("w", Float, nullable=False),
    Column("h", Float, nullable=False),
    Column("attributes", Text),
    Column("deleted", Boolean, nullable=False),
    Index("ix_revisions_annotation", "annotation_id", "revision"),
)

#: A batch of images to label: how many passes each gets, how often drawing is reviewed, who may work
#: (credentials), and when more passes are added (agreement under ``min_agreement``). Migration 0004.
jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    #: draft (being set up), launched (tasks exist), completed (every task completed; launched again if a
    #: pass is added)
    Column("state", String(16), nullable=False),
    Column("passes_per_file", Integer, nullable=False),
    Column("review_frequency", Integer, nullable=False),
    Column("overlap", Float, nullable=False),
    Column("min_agreement", Float),
    Column("max_extra_passes", Integer, nullable=False),
    #: markdown as written; sanitised when rendered (labnb.workflow.guides)
    Column("guide", Text, nullable=False),
    Column("review_guide", Text, nullable=False),
    #: JSON list of credential names a worker needs
    Column("credentials", Text, nullable=False),
    Column("claim_minutes", Float, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("launched_at", DateTime(timezone=True)),
    #: ``work`` (an ordinary job) or ``exam`` (the tasks of an exam's attempts, labnb.exams); migration 0008
    Column("kind", String(8), nullable=False, server_default="work"),
    #: continuous gold (migration 0008): the share of draw tasks that are an exam's images, the exam, and the
    #: gold F1 over whose 95 % interval's upper bound a worker must stay, or their credential for the job is
    #: suspended
    Column("gold_rate", Float),
    Column("gold_exam_id", Integer),
    Column("min_gold_f1", Float),
    #: gold images a worker must have done in the job before their credential may be suspended
    Column("min_gold_images", Integer),
    UniqueConstraint("project_id", "name", name="uq_jobs_project_name"),
)

job_assets = Table(
    "job_assets",
    metadata,
    Column("job_id", Integer, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("asset_id", Integer, ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False),
    #: draw passes planned for the image (passes_per_file, or 1 outside the overlap, plus extra ones)
    Column("passes", Integer, nullable=False),
    Column("extra_passes", Integer, nullable=False),
    #: mean pairwise agreement of its passes once all are drawn (labnb.metrics.agreement)
    Column("agreement", Float),
)

#: One unit of work: a draw pass over an image, or the review of one draw task. States of a draw task:
#: none -> annotated -> review -> completed, review -> to_fix -> annotated (labnb.workflow.tasks).
tasks = Table(
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("job_id", Integer, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("asset_id", Integer, ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("pass_index", Integer, nullable=False),
    #: claim order within the job
    Column("seq", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("needs_review", Boolean, nullable=False),
    Column("assignee", String(200)),
    Column("claimed_at", DateTime(timezone=True)),
    #: an abandoned claim lapses at this time and the task can be claimed again
    Column("expires_at", DateTime(timezone=True)),
    #: for a review task: the draw task it reviews
    Column("draw_task_id", Integer, ForeignKey("tasks.id", ondelete="CASCADE")),
    Column("comment", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    #: the exam attempt a draw task belongs to (assigned to its trainee from the start); migration 0008
    Column("attempt_id", Integer, ForeignKey("exam_attempts.id", ondelete="CASCADE")),
    #: a continuous-gold task: an exam image in an ordinary job, scored against the exam's gold, never
    #: reviewed as work nor merged; migration 0008
    Column("gold", Boolean, nullable=False, server_default=sa_false()),
    Index("ix_tasks_queue", "job_id", "kind", "state", "seq"),
    Index("ix_tasks_asset_assignee", "job_id", "asset_id", "assignee"),
    Index("ix_tasks_assignee", "project_id", "assignee", "kind", "state"),
    #: the job's largest seq, read when a review or an extra pass joins the queue (migration 0005)
    Index("ix_tasks_job_seq", "job_id", "seq"),
)

#: Named qualifications that jobs may require: each grant is a row that stays when revoked (``revoked_at``),
#: with where it came from (``manual``: p.members.grant; ``exam``: an exam passed) and a suspension when
#: continuous gold found the holder's work below the job's mark. Held = neither revoked nor suspended.
#: Migration 0008 (replacing 0004's ``credentials``, whose rows it copies as manual grants).
credential_grants = Table(
    "credential_grants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("user", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("source", String(16), nullable=False),
    Column("exam_id", Integer),
    Column("attempt_id", Integer),
    Column("granted_by", String(200), nullable=False),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("revoked_by", String(200)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("suspended_by", String(200)),
    Column("suspended_at", DateTime(timezone=True)),
    Column("suspend_reason", Text),
    Index("ix_credential_grants_user", "project_id", "user", "name"),
)

#: An exam (labnb.exams): a job of kind ``exam`` whose images carry a gold standard snapshotted at creation
#: (``exam_gold``), the credentials passing it grants and the pass mark. Migration 0008.
exams = Table(
    "exams",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("job_id", Integer, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    #: where the gold came from: ``ground_truth``, ``consensus`` or ``job:<id>``
    Column("gold_source", String(40), nullable=False),
    #: JSON: credential names passing grants; {criterion: mark}
    Column("grants", Text, nullable=False),
    Column("pass_mark", Text, nullable=False),
    Column("max_attempts", Integer),
    #: seconds between one attempt's start and the next one's
    Column("retake_after", Float),
    Column("auto_pass", Boolean, nullable=False),
    Column("iou", Float, nullable=False),
    #: whether a trainee sees their own graded instances (never the gold)
    Column("show_graded", Boolean, nullable=False),
    #: the snapshot's version (1) and SHA-256 of its rows, so a result names the gold it was graded on
    Column("gold_version", Integer, nullable=False),
    Column("gold_hash", String(64), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("project_id", "name", name="uq_exams_project_name"),
)

#: The gold instances of an exam: copies of the source annotations at creation time, never annotation rows
#: (so no annotation read path can return them), readable by reviewers and above only.
exam_gold = Table(
    "exam_gold",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("exam_id", Integer, ForeignKey("exams.id", ondelete="CASCADE"), nullable=False),
    Column("asset_id", Integer, ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
    Column("label_id", Integer, ForeignKey("label_classes.id")),
    Column("kind", String(16), nullable=False),
    Column("data", Text),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
    Column("w", Float, nullable=False),
    Column("h", Float, nullable=False),
    Column("area", Float, nullable=False),
    Column("iscrowd", Boolean, nullable=False),
    Column("attributes", Text),
    Column("source_annotation_id", Integer),
    Index("ix_exam_gold_asset", "exam_id", "asset_id"),
)

#: One trainee's sitting of an exam: started, handed in (every image submitted), decided (passed/failed).
exam_attempts = Table(
    "exam_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("exam_id", Integer, ForeignKey("exams.id", ondelete="CASCADE"), nullable=False),
    Column("user", String(200), nullable=False),
    Column("number", Integer, nullable=False),
    #: started, submitted, passed, failed
    Column("state", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("submitted_at", DateTime(timezone=True)),
    Column("decided_by", String(200)),
    Column("decided_at", DateTime(timezone=True)),
    UniqueConstraint("exam_id", "user", "number", name="uq_exam_attempts_number"),
)

#: The automatic score of one handed-in draw task against an exam's gold (an attempt's image, or a
#: continuous-gold task): counts, mean IoU and, in ``detail`` (JSON), the match of every instance.
exam_scores = Table(
    "exam_scores",
    metadata,
    Column("task_id", Integer, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("exam_id", Integer, ForeignKey("exams.id", ondelete="CASCADE"), nullable=False),
    Column("asset_id", Integer, nullable=False),
    Column("user", String(200), nullable=False),
    Column("tp", Integer, nullable=False),
    Column("fp", Integer, nullable=False),
    Column("fn", Integer, nullable=False),
    Column("wrong_label", Integer, nullable=False),
    Column("iou_sum", Float, nullable=False),
    Column("detail", Text, nullable=False),
    Column("scored_at", DateTime(timezone=True), nullable=False),
)

#: A grader's verdict on one image of an attempt: stars per trainee instance, gold instances marked
#: missing, tags right or wrong, a comment (JSON columns); replaced when the image is graded again.
exam_grades = Table(
    "exam_grades",
    metadata,
    Column("task_id", Integer, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("attempt_id", Integer, ForeignKey("exam_attempts.id", ondelete="CASCADE"), nullable=False),
    Column("asset_id", Integer, nullable=False),
    Column("grader", String(200), nullable=False),
    Column("stars", Text, nullable=False),
    Column("missing", Text, nullable=False),
    Column("tags", Text, nullable=False),
    Column("comment", Text),
    Column("graded_at", DateTime(timezone=True), nullable=False),
    Index("ix_exam_grades_attempt", "attempt_id"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("user", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("asset_id", Integer),
    Column("task_id", Integer),
    Column("annotation_id", Integer),
    Column("time", DateTime(timezone=True), nullable=False),
    #: Active seconds the change took (labelling time), when known.
    Column("duration", Float),
    Column("payload", Text),
    #: what work the event was: label, review, rework or exam (NULL: not a person's labelling work); the
    #: dashboard's time split (labnb.event_log says how it is decided); migration 0009
    Column("work", String(8)),
    #: annotation rows the event created; migration 0009
    Column("created", Integer),
    #: the job of the event's task; migration 0009
    Column("job_id", Integer),
    #: the state change of a draw pass the event made (the Sankey's flows); migration 0009
    Column("flow_from", String(16)),
    Column("flow_to", String(16)),
    Column("pass_task_id", Integer),
    Index("ix_events_project_time", "project_id", "time"),
    #: covers the dashboard's aggregates: a range scan of one project's days reads nothing but this index
    Index(
        "ix_events_dashboard", "project_id", "time", "work", "user", "kind", "job_id", "duration", "created", "asset_id"
    ),
    #: a pass's review decisions (its first one), and the newest events of a project (a dashboard's poll)
    Index("ix_events_flow", "project_id", "pass_task_id", "kind"),
    Index("ix_events_project_id", "project_id", "id"),
    #: the pass flows of a window (the Sankey, completions, first reviews): only the events that moved a pass
    Index(
        "ix_events_flows",
        "project_id",
        "time",
        "flow_from",
        "flow_to",
        "pass_task_id",
        "kind",
        "job_id",
        sqlite_where=text("flow_from IS NOT NULL"),
        postgresql_where=text("flow_from IS NOT NULL"),
    ),
)
