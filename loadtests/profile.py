"""Traffic profiles (``scenarios/*.yaml``): the peak-hour curve and the journey mix, as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PROFILE = "peak_hour.yaml"
#: A journey's client timeout unless its profile says otherwise (``timeouts_s``).
DEFAULT_TIMEOUT_S = 2.0
#: The journeys a profile's ``mix`` and ``pacing_s`` may name (loadtests/users.py).
JOURNEYS = ("esia_login", "declaration", "utko_objects", "weight_controls")
#: Journeys that reach UTKO: a run whose profile gives them a share seeds UTKO objects first.
UTKO_JOURNEYS = ("utko_objects", "weight_controls")
#: YAML files packaged beside the profiles that are not profiles.
NOT_PROFILES = frozenset({"replay_patterns.yaml"})


@dataclass(frozen=True, kw_only=True)
class Profile:
    name: str
    duration_s: float
    peak_users: int
    curve: tuple[float, ...]
    pacing_s: dict[str, float]
    mix: dict[str, int]
    description: str = ""
    #: The packaged failover schedule ``--failover default`` means for this profile (a file name
    #: in ``loadtests/``); ``None``: the peak hour's.
    failover: str | None = None
    #: Each journey's client timeout in seconds: a request with no complete answer by then is a
    #: failure of class ``timeout``, as for every real client (a hang sat out is an outage, not
    #: a slow success). Journeys not named get :data:`DEFAULT_TIMEOUT_S`.
    timeouts_s: dict[str, float] = field(default_factory=dict)
    #: Journeys started per second at the curve's 1.0, for an arrival-rate (open-model) run;
    #: ``None`` when the profile gives only users. A replayed log's profile carries its peak.
    peak_rate: float | None = None

    def timeout_s(self, journey: str) -> float:
        return self.timeouts_s.get(journey, DEFAULT_TIMEOUT_S)

    def users_at(self, elapsed: float) -> int:
        """Concurrent users ``elapsed`` seconds into the compressed run (linear between steps)."""
        if elapsed < 0 or elapsed >= self.duration_s:
            return 0
        if len(self.curve) == 1:
            return max(1, round(self.peak_users * self.curve[0]))
        position = elapsed / self.duration_s * (len(self.curve) - 1)
        left = int(position)
        right = min(left + 1, len(self.curve) - 1)
        share = self.curve[left] + (self.curve[right] - self.curve[left]) * (position - left)
        return max(1, round(self.peak_users * share))

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, duration_s: float | None = None,
                     peak_users: int | None = None) -> Profile:
        curve = tuple(float(x) for x in data["curve"])
        if not curve or any(not 0 <= x <= 1 for x in curve):
            raise ValueError("curve must be a non-empty list of shares between 0 and 1")
        mix = {str(k): int(v) for k, v in data["mix"].items()}
        if not mix or any(v < 0 for v in mix.values()) or sum(mix.values()) == 0:
            raise ValueError("mix must give each journey a non-negative weight, not all zero")
        timeouts = {str(k): float(v) for k, v in (data.get("timeouts_s") or {}).items()}
        if any(not 0 < v <= 600 for v in timeouts.values()):
            raise ValueError("timeouts_s gives each journey a client timeout in seconds, above 0 and at most 600")
        peak_rate = None if data.get("peak_rate") is None else float(data["peak_rate"])
        if peak_rate is not None and not peak_rate > 0:
            raise ValueError("peak_rate is journeys started per second at the curve's 1.0: above 0")
        unknown = sorted((set(mix) | set(data.get("pacing_s", {})) | set(timeouts)) - set(JOURNEYS))
        if unknown:
            raise ValueError(f"unknown journey(s) {', '.join(unknown)}: expected {', '.join(JOURNEYS)}")
        return cls(
            name=str(data.get("name", "profile")),
            description=str(data.get("description", "")),
            duration_s=float(duration_s or data["duration_s"]),
            peak_users=int(peak_users or data["peak_users"]),
            curve=curve,
            pacing_s={str(k): float(v) for k, v in data.get("pacing_s", {}).items()},
            mix=mix,
            failover=str(data["failover"]) if data.get("failover") else None,
            timeouts_s=timeouts,
            peak_rate=peak_rate,
        )

    def to_mapping(self) -> dict[str, Any]:
        """The profile as a profile file holds it (overrides applied): what a run's
        configuration carries to its Locust processes, read back with :meth:`from_mapping`."""
        return {
            "name": self.name, "description": self.description, "duration_s": self.duration_s,
            "peak_users": self.peak_users, "curve": list(self.curve), "pacing_s": dict(self.pacing_s),
            "mix": dict(self.mix), "failover": self.failover, "timeouts_s": dict(self.timeouts_s),
            "peak_rate": self.peak_rate,
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
