"""The closed model's Locust users: a number of users following the profile's curve, each one
virtual user running one journey (:mod:`~gosstand.loadtests.journeys`) at the profile's pace.

The pace is a schedule, not a wait: the journey's first request carries its intended start, so
when the system slows down the recorded latency includes the time the request should already
have been running (coordinated omission is measured, not hidden). The open model
(:mod:`~gosstand.loadtests.open_model`) goes further and keeps the offered rate itself.
"""

from __future__ import annotations

import time

import gevent
from locust import FastHttpUser, constant, task

from .generator import meter
from .journeys import JOURNEYS, Journey, VirtualUser
from .profile import Profile

__all__ = ["DeclarationUser", "EsiaLoginUser", "JourneyUser", "UtkoObjectsUser", "WeighStationUser",
           "closed_model_users"]


class JourneyUser(FastHttpUser):
    abstract = True
    wait_time = constant(0)  # pacing is done against the schedule in run_journey
    journey = ""
    #: Absolute URLs are used throughout; FastHttpUser still wants a host.
    host = "http://127.0.0.1"
    #: Set per journey from the profile's client timeouts by the locustfile.
    network_timeout = 2.0
    connection_timeout = 2.0

    def on_start(self) -> None:
        self.virtual_user = VirtualUser(self.environment.runner)
        self.run_once: Journey = JOURNEYS[self.journey](self.virtual_user, self.client)
        self.pacing = self.virtual_user.config.profile.pacing_s.get(self.journey, 1.0)
        self.next_start = time.time()
        self.meter = meter()
        self.meter.pool += 1

    def on_stop(self) -> None:
        if hasattr(self, "virtual_user"):  # on_start may have failed first
            self.virtual_user.release()
            self.meter.pool -= 1

    @task
    def run_journey(self) -> None:
        delay = self.next_start - time.time()
        if delay > 0:
            gevent.sleep(delay)
        intended, self.next_start = self.next_start, self.next_start + self.pacing
        self.meter.journey_started()
        try:
            self.run_once.run(intended)
        finally:
            self.meter.journey_ended()


class EsiaLoginUser(JourneyUser):
    journey = "esia_login"


class DeclarationUser(JourneyUser):
    journey = "declaration"


class UtkoObjectsUser(JourneyUser):
    journey = "utko_objects"


class WeighStationUser(JourneyUser):
    journey = "weight_controls"


class AccountLoginUser(JourneyUser):
    journey = "account_login"


def closed_model_users(profile: Profile) -> list[type[JourneyUser]]:
    """The user classes, weighted by the mix, each journey's requests bounded by its client
    timeout (connecting and answering)."""
    users: list[type[JourneyUser]] = [EsiaLoginUser, DeclarationUser, UtkoObjectsUser, WeighStationUser,
                                      AccountLoginUser]
    for user in users:
        user.weight = profile.mix.get(user.journey, 0)
        user.network_timeout = user.connection_timeout = profile.timeout_s(user.journey)
    return users
