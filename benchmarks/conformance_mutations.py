"""How strong the conformance suite is: break the mocks in many small ways and count how many
broken stands the suite fails.

    flock /work/load.lock .venv/bin/python benchmarks/conformance_mutations.py [--examples 5]
        [--only NAME,NAME] [--list] [--quick]

Each *mutant* in :data:`CATALOGUE` breaks one rule the suite claims to check — a checksum, an
idempotency or precondition rule, a step of the life cycle, paging, a limit, authentication, a
rule the contracts state in prose — with one small change to the mocks' code: a function of
theirs replaced or wrapped, a constant or a table entry changed (:class:`Patcher`). For each, the
benchmark starts ESIA, UTKO and FTS in a fresh process with that one change applied (one replica
each, in-process granian, the hot path off so every read goes through the code the mutant
changed), then runs the whole suite against it as any user would —
``gosstand conformance --gosstand-target urls … -x``, the quick tests first and the contract tests
after them (:data:`PASSES`) — and counts the mutant *caught* when the suite fails (exit 1) and a
*survivor* when it passes. The unbroken mocks run first: if the suite
does not pass on them the figure means nothing, and the benchmark stops with exit 2.

Prints one line per mutant (verdict, seconds, the first failing test) and the share caught,
naming every survivor. ``--examples`` is schemathesis' examples per operation (the suite's
``--contract-examples``); fewer is quicker and may let a mutant slip that more would catch.
Runs a load for minutes: hold ``/work/load.lock``. CI runs its quick form (``--quick``: the
authentication, scope and access mutants against the suite's ``authentication or access`` tests,
about a minute, exit 1 on a survivor); ``tests/test_conformance_mutations.py`` checks its machinery.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib
import os
import pkgutil
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import httpx

SERVICES = ("esia", "utko", "fts")
BASELINE = "unmutated"
#: What the suite's exit codes say about a mutant: failed it (1), passed it (0), could not judge it
#: (2: the gate fails closed, so the mutant does not pass either); or the mutant's stand did not
#: start, and nothing was judged.
Verdict = Literal["caught", "survived", "broken", "no stand"]
START_TIMEOUT = 60.0
SUITE_TIMEOUT = 1800.0


# -- changing the mocks' code -------------------------------------------------------------------

class Patcher:
    """Replaces names in the mocks' modules and classes, and can put everything back.

    A function a module imported by name (``from .x import f``) is bound in the importer too, so
    :meth:`replace` on a module swaps every binding of the same object under ``gosstand.mocks``."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []

    def replace(self, owner: Any, name: str, value: Any) -> None:
        original = getattr(owner, name) if not isinstance(owner, type) else owner.__dict__[name]
        holders: list[Any] = [owner]
        if isinstance(owner, ModuleType):
            holders += [module for module in _mock_modules() if module is not owner
                        and getattr(module, name, None) is original]
        for holder in holders:
            self._set(holder, name, value)

    def wrap(self, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        """``owner.name`` becomes ``make(original)``."""
        self.replace(owner, name, make(getattr(owner, name)))

    def set_item(self, mapping: dict[Any, Any], key: Any, value: Any) -> None:
        original = mapping[key]
        mapping[key] = value
        self._undo.append(lambda: mapping.__setitem__(key, original))

    def _set(self, holder: Any, name: str, value: Any) -> None:
        original = holder.__dict__[name] if isinstance(holder, type) else getattr(holder, name)
        setattr(holder, name, value)
        self._undo.append(lambda: setattr(holder, name, original))

    def undo(self) -> None:
        while self._undo:
            self._undo.pop()()


def _mock_modules() -> list[ModuleType]:
    return [module for name, module in list(sys.modules.items())
            if name.startswith("gosstand.mocks") and isinstance(module, ModuleType)]


def import_mocks() -> None:
    """Every module of the mocks, so a patch reaches each binding before an app is built."""
    import gosstand.mocks as mocks

    for info in pkgutil.walk_packages(mocks.__path__, "gosstand.mocks."):
        importlib.import_module(info.name)


# -- the catalogue --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mutant:
    name: str
    #: The rule of the suite it breaks (one of :data:`RULES`).
    rule: str
    description: str
    apply: Callable[[Patcher], None]


RULES = ("checksums", "idempotency", "preconditions", "life cycle", "paging", "limits", "weight controls",
         "authentication", "scopes", "access", "prose rules")
#: Rules the suite claims whose mutants wait for code that is not there yet.
PENDING: dict[str, str] = {}
CATALOGUE: dict[str, Mutant] = {}


def mutant(rule: str) -> Callable[[Callable[[Patcher], None]], Callable[[Patcher], None]]:
    """Adds the decorated change to :data:`CATALOGUE` under its function's name."""
    assert rule in RULES, rule

    def add(change: Callable[[Patcher], None]) -> Callable[[Patcher], None]:
        CATALOGUE[change.__name__] = Mutant(change.__name__, rule, " ".join((change.__doc__ or "").split()), change)
        return change

    return add


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"gosstand.mocks.{name}")


def _digits_only(length: int | tuple[int, ...]) -> Callable[..., bool]:
    lengths = (length,) if isinstance(length, int) else length
    return lambda value, **_: isinstance(value, str) and value.isdigit() and len(value) in lengths


# checksums: each identifier's check digits ignored (its length still checked)

@mutant("checksums")
def inn_check_digits_ignored(patch: Patcher) -> None:
    """An INN of the right length is valid whatever its check digits."""
    patch.replace(_module("core.identifiers"), "is_valid_inn", _digits_only((10, 12)))


@mutant("checksums")
def ogrn_check_digit_ignored(patch: Patcher) -> None:
    """An OGRN of 13 digits is valid whatever its check digit."""
    patch.replace(_module("core.identifiers"), "is_valid_ogrn", _digits_only(13))


@mutant("checksums")
def ogrnip_check_digit_ignored(patch: Patcher) -> None:
    """An OGRNIP of 15 digits is valid whatever its check digit."""
    patch.replace(_module("core.identifiers"), "is_valid_ogrnip", _digits_only(15))


@mutant("checksums")
def snils_checksum_ignored(patch: Patcher) -> None:
    """A SNILS of 11 digits is valid whatever its control number."""
    identifiers = _module("core.identifiers")
    patch.replace(identifiers, "is_valid_snils", lambda value: identifiers.snils_digits(value) is not None)


@mutant("checksums")
def kpp_shape_ignored(patch: Patcher) -> None:
    """Any nine characters are a KPP (a tax office of 00, lower-case letters)."""
    patch.replace(_module("core.identifiers"), "is_valid_kpp",
                  lambda value, **_: isinstance(value, str) and len(value) == 9)


@mutant("checksums")
def tnved_any_ten_digits(patch: Patcher) -> None:
    """Any ten digits are a TN VED code (a chapter that does not exist too)."""
    patch.replace(_module("core.identifiers"), "is_valid_tnved", _digits_only(10))


@mutant("checksums")
def fkko_any_eleven_digits(patch: Patcher) -> None:
    """Any eleven digits are an FKKO code."""
    patch.replace(_module("core.identifiers"), "is_valid_fkko",
                  lambda value: isinstance(value, str) and len(value.replace(" ", "")) == 11)


# idempotency

@mutant("idempotency")
def retried_submission_files_again(patch: Patcher) -> None:
    """A submission retried with its Idempotency-Key files a second declaration."""
    repository = _module("fts.repository").DeclarationRepository

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        async def submit(self: Any, record: dict[str, Any], *, idempotency_key: str) -> Any:
            return await original(self, record, idempotency_key=f"{idempotency_key}-{uuid.uuid4()}")
        return submit

    patch.wrap(repository, "submit", make)


@mutant("idempotency")
def replayed_submission_unmarked(patch: Patcher) -> None:
    """A retried submission returns the first declaration without Idempotent-Replayed."""
    repository = _module("fts.repository").DeclarationRepository

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        async def submit(self: Any, record: dict[str, Any], *, idempotency_key: str) -> Any:
            claim = await original(self, record, idempotency_key=idempotency_key)
            return None if claim is None else dataclasses.replace(claim, created=True)
        return submit

    patch.wrap(repository, "submit", make)


@mutant("idempotency")
def reused_key_not_refused(patch: Patcher) -> None:
    """The same Idempotency-Key with another declaration returns the first one instead of a 409."""
    patch.replace(_module("fts.repository"), "fingerprint", lambda submission: "same")


@mutant("idempotency")
def retried_withdrawal_refused(patch: Patcher) -> None:
    """A withdrawal retried with its Idempotency-Key is a 409 instead of the first answer again."""
    repository = _module("fts.repository").DeclarationRepository

    async def withdrawal(self: Any, declaration_id: str) -> None:
        return None

    patch.replace(repository, "withdrawal", withdrawal)


# preconditions (UTKO's If-Match)

@mutant("preconditions")
def put_without_if_match_accepted(patch: Patcher) -> None:
    """A PUT without If-Match replaces the object (no 428)."""
    preconditions = _module("utko.preconditions")
    patch.replace(preconditions, "required_if_match",
                  lambda request: preconditions.optional_if_match(request) or preconditions.ANY)


@mutant("preconditions")
def stale_if_match_accepted(patch: Patcher) -> None:
    """A PUT or DELETE naming an old version goes through (no 412)."""
    patch.replace(_module("utko.preconditions"), "matches", lambda tags, version: True)


@mutant("preconditions")
def stale_answer_without_current_etag(patch: Patcher) -> None:
    """A 412 does not say the current version."""
    problems = _module("core.problems")
    patch.replace(_module("utko.handlers"), "_stale",
                  lambda record: problems.Problem(412, "the object has changed since you read it"))


# the declaration life cycle

@mutant("life cycle")
def decision_before_registration(patch: Patcher) -> None:
    """A released declaration's decision is taken at registration, before its number."""
    lifecycle = _module("fts.lifecycle")
    steps = lifecycle.PLANS["release"]
    patch.set_item(lifecycle.PLANS, "release", (steps[0], lifecycle._release(lifecycle.REGISTRATION_DELAY - 1),
                                                *steps[1:]))


@mutant("life cycle")
def registration_number_changes(patch: Patcher) -> None:
    """A declaration's card shows a different registration number on every read (the sequence
    part counts the reads)."""
    cards = _module("fts.cards")
    reads = iter(range(1, 10_000_000))

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def card(record: dict[str, Any], state: Any) -> dict[str, Any]:
            shown: dict[str, Any] = original(record, state)
            if shown["registrationNumber"]:
                shown["registrationNumber"] = f"{shown['registrationNumber'][:-7]}{next(reads):07d}"
            return shown
        return card

    patch.wrap(cards, "card", make)


@mutant("life cycle")
def registration_number_dated_a_day_late(patch: Patcher) -> None:
    """A registration number's date part is the day after registration."""
    numbering = _module("fts.numbering")

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        async def registration_number(store: Any, *, registered_at: float, **where: Any) -> str:
            return str(await original(store, registered_at=registered_at + 86_400, **where))
        return registration_number

    patch.wrap(numbering, "registration_number", make)


@mutant("life cycle")
def withdrawal_after_decision_allowed(patch: Patcher) -> None:
    """A declaration may be withdrawn after its release."""
    patch.replace(_module("fts.lifecycle").Progress, "withdrawable", property(lambda self: True))


@mutant("life cycle")
def unregistered_withdrawal_takes_a_decision(patch: Patcher) -> None:
    """A declaration withdrawn before registration gets decision 81."""
    lifecycle = _module("fts.lifecycle")
    patch.replace(lifecycle, "_WITHDRAWAL_UNREGISTERED", lifecycle.WITHDRAWAL)


# paging

@mutant("paging")
def fts_next_page_repeats_the_cursor(patch: Patcher) -> None:
    """A declarations page read by cursor starts with the last one of the page before."""
    patch.replace(_module("fts.paging").Position, "is_after",
                  lambda self, submitted_us, declaration_id: (submitted_us, declaration_id)
                  <= (self.submitted_us, self.declaration_id))


@mutant("paging")
def fts_last_page_unannounced(patch: Patcher) -> None:
    """A declarations page never says that more follow (no nextCursor)."""
    position = _module("fts.paging").Position
    patch.replace(position, "cursor", property(lambda self: None))


@mutant("paging")
def cursor_read_a_microsecond_early(patch: Patcher) -> None:
    """A cursor is read one microsecond before the item it names: the next page of UTKO's objects
    or FTS's declarations starts in the wrong place."""
    cursors = _module("core.cursors")

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def decode_cursor(value: str, *, parameter: str = "cursor") -> tuple[int, str]:
            micros, item_id = original(value, parameter=parameter)
            return micros - 1, item_id
        return decode_cursor

    patch.wrap(cursors, "decode_cursor", make)


# limits

@mutant("limits")
def document_size_unlimited(patch: Patcher) -> None:
    """FTS takes documents over 5 MiB."""
    documents = _module("fts.documents")
    patch.replace(documents, "MAX_FILE_BYTES", 64 * 1024 * 1024)
    patch.replace(documents, "MAX_FORM_BYTES", 65 * 1024 * 1024)


@mutant("limits")
def declaration_body_unlimited(patch: Patcher) -> None:
    """FTS reads a declaration body of any size (no 413)."""
    patch.replace(_module("fts.handlers"), "MAX_BODY_BYTES", 256 * 1024 * 1024)


# weight controls

@mutant("weight controls")
def reposted_weighings_imported_again(patch: Patcher) -> None:
    """A weight-control file posted again reports its weighings imported, not skipped."""
    repository = _module("utko.weight_repository").WeightControlRepository

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        async def add(self: Any, record: dict[str, Any]) -> bool:
            await original(self, record)
            return True
        return add

    patch.wrap(repository, "add", make)


@mutant("weight controls")
def wrong_access_key_accepted(patch: Patcher) -> None:
    """Any access key opens any object's weight-control import."""
    async def key_opens(store: Any, object_id: str, access_key: str) -> bool:
        return True

    patch.replace(_module("utko.weight_controls").WeightControlApi, "_key_opens", staticmethod(key_opens))


@mutant("weight controls")
def partly_invalid_file_refused(patch: Patcher) -> None:
    """A file with one invalid weighing is answered 422 although the valid ones were imported."""
    problems = _module("core.problems")

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        async def import_file(self: Any, request: Any) -> Any:
            answer = await original(self, request)
            if b'"rejected": [{' in answer.body or b'"rejected":[{' in answer.body:
                raise problems.Problem(422, "some weight controls are invalid",
                                       errors=[{"pointer": "/weightControls", "detail": "invalid"}])
            return answer
        return import_file

    patch.wrap(_module("utko.weight_controls").WeightControlApi, "import_file", make)


# authentication and scopes

@mutant("authentication")
def expired_token_accepted(patch: Patcher) -> None:
    """An access token past its exp is still accepted."""
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        return lambda identity, now, scopes: original(identity, min(now, identity.claims["exp"] - 1), scopes)

    patch.wrap(_module("core.bearer"), "authorize", make)


@mutant("authentication")
def token_not_yet_valid_accepted(patch: Patcher) -> None:
    """An access token before its nbf is already accepted."""
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        return lambda identity, now, scopes: original(identity, max(now, identity.claims.get("nbf", now)), scopes)

    patch.wrap(_module("core.bearer"), "authorize", make)


@mutant("scopes")
def scopes_not_checked(patch: Patcher) -> None:
    """A token without usr_org may file declarations and objects."""
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        return lambda identity, now, scopes: original(identity, now, ())

    patch.wrap(_module("core.bearer"), "authorize", make)


@mutant("authentication")
def foreign_issuer_accepted(patch: Patcher) -> None:
    """A token another ESIA issued is accepted (its iss is not compared)."""
    import jwt

    verifier = _module("esia.oauth.token_verifier").AccessTokenVerifier

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def identity(self: Any, token: str) -> Any:
            try:
                claimed = jwt.decode(token, options={"verify_signature": False}).get("iss")
            except jwt.InvalidTokenError:
                claimed = None
            if isinstance(claimed, str):
                self._issuer = claimed
            return original(self, token)
        return identity

    patch.wrap(verifier, "identity", make)


@mutant("authentication")
def signature_not_verified(patch: Patcher) -> None:
    """An RS256 token is read without verifying its signature."""
    import jwt

    def rsa_claims(self: Any, token: str) -> dict[str, Any]:
        try:
            return dict(jwt.decode(token, options={"verify_signature": False}))
        except jwt.InvalidTokenError as exc:
            raise _module("core.bearer").unauthorized(f"token rejected: {exc}") from None

    patch.replace(_module("esia.oauth.token_verifier").AccessTokenVerifier, "_rsa_claims", rsa_claims)


# access to others' data (one policy decides for FTS and UTKO)

def _policy() -> Any:
    return _module("core.access").AccessPolicy


@mutant("access")
def others_records_open_by_id(patch: Patcher) -> None:
    """Anyone may read, withdraw, upload to, comment on, replace or delete another organisation's
    declaration, appeal or object addressed by its id."""
    patch.replace(_policy(), "may_see", lambda self, identity, party: True)


@mutant("access")
def filing_for_another_organisation_allowed(patch: Patcher) -> None:
    """A person may file a declaration, an appeal or an object for an organisation it does not act for."""
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def require_named(self: Any, identity: Any, party: Any, *, pointer: str, what: str) -> None:
            if not pointer.startswith("/"):
                original(self, identity, party, pointer=pointer, what=what)
        return require_named

    patch.wrap(_policy(), "require_named", make)


@mutant("access")
def others_lists_readable(patch: Patcher) -> None:
    """A person may list another organisation's declarations, appeals or events by its INN."""
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def require_named(self: Any, identity: Any, party: Any, *, pointer: str, what: str) -> None:
            if not pointer.startswith("?"):
                original(self, identity, party, pointer=pointer, what=what)
        return require_named

    patch.wrap(_policy(), "require_named", make)


# the rules the contracts state in prose

def _without_header(name: str, *, methods: tuple[str, ...] = ()) -> Callable[[Callable[..., Any]], Any]:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        async def handler(self: Any, request: Any) -> Any:
            answer = await original(self, request)
            if (not methods or request.method in methods) and name in answer.headers:
                del answer.headers[name]
            return answer
        return handler
    return make


@mutant("prose rules")
def object_read_without_etag(patch: Patcher) -> None:
    """A UTKO object read has no ETag."""
    patch.wrap(_module("utko.handlers").UtkoApi, "object", _without_header("etag", methods=("GET",)))


@mutant("prose rules")
def object_created_without_location(patch: Patcher) -> None:
    """A UTKO object's 201 has no Location."""
    patch.wrap(_module("utko.handlers").UtkoApi, "create", _without_header("location"))


@mutant("prose rules")
def problem_status_says_400(patch: Patcher) -> None:
    """Every problem document says status 400, whatever the answer's status."""
    problem = _module("core.problems").Problem

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def body(self: Any, instance: str) -> dict[str, Any]:
            return {**original(self, instance), "status": 400}
        return body

    patch.wrap(problem, "body", make)


@mutant("prose rules")
def field_pointers_off_the_body(patch: Patcher) -> None:
    """UTKO's field errors point under /object/… instead of into the body sent."""
    findings = _module("utko.validation")._Findings

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        return lambda self, pointer, detail: original(self, "/object" + pointer, detail)

    patch.wrap(findings, "add", make)


# -- running the suite against a mutant -------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    mutant: str
    verdict: Verdict
    seconds: float
    #: The first test that failed (caught) or why the run could not judge (broken).
    evidence: str = ""


@dataclass
class MutantStand:
    """ESIA, UTKO and FTS with one mutant applied, in a process of their own (this file's ``serve``)."""

    mutant: str
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="gosstand-mutant-")))
    #: Hex: a token starting with "-" would read as an option on a command line.
    control_token: str = field(default_factory=lambda: secrets.token_hex(16))

    def __post_init__(self) -> None:
        from gosstand.stand.ports import free_port

        self.urls = {service: f"http://127.0.0.1:{free_port()}" for service in SERVICES}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> MutantStand:
        ports = ",".join(url.rsplit(":", 1)[1] for url in self.urls.values())
        log = (self.directory / "stand.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "serve", "--mutant", self.mutant,
             "--state", str(self.directory), f"--token={self.control_token}", "--ports", ports],  # may start with -
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        waiting = set(SERVICES)
        while waiting:
            if self.process.poll() is not None:
                raise RuntimeError(f"the {self.mutant} stand exited: {self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {self.mutant} stand did not answer within {START_TIMEOUT:g} s")
            for service in sorted(waiting):
                try:
                    if httpx.get(f"{self.urls[service]}/_gosstand/health", timeout=1.0).status_code == 200:
                        waiting.discard(service)
                except httpx.TransportError:
                    pass
            time.sleep(0.1 if waiting else 0)
        return self

    def log_tail(self) -> str:
        path = self.directory / "stand.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> MutantStand:
        return self if self.process is not None else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


#: The whole suite in two runs, the quick tests first: a mutant they catch costs no contract run.
PASSES = ("not contract", "contract")
#: The quick form CI runs: the rules the suite missed before it had them (an expired token, a scope
#: not checked, another organisation's records), judged by the suite's tests of those rules alone.
QUICK_RULES = ("authentication", "scopes", "access")
QUICK_PASSES = ("authentication or access",)


def suite_command(urls: Mapping[str, str], control_token: str, *, examples: int, markers: str | None = None,
                  select: str | None = None) -> list[str]:
    """``gosstand conformance`` against ``urls``, stopping at the first failure."""
    command = [sys.executable, "-m", "gosstand", "conformance", "--gosstand-target", "urls",
               *[part for service, url in urls.items() for part in (f"--{service}-url", url)],
               f"--control-token={control_token}", "--contract-examples", str(examples),
               "-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"]
    return command + (["-m", markers] if markers else []) + (["-k", select] if select else [])


def judge(name: str, *, examples: int = 5, select: str | None = None,
          passes: tuple[str, ...] = PASSES) -> Outcome:
    """Run the suite (or the tests ``select`` picks) against the mocks with mutant ``name``: the
    tests without the ``contract`` marker first, the contract tests only if those all passed."""
    started = time.monotonic()
    stand = MutantStand(name)
    try:
        stand.start()
    except RuntimeError as exc:
        stand.close()
        return Outcome(name, "no stand", time.monotonic() - started, f"the stand did not start: {exc}"[:300])
    with stand:
        for markers in passes if select is None else (None,):
            completed = subprocess.run(
                suite_command(stand.urls, stand.control_token, examples=examples, markers=markers, select=select),
                capture_output=True, text=True, timeout=SUITE_TIMEOUT, cwd=stand.directory,
                env={**os.environ, "CI": "1"},  # derandomized, as in CI: the same examples every run
            )
            if completed.returncode != 0:
                break
    seconds = time.monotonic() - started
    output = completed.stdout + completed.stderr
    if completed.returncode == 1:
        return Outcome(name, "caught", seconds, _first_failure(output))
    if completed.returncode == 0:
        return Outcome(name, "survived", seconds)
    return Outcome(name, "broken", seconds, _last_words(output))


def _first_failure(output: str) -> str:
    found = re.search(r"^(FAILED|ERROR) (\S+)", output, re.MULTILINE)
    return found.group(2).rsplit("::", 1)[-1] if found else "(no FAILED line)"


def _last_words(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"


# -- the stand process ------------------------------------------------------------------------------

def serve(mutant_name: str, state: Path, token: str, ports: list[int]) -> None:
    """ESIA, UTKO and FTS on ``ports``, with ``mutant_name`` applied first, until killed."""
    from gosstand.mocks.core.keys import ensure_signing_keys
    from gosstand.mocks.core.serve import exit_with_parent

    exit_with_parent(os.getppid())
    import_mocks()
    if mutant_name != BASELINE:
        CATALOGUE[mutant_name].apply(Patcher())
    ensure_signing_keys(state / "esia-keys")
    asyncio.run(_serve_all(state, token, dict(zip(SERVICES, ports, strict=True))))


async def _serve_all(state: Path, token: str, ports: Mapping[str, int]) -> None:
    from gosstand.mocks.core.app import create_app
    from gosstand.mocks.core.settings import Settings
    from granian.constants import Interfaces
    from granian.server.embed import Server

    servers = []
    for service, port in ports.items():
        settings = Settings.in_state_dir(service, f"{service}-1", state, control_token=token,
                                         public_url=f"http://127.0.0.1:{port}", hot_path=False)
        servers.append(Server(create_app(settings), address="127.0.0.1", port=port, interface=Interfaces.ASGI,
                              log_enabled=False))
    await asyncio.gather(*(server.serve() for server in servers))


# -- the command line -------------------------------------------------------------------------------

def score(outcomes: list[Outcome]) -> str:
    """The share of mutants the suite failed, the survivors by name, and apart from both those it
    could not judge (exit 2: the gate fails closed, but a harness mistake looks the same, so they
    are not counted as caught) and those whose stand never started."""
    judged = [outcome for outcome in outcomes if outcome.mutant != BASELINE and outcome.verdict != "no stand"]
    caught = sum(outcome.verdict == "caught" for outcome in judged)
    survivors = [outcome.mutant for outcome in judged if outcome.verdict == "survived"]
    lines = [f"Caught {caught} of {len(judged)} mutants ({caught / len(judged):.0%})"
             if judged else "No mutant judged"]
    lines.append("Survivors: " + (", ".join(survivors) if survivors else "none"))
    unjudged = [outcome.mutant for outcome in judged if outcome.verdict == "broken"]
    if unjudged:
        lines.append("The suite could not judge (exit 2): " + ", ".join(unjudged))
    no_stand = [outcome.mutant for outcome in outcomes if outcome.verdict == "no stand"]
    if no_stand:
        lines.append("Not judged (the stand did not start): " + ", ".join(no_stand))
    lines += [f"Pending ({rule}): {why}" for rule, why in PENDING.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command")
    serving = commands.add_parser("serve", help="(internal) the stand process of one mutant")
    serving.add_argument("--mutant", required=True)
    serving.add_argument("--state", type=Path, required=True)
    serving.add_argument("--token", required=True)
    serving.add_argument("--ports", required=True)
    parser.add_argument("--examples", type=int, default=5, help="schemathesis examples per operation (5)")
    parser.add_argument("--only", default="", help="comma-separated mutants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the catalogue and exit")
    parser.add_argument("--quick", action="store_true",
                        help="CI's form: the authentication, scope and access mutants against the suite's "
                             "tests of those rules; a survivor fails the run (exit 1)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.mutant, args.state, args.token, [int(port) for port in args.ports.split(",")])
        return 0
    if args.list:
        for item in CATALOGUE.values():
            print(f"{item.name:40} {item.rule:16} {item.description}")
        return 0
    passes = QUICK_PASSES if args.quick else PASSES
    names = [name for name in args.only.split(",") if name] or [
        item.name for item in CATALOGUE.values() if not args.quick or item.rule in QUICK_RULES]
    unknown = [name for name in names if name not in CATALOGUE]
    if unknown:
        parser.error(f"unknown mutants: {', '.join(unknown)} (see --list)")
    baseline = judge(BASELINE, examples=args.examples, passes=passes)
    print(f"{BASELINE:40} {'':16} {baseline.verdict:9} {baseline.seconds:6.0f} s {baseline.evidence}", flush=True)
    if baseline.verdict != "survived":
        print(f"the suite does not pass on the unbroken mocks ({baseline.verdict}: {baseline.evidence}); "
              "a mutation score would mean nothing", file=sys.stderr)
        return 2
    outcomes = []
    for name in names:
        outcome = judge(name, examples=args.examples, passes=passes)
        outcomes.append(outcome)
        print(f"{name:40} {CATALOGUE[name].rule:16} {outcome.verdict:9} {outcome.seconds:6.0f} s "
              f"{outcome.evidence}", flush=True)
    print(score(outcomes))
    if any(outcome.verdict in ("no stand", "broken") for outcome in outcomes):
        return 2
    return 1 if args.quick and any(outcome.verdict == "survived" for outcome in outcomes) else 0


@contextmanager
def applied(name: str) -> Iterator[Patcher]:
    """``name`` applied in this process (for tests of the catalogue), undone on leaving."""
    import_mocks()
    patcher = Patcher()
    try:
        CATALOGUE[name].apply(patcher)
        yield patcher
    finally:
        patcher.undo()


if __name__ == "__main__":
    sys.exit(main())

