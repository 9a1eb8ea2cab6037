"""Which request starts which journey: the URL patterns of a replay, as a file the user edits.

A journey is recognised by the one request that starts it (an ESIA login by its authorization
request, a declaration by its submission); only those are arrivals. The journey's other
requests are named too (``also``), so that what is left — requests no pattern knows — is a
figure the user can act on: a high unmatched share means the patterns miss the site's paths.
``ignore`` names requests that are known and deliberately not replayed (health checks, the
traffic of services the profiles do not model).

A pattern is ``"METHOD PATH"``: METHOD is one method, several joined by commas, or ``*``; PATH is
a glob over the URL path (no query string) where ``*`` is one path segment, ``**`` any number
of them, ``{a,b}`` either — or, after ``~``, a regular expression the whole path must match.
The first journey (in file order) whose ``starts`` match a request gets it.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from wcmatch import glob

from ..profile import JOURNEYS

PACKAGED_PATTERNS = "replay_patterns.yaml"
_GLOB_FLAGS = glob.GLOBSTAR | glob.BRACE | glob.DOTGLOB
_METHOD = re.compile(r"[A-Za-z]+")
_JOURNEY_KEYS = {"starts", "also", "pacing_s"}


class PatternError(ValueError):
    """A patterns file that cannot be used; the message names the file and the entry."""


class Role(enum.Enum):
    """What a request is to a replay."""

    #: It starts a journey: one arrival.
    START = "start"
    #: A later request of a journey, already counted by the journey's start.
    PART = "part"
    #: Known and not replayed.
    IGNORED = "ignored"
    #: No pattern knows it: either traffic the profile leaves out, or a pattern to fix.
    UNMATCHED = "unmatched"


#: What a request is to a replay, and its journey for a start or a part (``None`` otherwise).
Classification = tuple[Literal[Role.START, Role.PART], str] | tuple[Literal[Role.IGNORED, Role.UNMATCHED], None]
_UNMATCHED: Classification = (Role.UNMATCHED, None)
#: Distinct requests (and methods) whose classification is remembered.
MAX_REMEMBERED = 65536


@dataclass(frozen=True, slots=True)
class RequestPattern:
    text: str
    methods: frozenset[str] | None  # None: any method
    path: re.Pattern[str]

    @classmethod
    def parse(cls, text: Any) -> RequestPattern:
        if not isinstance(text, str) or len(text.split(None, 1)) != 2:
            raise ValueError(f"{text!r} is not 'METHOD PATH' (e.g. 'POST /api/v1/declarations')")
        method_text, path_text = text.split(None, 1)
        methods = None if method_text == "*" else frozenset(m.upper() for m in method_text.split(","))
        if methods is not None and not all(_METHOD.fullmatch(m) for m in methods):
            raise ValueError(f"{text!r}: {method_text!r} is not a method, a comma-joined list of them, or *")
        if path_text.startswith("~"):
            try:
                regex = re.compile(path_text[1:])
            except re.error as exc:
                raise ValueError(f"{text!r}: not a regular expression ({exc})") from None
        else:
            if not path_text.startswith(("/", "*", "{")):
                raise ValueError(f"{text!r}: a path glob starts with '/' (or '~' for a regular expression)")
            included, _excluded = glob.translate(path_text, flags=_GLOB_FLAGS)
            regex = re.compile("|".join(f"(?:{part})" for part in included))
        return cls(text=text, methods=methods, path=regex)


@dataclass(frozen=True, slots=True)
class JourneyRule:
    journey: str
    starts: tuple[RequestPattern, ...]
    also: tuple[RequestPattern, ...]
    #: How often a closed-model virtual user starts this journey: the profile's ``pacing_s``,
    #: and the time one user is busy per journey when sizing users from the arrival rate.
    pacing_s: float


@dataclass(frozen=True)
class JourneyPatterns:
    source: str
    rules: tuple[JourneyRule, ...]
    ignore: tuple[RequestPattern, ...]
    #: Every pattern in the order it decides: all starts, then the journeys' other requests,
    #: then ignore.
    _ordered: tuple[tuple[RequestPattern, Classification], ...] = field(init=False, repr=False, compare=False)
    #: Per method, the patterns that can match it; and requests already classified. A log of
    #: millions of lines tries a handful of regexes per distinct request, once.
    _by_method: dict[str, tuple[tuple[re.Pattern[str], Classification], ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict)
    _known: dict[tuple[str, str], Classification] = field(init=False, repr=False, compare=False,
                                                          default_factory=dict)

    def __post_init__(self) -> None:
        ordered: list[tuple[RequestPattern, Classification]] = [
            (pattern, (Role.START, rule.journey)) for rule in self.rules for pattern in rule.starts]
        ordered += [(pattern, (Role.PART, rule.journey)) for rule in self.rules for pattern in rule.also]
        ordered += [(pattern, (Role.IGNORED, None)) for pattern in self.ignore]
        object.__setattr__(self, "_ordered", tuple(ordered))

    def classify(self, method: str, path: str) -> Classification:
        """The request's role, and its journey for a start or a part."""
        known = self._known.get((method, path))
        if known is None:
            known = self._classify(method, path)
            if len(self._known) < MAX_REMEMBERED:
                self._known[method, path] = known
        return known

    def _classify(self, method: str, path: str) -> Classification:
        if not method:
            return _UNMATCHED
        candidates = self._by_method.get(method)
        if candidates is None:
            candidates = tuple((pattern.path, decided) for pattern, decided in self._ordered
                               if pattern.methods is None or method.upper() in pattern.methods)
            if len(self._by_method) < MAX_REMEMBERED:
                self._by_method[method] = candidates
        for regex, decided in candidates:
            if regex.fullmatch(path) is not None:
                return decided
        return _UNMATCHED

    def pacing(self) -> dict[str, float]:
        return {rule.journey: rule.pacing_s for rule in self.rules}

    @classmethod
    def from_mapping(cls, data: Any, *, source: str) -> JourneyPatterns:
        if not isinstance(data, dict) or not isinstance(data.get("journeys"), dict) or not data["journeys"]:
            raise PatternError(f"{source}: expected a mapping with 'journeys:' (journey: starts, also, pacing_s)")
        unknown = sorted(set(data) - {"journeys", "ignore"})
        if unknown:
            raise PatternError(f"{source}: unknown key(s) {', '.join(unknown)}: expected journeys, ignore")
        rules = tuple(_rule(source, str(name), body) for name, body in data["journeys"].items())
        return cls(source=source, rules=rules, ignore=_patterns(source, "ignore", data.get("ignore") or []))


def _rule(source: str, journey: str, body: Any) -> JourneyRule:
    where = f"{source}: journeys.{journey}"
    if journey not in JOURNEYS:
        raise PatternError(f"{where}: unknown journey; expected one of {', '.join(JOURNEYS)}")
    if not isinstance(body, dict) or not body.get("starts"):
        raise PatternError(f"{where}: needs 'starts:', the request(s) that begin the journey")
    unknown = sorted(set(body) - _JOURNEY_KEYS)
    if unknown:
        raise PatternError(f"{where}: unknown key(s) {', '.join(unknown)}: expected {', '.join(sorted(_JOURNEY_KEYS))}")
    pacing = body.get("pacing_s", 1.0)
    if isinstance(pacing, bool) or not isinstance(pacing, int | float) or not 0 < pacing <= 3600:
        raise PatternError(f"{where}.pacing_s: seconds between a user's journeys, above 0 and at most 3600")
    return JourneyRule(journey=journey, starts=_patterns(source, f"journeys.{journey}.starts", body["starts"]),
                       also=_patterns(source, f"journeys.{journey}.also", body.get("also") or []),
                       pacing_s=float(pacing))


def _patterns(source: str, where: str, items: Any) -> tuple[RequestPattern, ...]:
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list):
        raise PatternError(f"{source}: {where}: expected a list of 'METHOD PATH' patterns")
    parsed = []
    for index, item in enumerate(items):
        try:
            parsed.append(RequestPattern.parse(item))
        except ValueError as exc:
            raise PatternError(f"{source}: {where}[{index}]: {exc}") from None
    return tuple(parsed)


def load_patterns(path: str | Path | None = None) -> JourneyPatterns:
    """The patterns in ``path``, or the packaged ones for the stand's own paths."""
    if path is None:
        source = f"scenarios/{PACKAGED_PATTERNS}"
        text = resources.files("gosstand.scenarios").joinpath(PACKAGED_PATTERNS).read_text(encoding="utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise PatternError(f"{source}: cannot read it ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PatternError(f"{source}: not YAML ({str(exc).splitlines()[0]})") from None
    return JourneyPatterns.from_mapping(data, source=source)
