"""The load shape: the peak-hour profile replayed, compressed, as Locust user counts."""

from __future__ import annotations

import os

from locust import LoadTestShape

from .profile import Profile, load_profile


class PeakHourShape(LoadTestShape):
    """Users follow the profile's curve; the run ends (``None``) when the compressed hour is over.

    The profile path and overrides come from ``GOSSTAND_PROFILE``, ``GOSSTAND_DURATION`` and
    ``GOSSTAND_PEAK_USERS`` so the same locustfile serves the 60-second CI run and a full hour.
    """

    profile: Profile | None = None

    def _profile(self) -> Profile:
        if self.profile is None:
            duration = os.environ.get("GOSSTAND_DURATION")
            peak = os.environ.get("GOSSTAND_PEAK_USERS")
            self.profile = load_profile(
                os.environ.get("GOSSTAND_PROFILE") or None,
                duration_s=float(duration) if duration else None,
                peak_users=int(peak) if peak else None,
            )
        return self.profile

    def tick(self) -> tuple[int, float] | None:
        profile = self._profile()
        elapsed = self.get_run_time()
        if elapsed >= profile.duration_s:
            return None
        users = profile.users_at(elapsed)
        return users, max(1.0, float(profile.peak_users))
