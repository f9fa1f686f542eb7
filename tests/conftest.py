"""Shared fixtures: real storage back ends and the test data kept in the repository (``tests/data``).

labnb stores projects either in a SQLite file (solo mode) or in PostgreSQL (team mode). Tests must run
against both for real, not against mocks, so this module starts a throwaway PostgreSQL cluster on a free
loopback port (one per pytest-xdist worker), hands each test a fresh database, and removes everything
afterwards. Where the PostgreSQL binaries are missing the PostgreSQL tests skip locally but fail when the
``CI`` environment variable is set, because CI installs them and must never skip silently.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest

PG_USER = "postgres"
PG_SCHEME = "postgresql+psycopg://"
PG_SETTINGS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
REPO_DATA = Path(__file__).resolve().parent / "data"
#: What ``repo_data`` promises; each is checked so a partial checkout fails loudly, never skips.
REPO_DATA_FILES = (
    "coco_tiny_ccby/instances.json",
    "coco_tiny_ccby/images",
    "coco_eval_oracle/gts/sampled_gts_bbox_area.json",
    "coco_eval_oracle/cocoapi_results.json",
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(reason: str) -> NoReturn:
    """Skip locally; fail in CI, where a missing dependency is a broken setup, not a reason to skip."""
    if _in_ci():
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


def _pg_bin_dir() -> Path | None:
    # Same choice as `ls -d /usr/lib/postgresql/*/bin | tail -1`: the newest installed major version.
    candidates = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").is_file()]
    if not candidates:
        return None
    return max(candidates, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else -1)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class _Cluster:
    """Runs PostgreSQL commands as the ``postgres`` OS user (initdb refuses to run as root)."""

    def __init__(self, bin_dir: Path, root: Path) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.as_root = os.geteuid() == 0

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, Any] = {}
        if self.as_root:
            # extra_groups=[] drops root's supplementary groups instead of leaking them to the server.
            kwargs = {"user": PG_USER, "group": pwd.getpwnam(PG_USER).pw_gid, "extra_groups": []}
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "LC_", "LANG"))}
        env["LC_ALL"] = "C"
        return subprocess.run(
            [str(self.bin_dir / tool), *args],
            cwd=self.root,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            **kwargs,
        )

    def log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])
        except OSError:
            return "(no server log)"

    def init(self) -> None:
        res = self.run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            PG_USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        if res.returncode != 0:
            pytest.fail(f"initdb failed:\n{res.stdout}\n{res.stderr}", pytrace=False)

    def start(self, port: int) -> bool:
        opts = f"-p {port} -k {shlex.quote(str(self.root))} -c listen_addresses=127.0.0.1 {PG_SETTINGS}"
        res = self.run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.log), "-w", "start")
        return res.returncode == 0

    def stop(self) -> None:
        res = self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        if res.returncode != 0 and (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """Base URL ``postgresql+psycopg://postgres@127.0.0.1:PORT`` of a throwaway cluster (no database).

    One cluster per test process (each pytest-xdist worker gets its own), stopped and deleted at the end
    of the session. Use ``pg_url`` or ``backend_url`` to get a fresh database on it.
    """
    bin_dir = _pg_bin_dir()
    if bin_dir is None:
        _unavailable("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin")
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(PG_USER)
        except KeyError:
            _unavailable(f"no {PG_USER!r} OS user to run PostgreSQL as")

    # A short path directly under the temp dir: pytest's tmp_path lives under a 0700 root-owned
    # directory the postgres user cannot enter, and a Unix socket path must stay under ~107 bytes.
    root = Path(tempfile.mkdtemp(prefix="labnb-pg-"))
    cluster = _Cluster(bin_dir, root)
    if owner is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    started = False
    try:
        cluster.init()
        # The port is free when picked but another process (or xdist worker) may take it before the
        # server binds it, so retry with a new port a few times.
        for _attempt in range(5):
            port = _free_port()
            if cluster.start(port):
                started = True
                break
            if (cluster.data / "postmaster.pid").exists():
                cluster.stop()
            time.sleep(0.2)
        if not started:
            pytest.fail(f"PostgreSQL did not start; server log:\n{cluster.log_tail()}", pytrace=False)
        yield f"{PG_SCHEME}{PG_USER}@127.0.0.1:{port}"
    finally:
        if started:
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def _libpq_url(sqlalchemy_url: str, dbname: str) -> str:
    return "postgresql://" + sqlalchemy_url.removeprefix(PG_SCHEME) + "/" + dbname


@contextmanager
def _fresh_database(base_url: str) -> Iterator[str]:
    try:
        # Imported here, not at the top: psycopg is optional and SQLite-only runs must not need it.
        import psycopg  # noqa: PLC0415
        from psycopg import sql  # noqa: PLC0415
    except ImportError:
        _unavailable("psycopg is not installed (pip install -e '.[test]')")

    name = f"labnb_test_{uuid.uuid4().hex[:16]}"
    admin_url = _libpq_url(base_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{base_url}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            # FORCE ends connections a test left open (an undisposed engine, a leaked session).
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database, dropped after the test (for PostgreSQL-only tests)."""
    with _fresh_database(pg_server) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty project store on each back end; a test using it runs once per back end.

    ``sqlite``: a plain file path ``<tmp_path>/project.labnb`` (labnb treats plain paths as SQLite files;
    the file does not exist yet). ``postgresql``: ``postgresql+psycopg://postgres@127.0.0.1:PORT/<db>``
    for a new database that is dropped afterwards. The cluster starts only when a PostgreSQL case runs.
    """
    if request.param == "sqlite":
        yield str(tmp_path / "project.labnb")
        return
    server: str = request.getfixturevalue("pg_server")
    with _fresh_database(server) as url:
        yield url


@pytest.fixture(scope="session")
def repo_data() -> Path:
    """``tests/data``: real data kept in the repository (41 COCO photos with their annotations, a COCO
    evaluation oracle; sources and licences in ``tests/data/README.md``).

    Missing data is an error, locally as in CI: a test that needs it must never pass by skipping. The ONNX
    detector is not here: tests use the one the package ships, ``labnb.sample.MODELS``.
    """
    missing = [name for name in REPO_DATA_FILES if not (REPO_DATA / name).exists()]
    if missing:
        pytest.fail(f"test data missing from {REPO_DATA}: {missing} (it is part of the repository)", pytrace=False)
    return REPO_DATA
