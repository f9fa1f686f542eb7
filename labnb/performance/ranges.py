"""Date ranges of local days, and the SQL that puts an event on its local day.

A dashboard range is a run of whole days in the viewer's time zone: "7d" is today and the six days before.
Its bounds become UTC instants for the index range scan. Putting each event on its local day is done in
SQL: PostgreSQL converts with ``AT TIME ZONE``; SQLite has no time zone data, so the expression is a CASE
over the zone's UTC offsets between the transitions that fall in the range (read from :mod:`zoneinfo`),
which is exact for every zone, half-hour offsets and daylight saving changes included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from labnb.clock import aware, now
from labnb.errors import LabnbError

#: The ranges the dashboard offers, in days ending today.
PRESETS = {"7d": 7, "30d": 30, "3m": 90, "6m": 182, "12m": 365}

RangeSpec = str | tuple[Any, Any]


@dataclass(frozen=True)
class Window:
    """Local days ``first`` .. ``last`` (inclusive) in zone ``tz``; ``start`` / ``end`` their UTC bounds."""

    first: date
    last: date
    tz: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def start(self) -> datetime:
        return local_midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        return local_midnight(self.last + timedelta(days=1), self.zone)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def day_of(self, stamp: datetime) -> date:
        """The local day of an instant."""
        return aware(stamp).astimezone(self.zone).date()

    def holds(self, stamp: datetime) -> bool:
        return self.first <= self.day_of(stamp) <= self.last

    def label(self) -> str:
        return f"{self.first:%d %b %Y} – {self.last:%d %b %Y} ({self.tz})"


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant a local day starts (a zone whose midnight is skipped starts the day at the gap's end)."""
    naive = datetime.combine(day, time())
    for minutes in range(0, 24 * 60, 15):
        local = (naive + timedelta(minutes=minutes)).replace(tzinfo=zone)
        back = local.astimezone(timezone.utc).astimezone(zone)
        if back.replace(tzinfo=None) == local.replace(tzinfo=None):
            return local.astimezone(timezone.utc)
    return naive.replace(tzinfo=zone).astimezone(timezone.utc)


def resolve_zone(tz: str | None) -> str:
    """An IANA zone name: ``tz``, else the machine's zone (tzlocal), else UTC."""
    if tz is None:
        try:
            import tzlocal  # noqa: PLC0415 - only needed when no zone is given

            tz = tzlocal.get_localzone_name() or "UTC"
        except Exception:  # an unreadable system zone setting is no reason to fail
            tz = "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise LabnbError(f"tz={tz!r} is not a time zone name (e.g. 'Europe/Berlin', 'UTC')") from exc
    return tz


def window(spec: RangeSpec = "30d", tz: str | None = None) -> Window:
    """The :class:`Window` of a range: a preset ("7d", "30d", "3m", "6m", "12m") ending today in ``tz``, or
    ``(first, last)`` days (dates, datetimes or ISO strings; both inclusive)."""
    zone_name = resolve_zone(tz)
    if isinstance(spec, str):
        if spec not in PRESETS:
            raise LabnbError(f"range must be one of {list(PRESETS)} or a (first, last) pair of days, got {spec!r}")
        today = now().astimezone(ZoneInfo(zone_name)).date()
        return Window(today - timedelta(days=PRESETS[spec] - 1), today, zone_name)
    try:
        first, last = (_as_day(v) for v in spec)
    except (TypeError, ValueError) as exc:
        raise LabnbError(f"range {spec!r}: give a preset or a (first, last) pair of days ({exc})") from exc
    if last < first:
        raise LabnbError(f"range {spec!r}: its last day {last} is before its first day {first}")
    return Window(first, last, zone_name)


def _as_day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    raise TypeError(f"{value!r} is not a day")


def offsets(win: Window) -> list[tuple[datetime, int]]:
    """The zone's UTC offset (seconds) in force from each instant on, over the window: the first entry is
    the offset at the window's start, then one per transition inside it."""
    zone = win.zone
    stamp, end = win.start, win.end
    current = _offset(stamp, zone)
    found = [(stamp, current)]
    day, quarter = timedelta(days=1), timedelta(minutes=15)  # every zone's transitions fall on a quarter hour
    while stamp < end:
        if _offset(stamp + day, zone) == current:
            stamp += day
            continue
        while _offset(stamp + quarter, zone) == current:
            stamp += quarter
        stamp += quarter
        current = _offset(stamp, zone)
        found.append((stamp, current))
    return found


def _offset(stamp: datetime, zone: ZoneInfo) -> int:
    delta = stamp.astimezone(zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def local_day(column: Any, win: Window, dialect: str) -> Any:
    """A SQL expression for the local day (in the window's zone) of timestamp ``column``: a date on
    PostgreSQL, an ISO date string on SQLite."""
    if dialect == "postgresql":
        return sa.cast(sa.func.timezone(win.tz, column), sa.Date)
    spans = offsets(win)
    if len(spans) == 1:
        return sa.func.date(column, f"{spans[0][1]:+d} seconds")
    whens = [
        (column < start, f"{offset:+d} seconds") for (start, _), (_, offset) in zip(spans[1:], spans[:-1], strict=True)
    ]
    return sa.func.date(column, sa.case(*whens, else_=f"{spans[-1][1]:+d} seconds"))
