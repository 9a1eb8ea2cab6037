"""The load shape: the peak-hour profile replayed, compressed, as Locust user counts."""

from __future__ import annotations

from typing import ClassVar

from locust import LoadTestShape

from .profile import Profile


class PeakHourShape(LoadTestShape):
    """Users follow the profile's curve; the run ends (``None``) when the compressed hour is over.

    The locustfile sets :attr:`profile` from the run's configuration, overrides applied, so the
    same locustfile serves the 60-second CI run and a full hour.
    """

    profile: ClassVar[Profile | None] = None

    def tick(self) -> tuple[int, float] | None:
        profile = self.profile
        if profile is None:
            raise RuntimeError("PeakHourShape.profile was not set by the locustfile")
        elapsed = self.get_run_time()
        if elapsed >= profile.duration_s:
            return None
        users = profile.users_at(elapsed)
        return users, max(1.0, float(profile.peak_users))
