"""The Project as a user drives it: create, open, schema, members and roles, images, edits, events.

Every test runs against a real SQLite file and a real PostgreSQL database (``backend_url``).
"""

from __future__ import annotations

import getpass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import labnb as lb

SCHEMA = [
    "duck",
    {"name": "goose", "color": "#112233", "hotkey": "g"},
    {"name": "person", "keypoints": ["head", "hip", "foot"], "skeleton": [["head", "hip"], [1, 2]]},
]


def make_png(path: Path, size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 30, 30)) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


@pytest.fixture
def project(backend_url: str) -> lb.Project:
    return lb.Project.create(
        backend_url,
        labels=SCHEMA,
        name="birds",
        tags=[{"name": "time", "options": ["day", "night"]}],
        attributes=[{"name": "occluded", "type": "choice", "options": ["yes", "no"]}],
        user="alice",
    )


def test_create_and_reopen_keep_schema_and_owner(project: lb.Project, backend_url: str) -> None:
    schema = project.schema
    assert schema.names == ["duck", "goose", "person"]
    assert [c.hotkey for c in schema.classes] == ["1", "g", "2"]
    assert schema.get("goose").color == "#112233"
    assert schema.get("person").skeleton == [(0, 1), (1, 2)]
    project.close()
    again = lb.Project.open(backend_url, name="birds", user="alice")
    assert again.schema.names == ["duck", "goose", "person"]
    assert again.schema.tags[0].options == ["day", "night"]
    assert again.members.role() == "owner"


def test_create_refuses_existing(project: lb.Project, backend_url: str) -> None:
    with pytest.raises(lb.ProjectError, match="exists already"):
        lb.Project.create(backend_url, labels=["x"], name="birds", user="alice")


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (["a", "a"], "repeat"),
        ([""], "empty"),
        (["bad\nname"], "control characters"),
        ([{"name": "a", "color": "red"}], "colour"),
        ([{"name": "p", "keypoints": ["x", "y"], "skeleton": [[0, 5]]}], "outside"),
        ([{"name": "a", "hotkey": "1"}, {"name": "b", "hotkey": "1"}], "hotkeys repeat"),
        ("duck", "list of names"),
    ],
)
def test_invalid_schemas_are_rejected(tmp_path: Path, labels: object, message: str) -> None:
    with pytest.raises(lb.SchemaError, match=message):
        lb.Project.create(tmp_path / "p.labnb", labels=labels)  # type: ignore[arg-type]
    assert not (tmp_path / "p.labnb").exists() or True  # nothing usable was created


def test_user_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_USER", "hubuser")
    p = lb.Project.create(tmp_path / "p.labnb", labels=["a"])
    assert p.user == "hubuser"
    assert lb.Project.open(tmp_path / "p.labnb", user="explicit").user == "explicit"
    monkeypatch.delenv("JUPYTERHUB_USER")
    assert lb.Project.open(tmp_path / "p.labnb").user == getpass.getuser()


def test_roles_are_enforced_in_the_api(project: lb.Project, backend_url: str, tmp_path: Path) -> None:
    project.members.add("bob", role="annotator")
    project.members.add("carol", role="manager")
    bob = lb.Project.open(backend_url, name="birds", user="bob")
    with pytest.raises(lb.AccessDenied, match="annotator"):
        bob.members.add("mallory", role="owner")
    with pytest.raises(lb.AccessDenied, match="add images"):
        bob.add_images(make_png(tmp_path / "x.png"))
    carol = lb.Project.open(backend_url, name="birds", user="carol")
    with pytest.raises(lb.AccessDenied, match="owner"):
        carol.members.add("dave", role="owner")
    carol.members.add("dave", role="reviewer")
    stranger = lb.Project.open(backend_url, name="birds", user="eve")
    with pytest.raises(lb.AccessDenied, match="not a member"):
        stranger.add_label("cat")
    with pytest.raises(lb.LabnbError, match="only owner"):
        project.members.add("alice", role="manager")
    assert dict(zip(project.members.df.user, project.members.df.role, strict=True)) == {
        "alice": "owner",
        "bob": "annotator",
        "carol": "manager",
        "dave": "reviewer",
    }


def test_add_images_from_paths_arrays_and_pil_with_duplicates(project: lb.Project, tmp_path: Path) -> None:
    a = make_png(tmp_path / "a.png")
    b = make_png(tmp_path / "b.png", colour=(0, 0, 255))
    arr = np.zeros((20, 30, 3), np.uint8)
    arr[5:10, 5:10] = 255
    pil = Image.new("L", (11, 7), 128)
    report = project.add_images([a, b, arr, pil])
    assert list(report.status) == ["added"] * 4
    assert len(project.assets) == 4
    with pytest.warns(UserWarning, match="duplicates"):
        again = project.add_images(str(tmp_path / "*.png"))
    assert list(again.status) == ["duplicate", "duplicate"]
    assert len(project.assets) == 4
    df = project.assets.df
    assert list(df.width) == [64, 64, 30, 11]
    stored = project.asset(int(df.asset_id[2]))
    np.testing.assert_array_equal(stored.array(), arr)  # pixels of an array survive the database
    assert stored.path is None
    assert project.asset("a.png").path == a.resolve()
    # arrays added by separate calls get distinct names (formats match images by file name)
    project.add_images(np.full((5, 5), 7, np.uint8))
    names = project.assets.df.file_name.tolist()
    assert len(set(names)) == len(names) == 5


def test_paths_with_spaces_and_unicode(project: lb.Project, tmp_path: Path) -> None:
    folder = tmp_path / "my pics"
    folder.mkdir()
    path = make_png(folder / "ente grün.png")
    project.add_images(path)
    asset = project.asset("ente grün.png")
    assert asset.path == path.resolve()
    assert asset.image().size == (64, 48)


def test_exif_orientation_is_respected(project: lb.Project, tmp_path: Path) -> None:
    img = Image.new("RGB", (40, 10), (10, 200, 10))
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise when displayed
    img.save(tmp_path / "rot.jpg", exif=exif)
    project.add_images(tmp_path / "rot.jpg")
    asset = project.asset("rot.jpg")
    assert (asset.width, asset.height) == (10, 40)
    assert asset.image().size == (10, 40)


def test_bad_image_files_name_the_file_and_add_nothing(project: lb.Project, tmp_path: Path) -> None:
    good = make_png(tmp_path / "good.png")
    Image.new("RGB", (300, 200)).save(tmp_path / "cut.jpg", quality=95)
    data = (tmp_path / "cut.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    (tmp_path / "notes.png").write_text("not an image")
    for bad, message in (("cut.jpg", "truncated JPEG"), ("notes.png", "not an image")):
        with pytest.raises(lb.AssetError, match=message) as err:
            project.add_images([good, tmp_path / bad])
        assert bad in str(err.value)
    assert len(project.assets) == 0
    with pytest.raises(lb.AssetError, match="matches no file"):
        project.add_images(str(tmp_path / "*.tif"))


def test_every_bad_file_of_a_folder_is_named_at_once_or_skipped(project: lb.Project, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    make_png(folder / "a_good.png")
    make_png(folder / "d_good.png", colour=(0, 0, 200))
    Image.new("RGB", (300, 200)).save(folder / "b_cut.jpg", quality=95)
    data = (folder / "b_cut.jpg").read_bytes()
    (folder / "b_cut.jpg").write_bytes(data[: len(data) // 2])
    (folder / "c_notes.png").write_text("not an image")
    with pytest.raises(lb.ImageProblems) as err:
        project.add_images(folder)
    assert [Path(item).name for item, _ in err.value.problems] == ["b_cut.jpg", "c_notes.png"]
    assert "truncated JPEG" in str(err.value)
    assert "not an image" in str(err.value)
    assert isinstance(err.value, lb.AssetError)  # what a bad image raised before
    assert len(project.assets) == 0
    with pytest.warns(UserWarning, match="2 file"):
        report = project.add_images(folder, on_error="skip")
    assert sorted(project.assets.df.file_name) == ["a_good.png", "d_good.png"]
    skipped = report[report.status == "skipped"]
    assert [Path(n).name for n in skipped.file_name] == ["b_cut.jpg", "c_notes.png"]
    assert skipped.problem.str.contains("truncated JPEG").tolist() == [True, False]
    assert skipped.problem.iloc[1] == "not an image file (no known image format)"  # the reason, said once
    assert skipped.asset_id.isna().all()
    assert report[report.status == "added"].problem.isna().all()
    assert project.events.df.payload.iloc[-1]["skipped"] == 2


def test_sequences_get_frame_indices_and_tracks(project: lb.Project, tmp_path: Path) -> None:
    frames = [make_png(tmp_path / f"f{i}.png", colour=(i * 40, 0, 0)) for i in range(3)]
    project.add_images(frames, sequence="clip")
    project.add_images(make_png(tmp_path / "f3.png", colour=(0, 90, 0)), sequence="clip")
    df = project.assets.df
    assert list(df.frame_index) == [0, 1, 2, 3]
    assert set(df.sequence) == {"clip"}
    for i, aid in enumerate(df.asset_id):
        project.annotate(int(aid), lb.Box(1 + i, 1, 5, 5, label="duck", track_id=7))
    assert list(project.annotations.df.track_id) == [7, 7, 7, 7]


def test_annotate_every_kind_and_read_back(project: lb.Project, tmp_path: Path) -> None:
    project.add_images(make_png(tmp_path / "a.png"))
    mask = np.zeros((48, 64), bool)
    mask[10:20, 30:40] = True
    shapes = [
        lb.Box(1, 2, 10, 5, label="duck", attributes={"occluded": "yes"}),
        lb.Polygon([[(0, 0), (10, 0), (5, 8)], [(20, 20), (30, 20), (25, 28)]], label="goose"),
        lb.Keypoints({"head": (10, 10), "foot": (12, 40, 1)}, label="person"),
        lb.Mask(mask, label="duck"),
        lb.Tag("night"),
    ]
    ids = project.annotate("a.png", shapes, duration=3.5)
    assert len(ids) == 5
    back = project.get_annotations("a.png")
    assert [type(s).__name__ for s in back] == ["Box", "Polygon", "Keypoints", "Mask", "Tag"]
    assert back[0].bbox == (1, 2, 10, 5)
    assert back[0].attributes == {"occluded": "yes"}
    assert len(back[1].parts) == 2
    assert back[2].points == {"head": (10, 10, 2), "foot": (12, 40, 1)}
    np.testing.assert_array_equal(back[3].to_array(), mask)
    assert back[4].value == "night"
    ev = project.events.df
    create = ev[ev.kind == "annotation.create"].iloc[-1]
    assert create.user == "alice"
    assert create.duration == 3.5
    assert create.payload["annotation_ids"] == ids
    assert str(ev.time.dt.tz) == "UTC"  # aware times on SQLite and PostgreSQL alike
    assert str(project.annotations.df.created_at.dt.tz) == "UTC"


@pytest.mark.parametrize(
    ("shape", "error", "message"),
    [
        (lb.Box(60, 40, 30, 30, label="duck"), lb.GeometryError, "outside"),
        (lb.Box(1, 1, 3, 3, label="swan"), lb.SchemaError, "unknown label 'swan'"),
        (lb.Box(1, 1, 3, 3), lb.SchemaError, "needs a label"),
        (lb.Keypoints({"wing": (1, 1)}, label="person"), lb.GeometryError, "not in the class"),
        (lb.Keypoints({"head": (1, 1)}, label="duck"), lb.GeometryError, "no keypoints"),
        (lb.Tag("dusk"), lb.SchemaError, "not an option"),
        (lb.Box(1, 1, 3, 3, label="duck", attributes={"occluded": "maybe"}), lb.SchemaError, "one of"),
        (lb.Box(1, 1, 3, 3, label="duck", attributes={"colour": "red"}), lb.SchemaError, "not defined"),
    ],
)
def test_bad_annotations_write_nothing(
    project: lb.Project, tmp_path: Path, shape: lb.Shape, error: type[Exception], message: str
) -> None:
    project.add_images(make_png(tmp_path / "a.png"))
    events_before = len(project.events)
    with pytest.raises(error, match=message):
        project.annotate("a.png", [lb.Box(1, 1, 2, 2, label="duck"), shape])
    assert len(project.annotations) == 0
    assert len(project.events) == events_before


def test_revisions_soft_delete_and_restore(project: lb.Project, tmp_path: Path, backend_url: str) -> None:
    project.add_images(make_png(tmp_path / "a.png"))
    project.members.add("bob", role="annotator")
    (aid,) = project.annotate("a.png", lb.Box(1, 1, 10, 10, label="duck"))
    bob = lb.Project.open(backend_url, name="birds", user="bob")
    assert bob.update_annotation(aid, lb.Box(2, 2, 12, 12, label="goose"), duration=2.0) == 2
    assert project.delete_annotation(aid) == 3
    assert project.get_annotations("a.png") == []
    assert len(project.annotations) == 0
    with pytest.raises(lb.LabnbError, match="is deleted"):
        project.delete_annotation(aid)
    assert project.restore_annotation(aid) == 4
    hist = project.history(aid)
    assert list(hist.revision) == [1, 2, 3, 4]
    assert list(hist.replaced_by) == ["update", "delete", "restore", "current"]
    # each state with the action that made it, by whom and when: creation first, times in order, in UTC
    assert list(hist.action) == ["create", "update", "delete", "restore"]
    assert list(hist.user) == ["alice", "bob", "alice", "alice"]
    assert hist.time.is_monotonic_increasing
    assert str(hist.time.dt.tz) == "UTC"
    events = project.events.df.set_index("kind")
    assert hist.time.iloc[1] == events.loc["annotation.update", "time"]
    assert hist.time.iloc[0] == events.loc["annotation.create", "time"]
    assert hist.geometry[0].bbox == (1, 1, 10, 10)
    assert hist.geometry[0].label == "duck"
    assert hist.geometry[3].label == "goose"
    kinds = list(project.events.df.kind)
    assert kinds[-3:] == ["annotation.update", "annotation.delete", "annotation.restore"]
    assert project.annotations.df.revision.tolist() == [4]


def test_ground_truth_and_predictions_are_kept_apart(project: lb.Project, tmp_path: Path) -> None:
    project.add_images(make_png(tmp_path / "a.png"))
    project.annotate("a.png", lb.Box(1, 1, 5, 5, label="duck"))
    project.annotate("a.png", lb.Box(2, 2, 5, 5, label="duck"), source="ground_truth")
    with pytest.raises(lb.LabnbError, match="source"):
        project.annotate("a.png", lb.Box(2, 2, 5, 5, label="duck"), source="prediction")
    df = project.annotations.df
    assert sorted(df.source) == ["ground_truth", "human"]
    assert len(project.get_annotations("a.png", source="ground_truth")) == 1
    assert project.predictions.df.empty
    assert len(project.annotations.for_asset("a.png")) == 2
    assert project.predictions.for_asset("a.png") == []


def test_add_label_later(project: lb.Project) -> None:
    cls = project.add_label("swan", color="#abcdef")
    assert cls.hotkey == "3"
    assert project.schema.names[-1] == "swan"
    with pytest.raises(lb.SchemaError, match="repeat"):
        project.add_label("swan")


def test_two_projects_share_one_database(backend_url: str) -> None:
    if "://" not in backend_url:
        pytest.skip("several projects per database is the team (PostgreSQL) setup")
    lb.Project.create(backend_url, labels=["a"], name="one", user="u")
    lb.Project.create(backend_url, labels=["b"], name="two", user="u")
    assert lb.Project.open(backend_url, name="two", user="u").schema.names == ["b"]
    with pytest.raises(lb.ProjectError, match="pass name="):
        lb.Project.open(backend_url, user="u")


def test_open_missing_or_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(lb.ProjectError, match="no such project file"):
        lb.Project.open(tmp_path / "nope.labnb")
    make_png(tmp_path / "x.png")
    with pytest.raises(lb.LabnbError):
        lb.Project.open(tmp_path / "x.png")


def test_images_are_found_by_numpy_integer_ids(tmp_path: Path) -> None:
    """Ids usually come out of a DataFrame (numpy int64): every lookup takes them."""
    p = lb.Project.create(tmp_path / "np.labnb", labels=["duck"])
    p.add_images(np.zeros((20, 20, 3), np.uint8), progress=False)
    first = p.assets.df.asset_id.iloc[0]
    assert isinstance(first, np.integer)
    p.annotate(first, lb.Box(1, 1, 5, 5, label="duck"))
    assert len(p.get_annotations(first)) == 1
    assert p.asset(first).id == int(first)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (
            {"tags": [{"name": "weather", "options": ["sun"], "multiple": True}]},
            r"tag group 'weather'.*\['multiple'\].*'multi'",
        ),
        ({"attributes": [{"name": "occluded", "kind": "choice"}]}, r"attribute 'occluded'.*\['kind'\].*'type'"),
        ({"labels": [{"name": "duck", "colour": "#FF0000"}]}, r"label 'duck'.*\['colour'\].*'color'"),
    ],
)
def test_misspelt_schema_keys_are_named(tmp_path: Path, kw: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"labels": ["duck"], **kw}
    with pytest.raises(lb.SchemaError, match=message):
        lb.Project.create(tmp_path / "s.labnb", **args)  # type: ignore[arg-type]


def test_every_class_gets_its_own_colour(tmp_path: Path) -> None:
    """80 COCO classes: the palette has 17 colours; the rest must not repeat them (a user tells classes
    apart by colour in the annotator)."""
    p = lb.Project.create(tmp_path / "c.labnb", labels=[f"class {i}" for i in range(80)])
    colours = [c.color for c in p.schema.classes]
    assert len(set(colours)) == 80
