"""Locust users for the journeys of a load run, built on ``scenarios/``: the peak hour's ESIA
logins and declarations, and — where a profile gives them a share — UTKO operators keeping
their objects up to date and weigh stations importing weight controls.

Each user runs its journey at the profile's pace. The pace is a schedule, not a wait: the
journey's first request carries its intended start, so when the system slows down the
recorded latency includes the time the request should already have been running
(coordinated omission is measured, not hidden).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import time
import uuid
from collections import deque
from typing import Any

import gevent
from faker import Faker
from locust import FastHttpUser, constant, task
from locust.runners import WorkerRunner

from ..scenarios import declarations, esia_login, utko
from ..scenarios.answers import ServiceError
from ..scenarios.control import StackControl
from ..scenarios.http import TransportFailure
from ..scenarios.identities import russian_faker
from ..stand.records import Operation
from .config import LoadConfig
from .fixtures import LOGIN_SCOPES, relying_party
from .http_adapter import LocustHttp
from .profile import Profile
from .recorder import operation

log = logging.getLogger("gosstand.load")

_config: LoadConfig | None = None
_profile: Profile | None = None
_user_numbers = itertools.count()
#: Indexes of seeded people no running virtual user of this process holds. A person's SMS codes
#: go to one phone, so two users logging in as the same person at once would read each other's
#: codes; with several Locust processes each takes its own share (:func:`_share`).
_free_people: deque[int] | None = None


def configure(config: LoadConfig) -> None:
    """Called once per Locust process from the locustfile's ``init`` hook."""
    global _config, _profile, _free_people
    _config, _profile, _free_people = config, config.profile, None


def _share(runner: Any, processes: int) -> tuple[int, int]:
    """(this process's index, how many load processes): a Locust worker's index comes from its
    master once it has connected — before any user starts — and a local runner is the only one."""
    index = getattr(runner, "worker_index", 0)
    return (max(index, 0), max(processes, 1)) if isinstance(runner, WorkerRunner) else (0, 1)


def _take_person(runner: Any, people: int, processes: int) -> int:
    global _free_people
    index, count = _share(runner, processes)
    if _free_people is None:
        _free_people = deque(range(index, people, count))
    if not _free_people:
        raise RuntimeError("more concurrent users than seeded people: seed more (--users)")
    return _free_people.popleft()


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
        assert _config is not None and _profile is not None, "the locustfile's init hook did not run"
        self.config = _config
        index, count = _share(self.environment.runner, self.config.processes)
        self.number = index + count * next(_user_numbers)  # unique across the load processes
        self.urls: dict[str, str] = self.config.manifest.urls
        self.http = LocustHttp(self.client, journey=self.journey)
        self.control = StackControl(self.urls, self.config.manifest.control_token, http=self.http)
        fixtures = self.config.fixtures
        self.rp = relying_party(fixtures)
        self.pacing = _profile.pacing_s.get(self.journey, 1.0)
        self.next_start = time.time()
        self.person_index = _take_person(self.environment.runner, len(fixtures["users"]), self.config.processes)
        self.person = fixtures["users"][self.person_index]

    def on_stop(self) -> None:
        if hasattr(self, "person_index") and _free_people is not None:  # on_start may have failed first
            _free_people.append(self.person_index)

    def login(self, person: dict[str, Any]) -> esia_login.TokenSet:
        return esia_login.login(
            self.http,
            esia_url=self.urls["esia"],
            rp=self.rp,
            login=person["phone"],
            password=person["password"],
            read_sms=self.control.read_sms,
            scope=" ".join(LOGIN_SCOPES),
            access_type="offline",
        )

    @task
    def run_journey(self) -> None:
        delay = self.next_start - time.time()
        if delay > 0:
            gevent.sleep(delay)
        self.http.intended_start = self.next_start
        self.next_start += self.pacing
        try:
            self.journey_once()
        except (esia_login.EsiaJourneyError, ServiceError, TransportFailure) as exc:
            # The failed request is already in the timeline; the journey starts over next time.
            log.debug("%s journey failed: %s", self.journey, exc)
        finally:
            # A journey is one client session: the next one opens a new connection, which the
            # kernel may hand to another replica (SO_REUSEPORT balances connections, not
            # requests — with one everlasting keep-alive connection per user, a few users
            # would pile onto one replica for the whole run).
            self.client.client.close()
            self.http.connection_closed()

    def journey_once(self) -> None:
        raise NotImplementedError


class EsiaLoginUser(JourneyUser):
    """A broker signing in to a relying party through ESIA: ac → password → SMS code → token →
    person data → logout, so the next login starts a fresh browser session."""

    journey = "esia_login"

    def journey_once(self) -> None:
        tokens = self.login(self.person)
        esia_login.person(self.http, esia_url=self.urls["esia"], tokens=tokens)
        esia_login.logout(self.http, esia_url=self.urls["esia"], rp=self.rp)


class DeclarationUser(JourneyUser):
    """A broker filing declarations: submit with an idempotency key (retrying with the same key
    through failures), then track the status."""

    journey = "declaration"

    def on_start(self) -> None:
        super().on_start()
        self.faker = Faker("ru_RU")
        self.faker.seed_instance(self.number)
        self.declarants = self.config.fixtures["declarants"]
        self.tokens: esia_login.TokenSet | None = None

    def journey_once(self) -> None:
        if self.tokens is None:
            self.tokens = self.login(self.person)
        fts = self.urls["fts"]
        key = str(uuid.uuid4())
        payload = declarations.sample_declaration(self.faker)
        payload["declarant"] = dict(self.declarants[self.number % len(self.declarants)])
        payload["senderReference"] = key
        try:
            submitted = declarations.submit(
                self.http, fts_url=fts, token=self.tokens.access_token, declaration=payload,
                idempotency_key=key, attempts=4,
            )
        except Exception as exc:
            operation.fire(record=Operation(op=key, service="fts", sender_reference=key, acked=False,
                                            attempts=getattr(exc, "attempts", None), answered_at=time.time(),
                                            error=str(exc)[:200]))
            raise
        operation.fire(record=Operation(op=key, service="fts", sender_reference=key, acked=True, id=submitted.id,
                                        attempts=submitted.attempts, answered_at=time.time()))
        declarations.status(self.http, fts_url=fts, token=self.tokens.access_token, declaration_id=submitted.id)


class UtkoObjectsUser(JourneyUser):
    """A regional operator's system: reads one of its objects and sets its status under
    If-Match (re-reading on a 412), lists its objects and reads today's requests."""

    journey = "utko_objects"

    def on_start(self) -> None:
        super().on_start()
        self.objects = self.config.fixtures["utko_objects"]
        if not self.objects:
            raise RuntimeError("the profile sends UTKO traffic but no UTKO objects were seeded")
        self.tokens: esia_login.TokenSet | None = None
        self.turn = 0

    def journey_once(self) -> None:
        if self.tokens is None:
            self.tokens = self.login(self.person)
        url, token = self.urls["utko"], self.tokens.access_token
        obj = self.objects[(self.number + self.turn) % len(self.objects)]
        status = ("active", "inactive")[self.turn % 2]
        self.turn += 1
        utko.update_object(self.http, utko_url=url, token=token, object_id=obj["id"],
                           change=lambda current: {**current, "status": status})
        for _ in utko.list_objects(self.http, utko_url=url, token=token, operatorInn=obj["operatorInn"]):
            pass
        utko.requests_on(self.http, utko_url=url, token=token, date=_utc_today())


class WeighStationUser(JourneyUser):
    """A weigh station at an object: each journey imports a batch of weighings with the
    object's access key, re-posting it whole through failures. Each weight control is one
    logical write, reconciled against what the object holds at the end."""

    journey = "weight_controls"
    batch = 3

    def on_start(self) -> None:
        super().on_start()
        self.objects = self.config.fixtures["utko_objects"]
        if not self.objects:
            raise RuntimeError("the profile sends UTKO traffic but no UTKO objects were seeded")
        self.faker = russian_faker(seed=self.number)

    def journey_once(self) -> None:
        obj = self.objects[self.number % len(self.objects)]
        # The batch's weighings were made over the last minutes (seven apart), none in the future.
        made_from = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=7 * self.batch)
        controls = utko.sample_weight_controls(self.faker, count=self.batch, ids=lambda: str(uuid.uuid4()),
                                               at=made_from)
        ids = [control["id"] for control in controls]
        try:
            result = utko.import_weight_controls(self.http, utko_url=self.urls["utko"], object_id=obj["id"],
                                                 access_key=obj["accessKey"], controls=controls)
        except Exception as exc:
            for wc_id in ids:
                operation.fire(record=Operation(op=wc_id, service="utko", sender_reference=wc_id, acked=False,
                                                attempts=getattr(exc, "attempts", None), answered_at=time.time(),
                                                error=str(exc)[:200]))
            raise
        stored = set(result.imported) | set(result.skipped)
        for wc_id in ids:
            operation.fire(record=Operation(op=wc_id, service="utko", sender_reference=wc_id, acked=wc_id in stored,
                                            id=wc_id if wc_id in stored else None, attempts=result.attempts,
                                            answered_at=time.time()))


def _utc_today() -> dt.date:
    """Today, UTC: the date UTKO files requests under."""
    return dt.datetime.now(dt.UTC).date()
