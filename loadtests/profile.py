"""Traffic profiles (``scenarios/*.yaml``): the peak-hour curve and the journey mix, as data.

A profile drives one of two models. The closed model (``peak_users``): that many users at the
curve's peak, each running its journey at its pace — the load a fixed population of clients
makes, which falls when the target slows them down. The open model (``peak_rate``): journeys
arrive at ``peak_rate`` per second at the curve's peak, on a timetable no answer can delay — the
load of a public service whose clients do not wait for each other (k6's arrival-rate
executors). An open-model profile is ``peak_rate`` + ``curve`` + ``mix`` + ``duration_s``; the mix
then gives each journey's share of the arrivals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PROFILE = "peak_hour.yaml"
#: A journey's client timeout unless its profile says otherwise (``timeouts_s``).
DEFAULT_TIMEOUT_S = 2.0
#: The journeys a profile's ``mix`` and ``pacing_s`` may name (loadtests/journeys.py).
JOURNEYS = ("esia_login", "declaration", "utko_objects", "weight_controls", "account_login")
#: Virtual users an open-model run may have at once unless told (``--max-users``).
DEFAULT_MAX_USERS = 100
#: The most journeys per second at the peak a profile may ask for: far beyond one machine, so a
#: typo of a few zeros is caught before it seeds anything.
MAX_PEAK_RATE = 100_000.0
#: Journeys that reach UTKO: a run whose profile gives them a share seeds UTKO objects first.
UTKO_JOURNEYS = ("utko_objects", "weight_controls")
#: YAML files packaged beside the profiles that are not profiles.
NOT_PROFILES = frozenset({"replay_patterns.yaml"})
#: The services each journey sends requests to (all but the weigh station sign in through ESIA).
JOURNEY_SERVICES: dict[str, tuple[str, ...]] = {
    "esia_login": ("esia",), "declaration": ("esia", "fts"), "utko_objects": ("esia", "utko"),
    "weight_controls": ("utko",), "account_login": ("esia", "fts", "utko"),
}
#: Journeys that sign in to a personal account, every other time with an electronic signature: a
#: run whose profile gives them a share has the stand's CA issue each seeded person a certificate.
ACCOUNT_JOURNEYS = ("account_login",)


@dataclass(frozen=True, kw_only=True)
class Profile:
    name: str
    duration_s: float
    #: Closed model: concurrent users at the curve's peak (in an open-model profile, 0 or the
    #: size a users-based run of it would have).
    peak_users: int
    curve: tuple[float, ...]
    pacing_s: dict[str, float]
    mix: dict[str, int]
    #: Open model: journeys per second at the curve's peak (its 1.0); ``None`` for the closed
    #: model. A replayed log's profile carries its recorded peak.
    peak_rate: float | None = None
    #: Open model: the most virtual users running journeys at once, over every load process.
    max_users: int = DEFAULT_MAX_USERS
    description: str = ""
    #: The packaged failover schedule ``--failover default`` means for this profile (a file name
    #: in ``loadtests/``); ``None``: the peak hour's.
    failover: str | None = None
    #: Each journey's client timeout in seconds: a request with no complete answer by then is a
    #: failure of class ``timeout``, as for every real client (a hang sat out is an outage, not
    #: a slow success). Journeys not named get :data:`DEFAULT_TIMEOUT_S`.
    timeouts_s: dict[str, float] = field(default_factory=dict)

    def timeout_s(self, journey: str) -> float:
        return self.timeouts_s.get(journey, DEFAULT_TIMEOUT_S)

    def services(self) -> list[str]:
        """The services the journeys of the mix reach, in a stable order (``esia``, ``fts``…)."""
        reached = {service for journey, share in self.mix.items() if share > 0
                   for service in JOURNEY_SERVICES[journey]}
        return sorted(reached)

    @property
    def open_model(self) -> bool:
        return self.peak_rate is not None

    def share_at(self, elapsed: float) -> float:
        """The curve's share of the peak ``elapsed`` seconds into the compressed run (linear
        between steps; 0 outside the run)."""
        if elapsed < 0 or elapsed >= self.duration_s:
            return 0.0
        if len(self.curve) == 1:
            return self.curve[0]
        position = elapsed / self.duration_s * (len(self.curve) - 1)
        left = int(position)
        right = min(left + 1, len(self.curve) - 1)
        return self.curve[left] + (self.curve[right] - self.curve[left]) * (position - left)

    def users_at(self, elapsed: float) -> int:
        """Concurrent users ``elapsed`` seconds into the compressed run (closed model)."""
        if elapsed < 0 or elapsed >= self.duration_s:
            return 0
        return max(1, round(self.peak_users * self.share_at(elapsed)))

    def rate_at(self, elapsed: float) -> float:
        """Journeys arriving per second ``elapsed`` seconds into the run (open model)."""
        return (self.peak_rate or 0.0) * self.share_at(elapsed)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, duration_s: float | None = None,
                     peak_users: int | None = None, peak_rate: float | None = None,
                     max_users: int | None = None) -> Profile:
        """A profile file's mapping, with the command line's overrides: ``peak_users`` runs it in
        the closed model and ``peak_rate`` in the open one, whichever model the file is in (one
        of them at most)."""
        if peak_users is not None and peak_rate is not None:
            raise ValueError("give a number of users (closed model) or an arrival rate (open model), not both")
        curve = tuple(float(x) for x in data["curve"])
        if not curve or any(not 0 <= x <= 1 for x in curve):
            raise ValueError("curve must be a non-empty list of shares between 0 and 1")
        mix = {str(k): int(v) for k, v in data["mix"].items()}
        if not mix or any(v < 0 for v in mix.values()) or sum(mix.values()) == 0:
            raise ValueError("mix must give each journey a non-negative weight, not all zero")
        timeouts = {str(k): float(v) for k, v in (data.get("timeouts_s") or {}).items()}
        if any(not 0 < v <= 600 for v in timeouts.values()):
            raise ValueError("timeouts_s gives each journey a client timeout in seconds, above 0 and at most 600")
        unknown = sorted((set(mix) | set(data.get("pacing_s", {})) | set(timeouts)) - set(JOURNEYS))
        if unknown:
            raise ValueError(f"unknown journey(s) {', '.join(unknown)}: expected {', '.join(JOURNEYS)}")
        if peak_users is None and peak_rate is None:
            rate = data.get("peak_rate")
            peak_rate = None if rate is None else float(rate)
            if peak_rate is None:
                peak_users = int(data["peak_users"])
        if peak_rate is not None and not 0 < peak_rate <= MAX_PEAK_RATE:
            raise ValueError(f"peak_rate is journeys per second at the peak: above 0 and at most {MAX_PEAK_RATE:g}")
        if peak_users is not None and peak_users < 1:
            raise ValueError("peak_users must be at least 1")
        max_users = int(max_users if max_users is not None else data.get("max_users", DEFAULT_MAX_USERS))
        if max_users < 1:
            raise ValueError("max_users must be at least 1")
        return cls(
            name=str(data.get("name", "profile")),
            description=str(data.get("description", "")),
            duration_s=float(duration_s or data["duration_s"]),
            # An open-model profile may carry a users-based size too (a replayed peak does), kept
            # for --peak-users-less closed runs of it; the arrival rate is what drives it.
            peak_users=int(peak_users if peak_users is not None else data.get("peak_users") or 0),
            peak_rate=peak_rate,
            max_users=max_users,
            curve=curve,
            pacing_s={str(k): float(v) for k, v in data.get("pacing_s", {}).items()},
            mix=mix,
            failover=str(data["failover"]) if data.get("failover") else None,
            timeouts_s=timeouts,
        )

    def to_mapping(self) -> dict[str, Any]:
        """The profile as a profile file holds it (overrides applied): what a run's
        configuration carries to its Locust processes, read back with :meth:`from_mapping`."""
        return {
            "name": self.name, "description": self.description, "duration_s": self.duration_s,
            "peak_users": self.peak_users, "peak_rate": self.peak_rate, "max_users": self.max_users,
            "curve": list(self.curve), "pacing_s": dict(self.pacing_s),
            "mix": dict(self.mix), "failover": self.failover, "timeouts_s": dict(self.timeouts_s),
        }


def packaged_profiles() -> dict[str, str]:
    """The profiles shipped in ``scenarios/``, by name (``peak-hour``, ``weighing-morning``)."""
    found = {}
    for entry in resources.files("gosstand.scenarios").iterdir():
        if entry.name.endswith(".yaml") and entry.name not in NOT_PROFILES:
            found[entry.name.removesuffix(".yaml").replace("_", "-")] = entry.name
    return found


def load_profile(path: str | Path | None = None, **overrides: Any) -> Profile:
    """A profile file, a packaged profile by name (``weighing-morning``), or the packaged peak
    hour when ``path`` is None."""
    packaged = packaged_profiles()
    if path is None or (str(path) in packaged and not Path(path).exists()):
        name = DEFAULT_PROFILE if path is None else packaged[str(path)]
        text = resources.files("gosstand.scenarios").joinpath(name).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return Profile.from_mapping(yaml.safe_load(text), **overrides)
