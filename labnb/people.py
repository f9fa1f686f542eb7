"""Members, roles, the current user, and the event log every change writes to.

Roles are checked here, in the Python API, so hiding a button in a widget is never the only guard:
an annotator calling ``p.members.add`` from a notebook gets :class:`~labnb.errors.AccessDenied`.
"""

from __future__ import annotations

import getpass
import os
from typing import TYPE_CHECKING, Any

import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from labnb.clock import now
from labnb.errors import AccessDenied, LabnbError
from labnb.event_log import record_event
from labnb.schema import check_name
from labnb.store.database import transaction
from labnb.store.tables import credential_grants, exams, members

if TYPE_CHECKING:
    from labnb.project import Project

ROLES = ("annotator", "reviewer", "manager", "owner")
RANK = {role: i for i, role in enumerate(ROLES)}


def with_article(role: str) -> str:
    """ "an annotator", "a reviewer": roles named in sentences."""
    return f"{'an' if role[:1] in 'aeiou' else 'a'} {role}"


def current_user(explicit: str | None = None) -> str:
    """The explicit ``user=``, else ``$JUPYTERHUB_USER`` (a shared hub), else the login name."""
    if explicit:
        return check_name(explicit, "user")
    hub = os.environ.get("JUPYTERHUB_USER")
    if hub:
        return check_name(hub, "user")
    return check_name(getpass.getuser(), "user")


class Members:
    """``p.members``: who may work on the project, and as what."""

    def __init__(self, project: Project) -> None:
        self._p = project

    def role(self, user: str | None = None) -> str | None:
        """The role of ``user`` (default: the current user), ``None`` for a non-member."""
        user = user or self._p.user
        with self._p._engine.connect() as conn:
            return conn.execute(
                sa.select(members.c.role).where(members.c.project_id == self._p.id, members.c.user == user)
            ).scalar()

    def require(self, minimum: str, action: str) -> str:
        """Raise :class:`AccessDenied` unless the current user has at least role ``minimum``."""
        role = self.role()
        if role is None:
            raise AccessDenied(
                f"user '{self._p.user}' is not a member of project '{self._p.name}' and cannot {action}; "
                f"an owner or manager can run p.members.add('{self._p.user}', role='annotator')"
            )
        if RANK[role] < RANK[minimum]:
            raise AccessDenied(
                f"user '{self._p.user}' is {with_article(role)} of project '{self._p.name}'; to {action} takes "
                f"at least the {minimum} role"
            )
        return role

    def add(self, user: str, role: str = "annotator") -> None:
        """Add ``user`` with ``role``, or change the role of an existing member.

        Managers may add annotators, reviewers and managers; only owners may make owners or change
        an owner's role. The project must keep at least one owner.
        """
        user = check_name(user, "user")
        if role not in RANK:
            raise LabnbError(f"role must be one of {list(ROLES)}, got {role!r}")
        mine = self.require("manager", f"add members (adding '{user}')")
        existing = self.role(user)
        if (role == "owner" or existing == "owner") and mine != "owner":
            raise AccessDenied(f"only an owner can make '{user}' an owner or change an owner's role")
        with transaction(self._p._engine) as conn:
            if existing is None:
                conn.execute(
                    members.insert().values(
                        project_id=self._p.id, user=user, role=role, added_at=now(), added_by=self._p.user
                    )
                )
            else:
                if existing == "owner" and role != "owner":
                    self._check_other_owner(conn, user)
                conn.execute(
                    members.update().where(members.c.project_id == self._p.id, members.c.user == user).values(role=role)
                )
            record_event(conn, self._p.id, self._p.user, "member.add", payload={"member": user, "role": role})

    def remove(self, user: str) -> None:
        mine = self.require("manager", f"remove members (removing '{user}')")
        existing = self.role(user)
        if existing is None:
            raise LabnbError(f"'{user}' is not a member of project '{self._p.name}'")
        if existing == "owner" and mine != "owner":
            raise AccessDenied(f"only an owner can remove the owner '{user}'")
        with transaction(self._p._engine) as conn:
            if existing == "owner":
                self._check_other_owner(conn, user)
            conn.execute(members.delete().where(members.c.project_id == self._p.id, members.c.user == user))
            record_event(conn, self._p.id, self._p.user, "member.remove", payload={"member": user})

    def _check_other_owner(self, conn: Connection, user: str) -> None:
        others = conn.execute(
            sa.select(sa.func.count()).where(
                members.c.project_id == self._p.id, members.c.role == "owner", members.c.user != user
            )
        ).scalar_one()
        if not others:
            raise LabnbError(f"'{user}' is the project's only owner; make someone else owner first")

    # -- credentials ------------------------------------------------------------------------------------
    def grant(self, user: str, credential: str) -> None:
        """Give ``user`` a named credential (a qualification jobs can require). Managers and owners; passing
        an exam grants its credentials too (``source`` "exam" in :meth:`credentials`)."""
        self.require("manager", f"grant credentials (giving '{credential}' to '{user}')")
        self._grant(user, credential, by=self._p.user)

    def _grant(
        self,
        user: str,
        credential: str,
        *,
        by: str,
        conn: Connection | None = None,
        source: str = "manual",
        exam_id: int | None = None,
        attempt_id: int | None = None,
    ) -> None:
        """Grant without the role check, for callers that have done their own (an exam passed); nothing
        when ``user`` holds it already. A suspended grant stays suspended: a new grant does not lift a
        suspension (:meth:`reinstate` does)."""
        credential = check_name(credential, "credential")
        if self.role(user) is None:
            raise LabnbError(f"'{user}' is not a member of project '{self._p.name}'; add them first")

        def write(c: Connection) -> None:
            if _live_grant(c, self._p.id, user, credential) is not None:
                return
            c.execute(
                credential_grants.insert().values(
                    project_id=self._p.id, user=user, name=credential, source=source, exam_id=exam_id,
                    attempt_id=attempt_id, granted_by=by, granted_at=now(),
                )
            )  # fmt: skip
            payload = {"member": user, "credential": credential, "source": source, "exam": exam_id}
            record_event(c, self._p.id, by, "credential.grant", payload=payload)

        if conn is not None:
            write(conn)
        else:
            with transaction(self._p._engine) as c:
                write(c)

    def revoke(self, user: str, credential: str) -> None:
        """Take a credential back (managers and owners). The grant stays on record, marked revoked by whom
        and when (:meth:`credentials` shows it)."""
        self.require("manager", f"revoke credentials (taking '{credential}' from '{user}')")
        g = credential_grants
        with transaction(self._p._engine) as conn:
            live = _live_grant(conn, self._p.id, user, credential)
            if live is None:
                raise LabnbError(f"'{user}' does not hold the credential '{credential}'")
            conn.execute(g.update().where(g.c.id == live.id).values(revoked_by=self._p.user, revoked_at=now()))
            record_event(
                conn, self._p.id, self._p.user, "credential.revoke", payload={"member": user, "credential": credential}
            )

    def _suspend(self, conn: Connection, user: str, credential: str, reason: str) -> bool:
        """Suspend ``user``'s live grant of ``credential`` (continuous gold found their work under the mark),
        in the caller's transaction; whether there was one to suspend. Event ``credential.suspend``."""
        live = _live_grant(conn, self._p.id, user, credential)
        if live is None or live.suspended_at is not None:
            return False
        g = credential_grants
        conn.execute(
            g.update()
            .where(g.c.id == live.id)
            .values(suspended_by=self._p.user, suspended_at=now(), suspend_reason=reason)
        )
        payload = {"member": user, "credential": credential, "reason": reason}
        record_event(conn, self._p.id, self._p.user, "credential.suspend", payload=payload)
        return True

    def reinstate(self, user: str, credential: str) -> None:
        """Lift a suspension of ``user``'s credential (managers and owners); event ``credential.reinstate``."""
        self.require("manager", f"reinstate credentials (giving '{credential}' back to '{user}')")
        g = credential_grants
        with transaction(self._p._engine) as conn:
            live = _live_grant(conn, self._p.id, user, credential)
            if live is None or live.suspended_at is None:
                raise LabnbError(f"'{user}' has no suspended credential '{credential}'")
            conn.execute(
                g.update().where(g.c.id == live.id).values(suspended_by=None, suspended_at=None, suspend_reason=None)
            )
            payload = {"member": user, "credential": credential, "suspended": str(live.suspended_at)}
            record_event(conn, self._p.id, self._p.user, "credential.reinstate", payload=payload)

    def held(self, user: str | None = None) -> list[str]:
        """The credentials ``user`` (default: the current user) holds now, sorted (neither revoked nor
        suspended)."""
        with self._p._engine.connect() as conn:
            return sorted(held_credentials(conn, self._p.id, user or self._p.user))

    def credentials(self, user: str | None = None) -> pd.DataFrame:
        """Every grant of ``user`` (default: the current user; ``user="*"``: everyone's, for managers), held or
        not: credential, source ("manual" or "exam"), exam (its name, for exam grants), granted_by, granted_at,
        revoked_by, revoked_at, suspended_at, suspend_reason, held."""
        who = user or self._p.user
        if who == "*" or who != self._p.user:
            self.require("reviewer", "see other people's credentials")
            g = credential_grants
        q = (
            sa.select(
                g.c.user, g.c.name, g.c.source, exams.c.name.label("exam"), g.c.granted_by, g.c.granted_at,
                g.c.revoked_by, g.c.revoked_at, g.c.suspended_at, g.c.suspend_reason,
            )
            .outerjoin(exams, exams.c.id == g.c.exam_id)
            .where(g.c.project_id == self._p.id)
            .order_by(g.c.user, g.c.name, g.c.id)
        )  # fmt: skip
        if who != "*":
            q = q.where(g.c.user == who)
        with self._p._engine.connect() as conn:
            rows = conn.execute(q).all()
        cols = ["user", "credential", "source", "exam", "granted_by", "granted_at", "revoked_by", "revoked_at",
                "suspended_at", "suspend_reason"]  # fmt: skip
        frame: pd.DataFrame = pd.DataFrame(rows, columns=cols)
        for c in ("granted_at", "revoked_at", "suspended_at"):
            frame[c] = pd.to_datetime(frame[c], utc=True)
        frame["held"] = frame.revoked_at.isna() & frame.suspended_at.isna()
        return frame if who == "*" else frame.drop(columns="user")

    @property
    def df(self) -> pd.DataFrame:
        """Members as a DataFrame: user, role, added_at, added_by."""
        with self._p._engine.connect() as conn:
            rows = conn.execute(
                sa.select(members.c.user, members.c.role, members.c.added_at, members.c.added_by)
                .where(members.c.project_id == self._p.id)
                .order_by(members.c.id)
            ).all()
        frame: pd.DataFrame = pd.DataFrame(rows, columns=["user", "role", "added_at", "added_by"])
        return frame

    def __repr__(self) -> str:
        return f"<Members of '{self._p.name}': {len(self.df)}>"


def _live_grant(conn: Connection, project_id: int, user: str, credential: str) -> Any:
    """The grant of ``credential`` to ``user`` that is not revoked (suspended or not), or None."""
    g = credential_grants
    return conn.execute(
        sa.select(g).where(
            g.c.project_id == project_id, g.c.user == user, g.c.name == credential, g.c.revoked_at.is_(None)
        )
    ).first()


def held_credentials(conn: Connection, project_id: int, user: str) -> set[str]:
    """The credentials ``user`` holds now: granted, not revoked, not suspended."""
    g = credential_grants
    return set(
        conn.execute(
            sa.select(g.c.name).where(
                g.c.project_id == project_id,
                g.c.user == user,
                g.c.revoked_at.is_(None),
                g.c.suspended_at.is_(None),
            )
        ).scalars()
    )


def require_credentials(conn: Connection, project_id: int, job: Any, user: str, action: str) -> None:
    """Raise :class:`AccessDenied` unless ``user`` holds every credential job row ``job`` requires, naming
    each missing one and the exams that grant it (so the refusal says how to qualify). Every path that
    claims, writes, hands in or reviews a task of a job calls it in its own transaction."""
    needed = set(orjson.loads(job.credentials))
    missing = sorted(needed - held_credentials(conn, project_id, user))
    if not missing:
        return
    granting: dict[str, list[str]] = {}
    for name, grants in conn.execute(sa.select(exams.c.name, exams.c.grants).where(exams.c.project_id == project_id)):
        for credential in orjson.loads(grants):
            granting.setdefault(credential, []).append(str(name))
    parts = []
    for credential in missing:
        by = granting.get(credential)
        how = f" (passing the exam {', '.join(repr(n) for n in sorted(by))} grants it)" if by else ""
        parts.append(f"'{credential}'{how}")
    noun = "credential" if len(missing) == 1 else "credentials"
    raise AccessDenied(f"job '{job.name}' needs the {noun} {', '.join(parts)}, which '{user}' lacks, to {action}")
