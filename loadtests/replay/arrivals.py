"""Journey starts counted per second of a recorded window.

Memory is bounded by the window, not by the log: one small count per second that saw a journey
start, a capped table of unmatched paths, and a few extremes. Logs of any length stream through.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections import Counter
from dataclasses import dataclass, field

from .formats import Request
from .patterns import JourneyPatterns, Role

#: Distinct unmatched request shapes remembered; the rest are counted together.
MAX_SHAPES = 1000
OTHER_SHAPES = "(other paths)"
UNREADABLE_REQUEST = "(no readable request line)"
_ID_SEGMENT = re.compile(r"\d+|[0-9a-fA-F-]{32,36}|(?=[^/]*\d)[A-Za-z0-9_.~-]{16,}")


class WindowError(ValueError):
    """A window (``--from``/``--to``) that cannot be read, or that the logs do not cover."""


@dataclass(frozen=True, slots=True)
class Window:
    """The part of the log to replay, on the log's own clock: times of day (``09:00``) or
    dated times (``2026-10-10T09:00``). Either end may be left open."""

    start: dt.datetime | dt.time | None = None
    end: dt.datetime | dt.time | None = None

    @classmethod
    def parse(cls, start: str | None, end: str | None) -> Window:
        window = cls(start=_moment(start, "--from"), end=_moment(end, "--to"))
        # A dated end makes an undated other end the same day.
        if isinstance(window.start, dt.datetime) and isinstance(window.end, dt.time):
            window = cls(start=window.start, end=dt.datetime.combine(window.start.date(), window.end))
        if isinstance(window.end, dt.datetime) and isinstance(window.start, dt.time):
            window = cls(start=dt.datetime.combine(window.end.date(), window.start), end=window.end)
        if window.start is not None and window.end is not None and _order(window.end, window.start) <= 0:
            raise WindowError(f"--to {end} is not after --from {start}: a window across midnight takes dates "
                              "(--from 2026-10-10T23:30 --to 2026-10-11T00:30)")
        return window

    @property
    def dated(self) -> bool:
        return isinstance(self.start, dt.datetime) or isinstance(self.end, dt.datetime)

    def contains(self, wall: dt.datetime) -> bool:
        moment: dt.datetime | dt.time = wall if self.dated else wall.time()
        return ((self.start is None or _order(moment, self.start) >= 0)
                and (self.end is None or _order(moment, self.end) < 0))

    def describe(self) -> str:
        return f"{_show(self.start) or 'the start'}–{_show(self.end) or 'the end'}"


def _order(moment: dt.datetime | dt.time, other: dt.datetime | dt.time) -> int:
    """-1, 0 or 1 as ``moment`` is before, at or after ``other``. A window's ends are alike (both
    dated or both times of day: :meth:`Window.parse` dates an undated end beside a dated one),
    and :meth:`Window.contains` compares a line's time in the same form."""
    if isinstance(moment, dt.datetime) and isinstance(other, dt.datetime):
        return (moment > other) - (moment < other)
    if isinstance(moment, dt.time) and isinstance(other, dt.time):
        return (moment > other) - (moment < other)
    raise TypeError(f"cannot order {moment!r} against {other!r}: a date and a time of day")


def _moment(text: str | None, option: str) -> dt.datetime | dt.time | None:
    if text is None:
        return None
    try:
        if "T" in text or " " in text.strip():
            return dt.datetime.fromisoformat(text.strip()).replace(tzinfo=None)
        return dt.time.fromisoformat(text.strip())
    except ValueError:
        raise WindowError(f"{option} {text!r}: expected HH:MM[:SS] or YYYY-MM-DDTHH:MM[:SS]") from None


def _show(moment: dt.datetime | dt.time | None) -> str:
    if moment is None:
        return ""
    return moment.isoformat(sep=" ") if isinstance(moment, dt.datetime) else moment.isoformat()


def request_shape(method: str, path: str) -> str:
    """``GET /v1/objects/*``: the request with id-like path segments starred, so the unmatched
    table groups requests as a pattern would."""
    if not method:
        return UNREADABLE_REQUEST
    segments = ("*" if _ID_SEGMENT.fullmatch(segment) else segment for segment in path.split("/"))
    return f"{method} {'/'.join(segments)}"


@dataclass(slots=True)
class ArrivalCounter:
    """Feed it requests (:meth:`add`); it keeps the journey starts of each second in the window."""

    patterns: JourneyPatterns
    window: Window = field(default_factory=Window)
    #: POSIX second → journey → starts in it.
    per_second: dict[int, Counter[str]] = field(default_factory=dict)
    roles: Counter[Role] = field(default_factory=Counter)
    unmatched: Counter[str] = field(default_factory=Counter)
    #: Seconds of the first and last request read at all, and in the window.
    first_s: int | None = None
    last_s: int | None = None
    first_in_window_s: int | None = None
    last_in_window_s: int | None = None
    first_wall: dt.datetime | None = None
    last_wall: dt.datetime | None = None
    #: The log clock's offset from UTC (seconds), as of the first request in the window.
    offset_s: int = 0
    dates_in_window: set[dt.date] = field(default_factory=set)
    #: The second (POSIX, and as the log wrote it) of the request before, and whether it was in
    #: the window.
    _second: int | None = field(default=None, repr=False)
    _wall: dt.datetime | None = field(default=None, repr=False)
    _in_window: bool = field(default=False, repr=False)

    def add(self, request: Request) -> None:
        second = math.floor(request.at)
        if second != self._second or request.wall != self._wall:  # lines share their second: once per second
            self._second, self._wall = second, request.wall
            self._in_window = self._note(second, request.wall)
        if not self._in_window:
            return
        decided = self.patterns.classify(request.method, request.path)
        self.roles[decided[0]] += 1
        if decided[0] is Role.START:
            counts = self.per_second.get(second)
            if counts is None:
                counts = self.per_second[second] = Counter()
            counts[decided[1]] += 1
        elif decided[0] is Role.UNMATCHED:
            shape = request_shape(request.method, request.path)
            if shape in self.unmatched or len(self.unmatched) < MAX_SHAPES:
                self.unmatched[shape] += 1
            else:
                self.unmatched[OTHER_SHAPES] += 1

    def _note(self, second: int, wall: dt.datetime) -> bool:
        """Keep the extremes of a second first seen; whether it is in the window."""
        self.first_s = second if self.first_s is None else min(self.first_s, second)
        self.last_s = second if self.last_s is None else max(self.last_s, second)
        self.first_wall = wall if self.first_wall is None else min(self.first_wall, wall)
        self.last_wall = wall if self.last_wall is None else max(self.last_wall, wall)
        if not self.window.contains(wall):
            return False
        if self.first_in_window_s is None:
            self.offset_s = calendar.timegm(wall.timetuple()) - second
        self.first_in_window_s = second if self.first_in_window_s is None else min(self.first_in_window_s, second)
        self.last_in_window_s = second if self.last_in_window_s is None else max(self.last_in_window_s, second)
        self.dates_in_window.add(wall.date())
        return True

    @property
    def requests_in_window(self) -> int:
        return sum(self.roles.values())

    def bounds(self) -> tuple[int, int]:
        """[start, end) of the recorded window in POSIX seconds: the window asked for where the
        logs cover it, else as far as they reach — never a stretch the logs did not record."""
        if self.first_in_window_s is None or self.last_in_window_s is None:
            covered = (f"{_show(self.first_wall)} – {_show(self.last_wall)}" if self.first_wall else "nothing")
            raise WindowError(f"no request of the logs falls in {self.window.describe()}; they cover {covered}")
        if not self.window.dated and len(self.dates_in_window) > 1:
            days = ", ".join(sorted(str(day) for day in self.dates_in_window))
            raise WindowError(f"the window {self.window.describe()} is on {len(self.dates_in_window)} days of the logs "
                              f"({days}): give a date, e.g. --from {min(self.dates_in_window)}T"
                              f"{_show(self.window.start) or '00:00'}")
        start, end = self.first_in_window_s, self.last_in_window_s + 1
        day = min(self.dates_in_window)
        if self.window.start is not None:
            asked = self._posix(self.window.start, day)
            start = asked if self.first_s is not None and self.first_s < asked else start
        if self.window.end is not None:
            asked = self._posix(self.window.end, day)
            end = asked if self.last_s is not None and self.last_s >= asked else end
        return start, end

    def wall_of(self, second: int) -> dt.datetime:
        """The log clock's time of a POSIX second."""
        return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=second + self.offset_s)

    def _posix(self, moment: dt.datetime | dt.time, day: dt.date) -> int:
        wall = moment if isinstance(moment, dt.datetime) else dt.datetime.combine(day, moment)
        return calendar.timegm(wall.timetuple()) - self.offset_s
