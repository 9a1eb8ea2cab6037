"""The journeys a load run sends, built on ``scenarios/``, apart from how they are scheduled.

A :class:`VirtualUser` is one simulated person at a client system: a seeded ESIA account (its
SMS codes go to one phone, so no two virtual users of a run hold the same person at once), the
stack's URLs and the relying party. A :class:`Journey` is what that person does once — sign in,
file a declaration, keep a UTKO object up to date, import a batch of weighings — through one
Locust HTTP session with the journey's client timeout.

Both load models run these: the closed model's Locust users (:mod:`~gosstand.loadtests.users`),
each one virtual user on one journey at its pace, and the open model's dispatcher
(:mod:`~gosstand.loadtests.open_model`), which hands each scheduled arrival to a free virtual
user of its pool.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import time
import uuid
from collections import deque
from typing import Any, ClassVar

from faker import Faker
from locust.runners import WorkerRunner

from ..scenarios import accounts, declarations, esia_login, gost, utko
from ..scenarios.answers import ServiceError
from ..scenarios.control import StackControl
from ..scenarios.esia_client import RelyingParty
from ..scenarios.http import TransportFailure
from ..scenarios.identities import russian_faker
from ..stand.records import Operation
from .config import LoadConfig
from .fixtures import LOGIN_SCOPES, relying_party
from .http_adapter import LocustHttp
from .recorder import operation

__all__ = ["JOURNEYS", "Journey", "VirtualUser", "configure", "load_config", "load_share"]

log = logging.getLogger("gosstand.load")

_config: LoadConfig | None = None
_rp: RelyingParty | None = None
_user_numbers = itertools.count()
#: Indexes of seeded people no virtual user of this process holds (:func:`load_share`).
_free_people: deque[int] | None = None


def configure(config: LoadConfig) -> None:
    """Called once per Locust process from the locustfile's ``init`` hook."""
    global _config, _rp, _free_people
    _config, _rp, _free_people = config, None, None


def load_config() -> LoadConfig:
    """The run's configuration, as :func:`configure` was given it."""
    if _config is None:
        raise RuntimeError("the locustfile's init hook did not run")
    return _config


def load_share(runner: Any, processes: int) -> tuple[int, int]:
    """(this process's index, how many load processes): a Locust worker's index comes from its
    master once it has connected — before any user starts — and a local runner is the only one."""
    index = getattr(runner, "worker_index", 0)
    return (max(index, 0), max(processes, 1)) if isinstance(runner, WorkerRunner) else (0, 1)


class VirtualUser:
    """One simulated person: a seeded account taken from this process's share of the people
    (two load processes never sign in as one person: their SMS codes would cross)."""

    def __init__(self, runner: Any) -> None:
        global _free_people, _rp
        self.config = config = load_config()
        index, count = load_share(runner, config.processes)
        self.number = index + count * next(_user_numbers)  # unique across the load processes
        people = config.fixtures["users"]
        if _free_people is None:
            _free_people = deque(range(index, len(people), count))
        if not _free_people:
            raise RuntimeError("more concurrent users than seeded people: seed more (--users)")
        self.person_index = _free_people.popleft()
        self.person: dict[str, Any] = people[self.person_index]
        self.urls: dict[str, str] = config.manifest.urls
        if _rp is None:  # one relying party per process: its key is parsed once
            _rp = relying_party(config.fixtures)
        self.rp = _rp

    def release(self) -> None:
        """Give the person back, for another virtual user of this process."""
        if _free_people is not None and self.person_index not in _free_people:
            _free_people.append(self.person_index)


class Journey:
    """What a virtual user does once, through ``session`` (a Locust HTTP session whose client
    timeout is the journey's). Subclasses implement :meth:`once`."""

    name: ClassVar[str] = ""

    def __init__(self, user: VirtualUser, session: Any) -> None:
        self.user = user
        self.session = session
        self.http = LocustHttp(session, journey=self.name)
        self.urls = user.urls
        self.control = StackControl(user.urls, user.config.manifest.control_token, http=self.http)

    def run(self, intended_start: float) -> bool:
        """Run the journey once; its first request carries ``intended_start``, so its latency
        counts from when the schedule meant it to begin. False when it failed (the failed
        request is already in the timeline; the next run starts over)."""
        self.http.intended_start = intended_start
        try:
            self.once()
            return True
        except (esia_login.EsiaJourneyError, accounts.AccountJourneyError, ServiceError, TransportFailure) as exc:
            log.debug("%s journey failed: %s", self.name, exc)
            return False
        finally:
            # A journey is one client session: the next one opens a new connection, which the
            # kernel may hand to another replica (SO_REUSEPORT balances connections, not
            # requests — with one everlasting keep-alive connection per user, a few users
            # would pile onto one replica for the whole run).
            self.session.client.close()
            self.http.connection_closed()

    def once(self) -> None:
        raise NotImplementedError

    def login(self) -> esia_login.TokenSet:
        return esia_login.login(
            self.http,
            esia_url=self.urls["esia"],
            rp=self.user.rp,
            login=self.user.person["phone"],
            password=self.user.person["password"],
            read_sms=self.control.read_sms,
            scope=" ".join(LOGIN_SCOPES),
            access_type="offline",
        )


class EsiaLogin(Journey):
    """A broker signing in to a relying party through ESIA: ac → password → SMS code → token →
    person data → logout, so the next login starts a fresh browser session."""

    name = "esia_login"

    def once(self) -> None:
        tokens = self.login()
        esia_login.person(self.http, esia_url=self.urls["esia"], tokens=tokens)
        esia_login.logout(self.http, esia_url=self.urls["esia"], rp=self.user.rp)


class Declaration(Journey):
    """A broker filing declarations: submit with an idempotency key (retrying with the same key
    through failures), then track the status."""

    name = "declaration"

    def __init__(self, user: VirtualUser, session: Any) -> None:
        super().__init__(user, session)
        self.faker = Faker("ru_RU")
        self.faker.seed_instance(user.number)
        self.declarants = user.config.fixtures["declarants"]
        self.tokens: esia_login.TokenSet | None = None

    def once(self) -> None:
        if self.tokens is None:
            self.tokens = self.login()
        fts = self.urls["fts"]
        key = str(uuid.uuid4())
        payload = declarations.sample_declaration(self.faker)
        # The organisation this person works for: FTS refuses a filing for any other (403).
        payload["declarant"] = dict(self.declarants[self.user.person["declarant"]])
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


class UtkoObjects(Journey):
    """A regional operator's system: reads one of its objects and sets its status under
    If-Match (re-reading on a 412), lists its objects and reads today's requests."""

    name = "utko_objects"

    def __init__(self, user: VirtualUser, session: Any) -> None:
        super().__init__(user, session)
        fixtures = user.config.fixtures
        if not fixtures["utko_objects"]:
            raise RuntimeError("the profile sends UTKO traffic but no UTKO objects were seeded")
        # The objects of the organisation this person works for: UTKO shows it no other.
        own = fixtures["declarants"][user.person["declarant"]]["inn"]
        self.objects = [obj for obj in fixtures["utko_objects"] if obj["operatorInn"] == own]
        if not self.objects:
            raise RuntimeError(f"no UTKO object was seeded for the operator {own} this person works for")
        self.tokens: esia_login.TokenSet | None = None
        self.turn = 0

    def once(self) -> None:
        if self.tokens is None:
            self.tokens = self.login()
        url, token = self.urls["utko"], self.tokens.access_token
        obj = self.objects[self.turn % len(self.objects)]
        status = ("active", "inactive")[self.turn % 2]
        self.turn += 1
        utko.update_object(self.http, utko_url=url, token=token, object_id=obj["id"],
                           change=lambda current: {**current, "status": status})
        for _ in utko.list_objects(self.http, utko_url=url, token=token, operatorInn=obj["operatorInn"]):
            pass
        utko.requests_on(self.http, utko_url=url, token=token, date=_utc_today())


class WeightControls(Journey):
    """A weigh station at an object: each journey imports a batch of weighings with the
    object's access key, re-posting it whole through failures. Each weight control is one
    logical write, reconciled against what the object holds at the end."""

    name = "weight_controls"
    batch = 3

    def __init__(self, user: VirtualUser, session: Any) -> None:
        super().__init__(user, session)
        self.objects = user.config.fixtures["utko_objects"]
        if not self.objects:
            raise RuntimeError("the profile sends UTKO traffic but no UTKO objects were seeded")
        self.faker = russian_faker(seed=user.number)

    def once(self) -> None:
        obj = self.objects[self.user.number % len(self.objects)]
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


class AccountLogin(Journey):
    """A person entering a personal account, FTS's or FGIS UTKO's by turns: ``/login`` → ESIA
    (password and SMS code, or every other time an electronic signature of ESIA's challenge with the
    certificate seeded for them; the consent on a first visit) → the account's callback → the choice of
    organisation (its first-login registration where the organisation is new to the FGIS) → the
    list of its declarations or objects → logout, which ends the ESIA session too. It reaches the
    target's accounts at the manifest's URLs, so ``--target fts=…`` loads your own callback."""

    name = "account_login"

    def __init__(self, user: VirtualUser, session: Any) -> None:
        super().__init__(user, session)
        self.turn = user.number
        signature = user.person.get("signature")
        self.sign = None if signature is None else gost.cms_signer(signature["certificate"], signature["private_key"])

    def once(self) -> None:
        service = ("fts", "utko")[self.turn % 2]
        with_signature = self.sign is not None and (self.turn // 2) % 2 == 1
        self.turn += 1
        account_url = self.urls[service]
        person = self.user.person
        if with_signature and self.sign is not None:
            accounts.sign_in_with_signature(self.http, account_url=account_url, esia_url=self.urls["esia"],
                                            sign=self.sign)
        else:
            accounts.sign_in(self.http, account_url=account_url, esia_url=self.urls["esia"], login=person["phone"],
                             password=person["password"], read_sms=self.control.read_sms)
        organisations = [choice for choice in accounts.choices(self.http, account_url) if choice.startswith("org:")]
        if not organisations:
            raise accounts.AccountJourneyError("account: choices", "the person is offered no organisation")
        if accounts.choose(self.http, account_url, organisations[0]) == "/account/registration":
            organisation = self.user.config.fixtures["declarants"][person["declarant"]]
            accounts.register_organisation(self.http, account_url, organisation["inn"])
        accounts.open_list(self.http, account_url)
        accounts.logout(self.http, account_url)


#: Each journey a profile's mix may name, by name.
JOURNEYS: dict[str, type[Journey]] = {
    cls.name: cls for cls in (EsiaLogin, Declaration, UtkoObjects, WeightControls, AccountLogin)}


def _utc_today() -> dt.date:
    """Today, UTC: the date UTKO files requests under."""
    return dt.datetime.now(dt.UTC).date()
