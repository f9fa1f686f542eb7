"""The one clock every stored time comes from.

Every row labnb writes (events, revisions, claims, task hand-ins) takes its time from :func:`now`, so a
simulation or a replay can run a team's month in minutes by installing its own clock with
:func:`set_clock` (``labnb.sample.team`` does): the dashboard then shows days that really differ. Outside
such a run the clock is the machine's UTC time; nothing reads the local time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

Clock = Callable[[], datetime]

_clock: Clock | None = None


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    if _clock is None:
        return datetime.now(timezone.utc)
    stamp = _clock()
    if stamp.tzinfo is None:
        raise ValueError("a labnb clock must return timezone-aware datetimes")
    return stamp.astimezone(timezone.utc)


def aware(stamp: datetime) -> datetime:
    """A time read back from the store as an aware datetime: SQLite hands back naive UTC, PostgreSQL aware."""
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def set_clock(clock: Clock | None) -> None:
    """Install ``clock`` (a function returning aware datetimes) for this process; ``None`` restores real time."""
    global _clock  # noqa: PLW0603 - one clock per process, by design
    _clock = clock


@contextmanager
def using_clock(clock: Clock) -> Iterator[None]:
    """``with using_clock(fn):`` every time written inside the block comes from ``fn``."""
    before = _clock
    set_clock(clock)
    try:
        yield
    finally:
        set_clock(before)
