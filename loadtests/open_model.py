"""The open model on Locust: journeys start on the arrival timetable, whatever the target does.

Locust's users are a closed model: each waits for its own answer before it sends again, so a
slow target lowers the load it is offered, and the latencies it never had to serve go missing
(coordinated omission). Here Locust runs one :class:`ArrivalDispatcher` user per load process
(:class:`ArrivalShape` asks for as many as there are processes, and Locust's dispatch gives
each worker one). The dispatcher walks its process's share of the
:class:`~gosstand.loadtests.arrivals.Timetable` and, at each arrival, hands the journey to a free
virtual user of its :class:`VirtualUserPool` in a greenlet of its own — it never waits for a
journey to end. The pool makes virtual users as arrivals need them, up to the process's share
of ``max_users``; only when all of those are busy does an arrival wait, and then it starts late,
its latency still counted from its scheduled arrival, and the wait is counted
(:mod:`~gosstand.loadtests.generator`): a run that needed more users than it had says so.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import gevent
from gevent.pool import Group
from gevent.queue import Empty, Queue
from locust import LoadTestShape, User, constant, task
from locust.contrib.fasthttp import FastHttpSession

from .arrivals import Timetable
from .generator import GeneratorMeter, meter
from .journeys import JOURNEYS, Journey, VirtualUser, load_config, load_share
from .profile import Profile

__all__ = ["ArrivalDispatcher", "ArrivalShape", "VirtualUserPool", "pool_share"]

log = logging.getLogger("gosstand.load")

#: Virtual users made before the first arrival, as a share of the process's peak rate (one per
#: so many journeys a second): making one costs milliseconds of CPU (a Faker, HTTP sessions),
#: which an arrival would otherwise wait for; the first one also loads Faker's locale data
#: (a tenth of a second). k6 calls these pre-allocated VUs.
WARM_USERS_PER_RATE = 0.25
#: How long after the shape's clock the dispatchers' timetables may start (Locust spawning them,
#: and their first virtual users made), seconds.
DISPATCHERS_START_WITHIN_S = 3.0
#: How long journeys still running at the end of the run are waited for, in seconds: within
#: the ``--stop-timeout`` gosstand gives Locust, after which Locust cuts them off itself.
FINISH_WITHIN_S = 8.0


def pool_share(max_users: int, index: int, count: int) -> int:
    """Process ``index`` of ``count``'s share of ``max_users`` (the shares add up to it)."""
    return max_users // count + (1 if index < max_users % count else 0)


class PooledUser:
    """A virtual user of the pool: one person, and one session per journey it has run, each
    with that journey's client timeout."""

    def __init__(self, runner: Any, environment: Any, timeouts: Callable[[str], float]) -> None:
        self.user = VirtualUser(runner)
        self._environment = environment
        self._timeouts = timeouts
        self._journeys: dict[str, Journey] = {}

    def warm(self, names: Iterable[str]) -> PooledUser:
        """Make the journeys ``names`` now, before they are needed."""
        for name in names:
            self.journey(name)
        return self

    def journey(self, name: str) -> Journey:
        journey = self._journeys.get(name)
        if journey is None:
            timeout = self._timeouts(name)
            session = FastHttpSession(base_url="http://127.0.0.1", request_event=self._environment.events.request,
                                      user=None, network_timeout=timeout, connection_timeout=timeout,
                                      max_retries=0)
            journey = self._journeys[name] = JOURNEYS[name](self.user, session)
        return journey

    def close(self) -> None:
        for journey in self._journeys.values():
            journey.session.client.close()
        self.user.release()


class VirtualUserPool:
    """This process's virtual users: made when an arrival finds none free, up to ``size``."""

    def __init__(self, make: Callable[[], PooledUser], *, size: int, meter: GeneratorMeter) -> None:
        self._make = make
        self.size = size
        self._free: Queue[PooledUser] = Queue()
        self._all: list[PooledUser] = []
        self._meter = meter
        meter.pool_max = size

    def warm(self, count: int) -> None:
        """Make ``count`` virtual users now (at most the pool's size), free for the first arrivals."""
        while len(self._all) < min(count, self.size):
            made = self._make()
            self._all.append(made)
            self._free.put(made)
        self._meter.pool = len(self._all)

    def acquire(self, *, timeout: float) -> PooledUser | None:
        """A free virtual user; a new one while the pool is below its size; else wait for one
        for at most ``timeout`` seconds (``None``: none came)."""
        try:
            return self._free.get_nowait()
        except Empty:
            pass
        if len(self._all) < self.size:
            made = self._make()
            self._all.append(made)
            self._meter.pool = len(self._all)
            return made
        self._meter.pool_full(True)
        try:
            return self._free.get(timeout=max(0.0, timeout))
        except Empty:
            return None
        finally:
            self._meter.pool_full(False)

    def release(self, user: PooledUser) -> None:
        self._free.put(user)

    def close(self) -> None:
        for user in self._all:
            user.close()


class ArrivalDispatcher(User):
    """One per load process: starts this process's share of the arrivals on time."""

    wait_time = constant(0)

    def on_start(self) -> None:
        config = load_config()
        if not config.profile.open_model:
            raise RuntimeError(f"the profile {config.profile.name!r} of this run has no arrival rate")
        runner = self.environment.runner
        index, count = load_share(runner, config.processes)
        profile = config.profile
        self.meter = meter()
        self.timetable = Timetable(profile, share=(index, count))
        journeys = [name for name, share in profile.mix.items() if share > 0]
        self.pool = VirtualUserPool(lambda: PooledUser(runner, self.environment, profile.timeout_s).warm(journeys),
                                    size=pool_share(profile.max_users, index, count), meter=self.meter)
        self.pool.warm(math.ceil((profile.peak_rate or 0.0) / count * WARM_USERS_PER_RATE))
        self.journeys = Group()
        self.finished = False

    @task
    def dispatch(self) -> None:
        if self.finished:  # the timetable is done (or broke off): wait for Locust to stop this user
            gevent.sleep(0.5)
            return
        self.finished = True  # once only, even if this raises: a restarted timetable would offer it twice
        origin = time.time()
        self.meter.offered = lambda: self.timetable.offered(time.time() - origin)
        end = origin + self.timetable.duration_s
        for arrival in self.timetable.arrivals():
            due = origin + arrival.offset
            while (wait := due - time.time()) > 0:  # a timer may fire a little early
                gevent.sleep(wait)
            user = self.pool.acquire(timeout=end - time.time())
            if user is None:  # the run ended while every virtual user was busy
                break
            self.journeys.spawn(self._journey, user, arrival.journey, due)
        self.journeys.join(timeout=FINISH_WITHIN_S)

    def _journey(self, user: PooledUser, name: str, due: float) -> None:
        self.meter.journey_started(time.time() - due)
        try:
            user.journey(name).run(due)
        except Exception:  # noqa: BLE001 — a bug in a journey must not stop the timetable
            log.exception("%s journey raised", name)
        finally:
            self.meter.journey_ended()
            self.pool.release(user)

    def on_stop(self) -> None:
        if hasattr(self, "journeys"):
            self.journeys.kill(block=True, timeout=2)
            self.pool.close()


class ArrivalShape(LoadTestShape):
    """One dispatcher per load process until the compressed hour is over (``None`` ends it).

    A dispatcher's timetable starts when it does — after Locust has spawned it and it has made
    its first virtual users — a moment after this shape's clock; the shape waits
    :data:`DISPATCHERS_START_WITHIN_S` more, so stopping the run (which costs Locust's event loop
    a pause of its own) never falls on the last arrivals.
    """

    profile: ClassVar[Profile | None] = None
    processes: ClassVar[int] = 1

    def tick(self) -> tuple[int, float] | None:
        if self.profile is None:
            raise RuntimeError("ArrivalShape.profile was not set by the locustfile")
        if self.get_run_time() >= self.profile.duration_s + DISPATCHERS_START_WITHIN_S:
            return None
        return self.processes, float(self.processes)
