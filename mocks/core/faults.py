"""Faults are data: rules, set through the control API, that make a mock misbehave on purpose.

A rule scopes itself to requests (methods, a path glob, one replica or all) and does one thing to
them:

- ``latency`` — answer ``delay_ms`` (± ``jitter_ms``) later;
- ``error`` — answer ``status`` (a 4xx or 5xx) at once, with ``Retry-After`` when asked; a 503
  for the rule's whole ``ttl`` is an outage window;
- ``quota`` — allow ``limit`` requests per ``window`` seconds of the stand's clock, across all
  replicas, and answer 429 with the seconds left in the window as ``Retry-After``; one quota for
  everyone the rule matches, or (``per``) one for each bearer token or each client address;
- ``drop`` — close the connection part-way through the answer (the headers and one byte of a
  longer body), as a crashing upstream or a cut network does. With ``phase: after`` the app
  handles the request first and only its answer is lost: a submission is stored, the client
  never hears of it, and its retry shows whether its idempotency key saves it from filing twice.

``probability`` makes a rule hit only some requests, decided from ``seed`` and the request's
number among those the rule matched (counted across replicas): a run with the same rules and the
same request order fails the same requests. ``times`` caps how many requests a rule hits in all
("the next three submissions fail"), ``ttl`` ends it after that many seconds of the stand's clock.

Rules live in the shared store, so one control call reaches every replica. A replica trusts the
rules it read for the clock's cache period (reading the store on every request would slow the
cheap reads, see :mod:`.clock`); the control API answers only after that long, so when a test
has its answer every replica applies the change. The reserved ``/_gosstand`` paths are never
faulted: the control API must stay reachable to end a fault. Every faulted answer carries
``x-gosstand-fault: <rule id>``, so a report can tell an injected failure from a real one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from email.utils import formatdate
from fnmatch import fnmatchcase
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .clock import Clock
from .middleware import REPLICA_HEADER, RESERVED_PREFIX
from .problems import Problem, problem_response
from .refreshed import CACHE_SECONDS, Refreshed
from .store import Store

__all__ = ["FAULT_HEADER", "FaultBook", "FaultRule", "Faults", "parse_rule"]

FAULT_HEADER = "x-gosstand-fault"
KINDS = ("latency", "error", "quota", "drop")
#: Who shares a quota: everyone the rule matches, each bearer token, or each client address.
QUOTA_SCOPES = ("rule", "token", "address")
_RULES = "faults:rules"  # the index of rule ids, by number
_SEQ = "faults:seq"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: Counters outlive any sensible rule; the TTL is garbage collection, measured on the wall clock.
_COUNTER_TTL = 7 * 24 * 3600.0


@dataclass(frozen=True, kw_only=True)
class FaultRule:
    id: str
    kind: str
    path: str = "*"
    methods: tuple[str, ...] = ()
    replica: str | None = None
    probability: float = 1.0
    seed: int = 0
    times: int | None = None
    expires: float | None = None
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    status: int = 503
    retry_after: float | None = None
    retry_after_form: str = "seconds"
    limit: int = 0
    window: float = 1.0
    per: str = "rule"
    phase: str = "before"

    def matches(self, method: str, path: str, replica: str) -> bool:
        return (
            (not self.methods or method in self.methods)
            and (self.replica is None or self.replica == replica)
            and fnmatchcase(path, self.path)
        )

    def public(self) -> dict[str, Any]:
        """The rule as the control API shows it: only what applies to its kind."""
        shown = {"id": self.id, "kind": self.kind, "path": self.path, "methods": list(self.methods),
                 "replica": self.replica, "probability": self.probability, "seed": self.seed,
                 "times": self.times, "expires": self.expires}
        extra = {
            "latency": ("delay_ms", "jitter_ms"),
            "error": ("status", "retry_after", "retry_after_form"),
            "quota": ("limit", "window", "per", "retry_after_form"),
            "drop": ("phase",),
        }[self.kind]
        return shown | {name: getattr(self, name) for name in extra}


def chance(seed: int, number: int) -> float:
    """A number in [0, 1) fixed by the seed and the request's number: the n-th matching request
    is hit or spared the same way in every run and on every replica."""
    digest = hashlib.blake2b(f"{seed}:{number}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


# -- reading a rule from the control API ---------------------------------------------------------

class _Fields:
    """Reads typed fields from a JSON object, collecting every error with its JSON pointer."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        self.body = body
        self.errors: list[dict[str, str]] = []

    def fail(self, name: str, detail: str) -> None:
        self.errors.append({"pointer": f"/{name}", "detail": detail})

    def require(self, name: str, value: Any, detail: str) -> None:
        """``value`` (already read) is missing or null: say so, unless its reading already did."""
        if value is None and not any(error["pointer"] == f"/{name}" for error in self.errors):
            self.fail(name, detail)

    def number(self, name: str, default: float | None, *, low: float, high: float = math.inf,
               integer: bool = False, low_open: bool = False) -> Any:
        value = self.body.get(name, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
            self.fail(name, "an integer" if integer else "a number")
            return default
        if not math.isfinite(value) or value < low or (low_open and value == low) or value > high:
            bound = f"> {low:g}" if low_open else f"≥ {low:g}"
            self.fail(name, f"must be {bound}" + (f" and ≤ {high:g}" if high != math.inf else ""))
            return default
        return value

    def text(self, name: str, default: str | None, *, choices: tuple[str, ...] | None = None) -> Any:
        value = self.body.get(name, default)
        if value is None:
            return None
        if not isinstance(value, str) or not value or len(value) > 512:
            self.fail(name, "a non-empty string of at most 512 characters")
            return default
        if choices is not None and value not in choices:
            self.fail(name, f"one of {', '.join(choices)}")
            return default
        return value


def parse_rule(body: Any, *, rule_id: str, now: float) -> FaultRule:
    """A rule from a control API body, or a 422 problem listing every field that is wrong."""
    if not isinstance(body, dict):
        raise Problem(422, "a fault rule is a JSON object such as {\"kind\": \"error\", \"status\": 503}")
    fields = _Fields(body)
    known = {"kind", "path", "methods", "replica", "probability", "seed", "times", "ttl", "delay_ms",
             "jitter_ms", "status", "retry_after", "retry_after_form", "limit", "window", "per", "phase"}
    for name in sorted(set(body) - known):
        fields.fail(name, "not a field of a fault rule")
    kind = fields.text("kind", None, choices=KINDS)
    fields.require("kind", kind, f"required: one of {', '.join(KINDS)}")
    methods = body.get("methods", [])
    if not isinstance(methods, list) or any(not isinstance(m, str) or m.upper() not in _METHODS for m in methods):
        fields.fail("methods", f"a list of HTTP methods ({', '.join(sorted(_METHODS))})")
        methods = []
    path = fields.text("path", "*")
    if isinstance(path, str) and not path.startswith(("/", "*")):
        fields.fail("path", "a path glob starting with / or *")
    ttl = fields.number("ttl", None, low=0, low_open=True)
    values: dict[str, Any] = {
        "path": path,
        "methods": tuple(dict.fromkeys(m.upper() for m in methods)),
        "replica": fields.text("replica", None),
        "probability": fields.number("probability", 1.0, low=0, high=1),
        "seed": fields.number("seed", 0, low=-(2**63), high=2**63, integer=True),
        "times": fields.number("times", None, low=1, integer=True),
        "expires": None if ttl is None else now + ttl,
        "retry_after_form": fields.text("retry_after_form", "seconds", choices=("seconds", "http-date")),
    }
    if kind == "latency":
        values["delay_ms"] = fields.number("delay_ms", None, low=0, high=60_000)
        values["jitter_ms"] = fields.number("jitter_ms", 0.0, low=0, high=60_000)
        fields.require("delay_ms", values["delay_ms"], "required for a latency rule")
    elif kind == "error":
        values["status"] = fields.number("status", 503, low=400, high=599, integer=True)
        values["retry_after"] = fields.number("retry_after", None, low=0, high=86_400)
    elif kind == "quota":
        values["limit"] = fields.number("limit", None, low=0, integer=True)
        values["window"] = fields.number("window", 1.0, low=0, high=86_400, low_open=True)
        fields.require("limit", values["limit"], "required for a quota rule")
        values["per"] = fields.text("per", "rule", choices=QUOTA_SCOPES)
    elif kind == "drop":
        values["phase"] = fields.text("phase", "before", choices=("before", "after"))
    misplaced = {
        "latency": ("status", "retry_after", "limit", "window", "per", "phase"),
        "error": ("delay_ms", "jitter_ms", "limit", "window", "per", "phase"),
        "quota": ("delay_ms", "jitter_ms", "status", "retry_after", "phase"),
        "drop": ("delay_ms", "jitter_ms", "status", "retry_after", "limit", "window", "per"),
    }.get(kind or "", ())
    for name in misplaced:
        if name in body:
            fields.fail(name, f"does not apply to a {kind} rule")
    if fields.errors:
        raise Problem(422, "the fault rule is not valid", errors=fields.errors)
    return FaultRule(id=rule_id, kind=kind, **{k: v for k, v in values.items() if v is not None})


# -- the rules in the shared store ---------------------------------------------------------------

class FaultBook:
    """The rules every replica of a service shares, and their hit counters.

    Each rule is a key of its own (``faults:rule:{id}``), listed in an index by its number, so
    two rules set at once through different replicas are both kept."""

    def __init__(self, store: Store, clock: Clock, *, cache_seconds: float = CACHE_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.clock = clock
        self.cache_seconds = cache_seconds
        self._raws: tuple[str, ...] = ()
        self._parsed: tuple[FaultRule, ...] = ()
        self._cached = Refreshed(self._read, seconds=cache_seconds, monotonic=monotonic)

    async def _read(self) -> tuple[FaultRule, ...]:
        ids = await self.store.index_range(_RULES)
        raws = tuple(raw for raw in await self.store.get_many([_rule_key(i) for i in ids]) if raw) if ids else ()
        if raws != self._raws:  # parsed again only when a rule changed
            self._raws = raws
            self._parsed = tuple(FaultRule(**{**item, "methods": tuple(item["methods"])})
                                 for item in map(json.loads, raws))
        return self._parsed

    async def rules(self) -> tuple[FaultRule, ...]:
        """The rules in the order they were set, as read at most :attr:`cache_seconds` ago."""
        return await self._cached.get()

    async def _fresh(self) -> tuple[FaultRule, ...]:
        self._cached.forget()
        return await self.rules()

    async def add(self, body: Any) -> FaultRule:
        rule = parse_rule(body, rule_id="", now=await self.clock.now())  # a 422 spends no id
        number = await self.store.incr(_SEQ)
        rule = replace(rule, id=f"f-{number}")
        await self.store.set(_rule_key(rule.id), json.dumps(asdict(rule)))
        await self.store.index_add(_RULES, rule.id, number)
        self._cached.forget()
        return rule

    async def remove(self, rule_id: str) -> bool:
        if await self.store.delete(_rule_key(rule_id)) == 0:
            return False
        await self.store.index_remove(_RULES, rule_id)
        await self.store.delete(*(_counter(rule_id, name) for name in ("matched", "hit")))
        self._cached.forget()
        return True

    async def clear(self) -> None:
        for rule_id in await self.store.index_range(_RULES):
            await self.remove(rule_id)

    async def describe(self) -> list[dict[str, Any]]:
        """Every rule with how many requests it matched and hit, and whether it still applies."""
        rules = await self._fresh()
        now = await self.clock.now()
        counts = await self.store.get_many([_counter(r.id, n) for r in rules for n in ("matched", "hit")])
        described = []
        for index, rule in enumerate(rules):
            matched, hit = (int(c or 0) for c in counts[2 * index:2 * index + 2])
            if rule.times is not None:
                hit = min(hit, rule.times)  # the counter also counts the requests it turned away
            spent = rule.times is not None and hit >= rule.times
            expired = rule.expires is not None and now >= rule.expires
            described.append(rule.public() | {"matched": matched, "hit": hit, "active": not (spent or expired)})
        return described

    async def count(self, rule: FaultRule, name: str) -> int:
        return await self.store.incr(_counter(rule.id, name), ttl=_COUNTER_TTL)

    async def quota_used(self, rule: FaultRule, window_index: int, caller: str) -> int:
        key = f"faults:quota:{rule.id}:{window_index}:{caller}"
        return await self.store.incr(key, ttl=max(2 * rule.window, 60.0))


def _rule_key(rule_id: str) -> str:
    return f"faults:rule:{rule_id}"


def _counter(rule_id: str, name: str) -> str:
    return f"faults:{name}:{rule_id}"


# -- applying them: ASGI middleware ----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Verdict:
    rule: FaultRule
    delay: float = 0.0
    status: int | None = None
    retry_after: float | None = None


class Faults:
    """ASGI middleware: applies the book's rules to every request outside ``/_gosstand``.

    With no rule set it costs one cached read per request. Rules apply in the order they were
    added: every latency rule that hits adds its delay, and the first error, quota or drop rule
    that hits answers the request (after the delays) without the app seeing it.
    """

    def __init__(self, app: ASGIApp, *, book: FaultBook, replica: str,
                 sleep: Callable[[float], Any] = asyncio.sleep,
                 on_hit: Callable[[FaultRule], None] = lambda rule: None) -> None:
        self.app = app
        self.book = book
        self.replica = replica
        self.sleep = sleep
        #: Told of each rule that hits a request (the metrics count them).
        self.on_hit = on_hit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(RESERVED_PREFIX):
            await self.app(scope, receive, send)
            return
        rules = await self.book.rules()
        if not rules:
            await self.app(scope, receive, send)
            return
        verdicts = await self._judge(rules, scope)
        for verdict in verdicts:
            self.on_hit(verdict.rule)
        delay = sum(v.delay for v in verdicts)
        if delay:
            await self.sleep(delay)
        answer = next((v for v in verdicts if v.rule.kind != "latency"), None)
        if answer is None:
            hit = ",".join(v.rule.id for v in verdicts)
            await self.app(scope, receive, _with_headers(send, [(FAULT_HEADER, hit)]) if hit else send)
            return
        if answer.rule.kind == "drop" and answer.rule.phase == "after":
            handled = await _handled(self.app, scope, receive)  # its headers name the replica already
            await _drop(_with_headers(send, [(FAULT_HEADER, answer.rule.id)]), handled)
            return
        # The app never sees this request, so the replica header is added here.
        tagged = _with_headers(send, [(FAULT_HEADER, answer.rule.id), (REPLICA_HEADER, self.replica)])
        if answer.rule.kind == "drop":
            await _drop(tagged, None)
        else:
            await self._refuse(answer, scope, receive, tagged)

    async def _judge(self, rules: tuple[FaultRule, ...], scope: Scope) -> list[_Verdict]:
        method, path = scope["method"], scope["path"]
        now: float | None = None
        verdicts: list[_Verdict] = []
        for rule in rules:
            if not rule.matches(method, path, self.replica):
                continue
            now = await self.book.clock.now() if now is None else now
            if rule.expires is not None and now >= rule.expires:
                continue
            if any(v.rule.kind != "latency" for v in verdicts) and rule.kind != "latency":
                continue  # an answer is already decided; later answering rules are not consulted
            number = await self.book.count(rule, "matched")
            if rule.probability < 1 and chance(rule.seed, number) >= rule.probability:
                continue
            verdict = await self._verdict(rule, number, now, scope)
            if verdict is None:
                continue
            if rule.times is not None and await self.book.count(rule, "hit") > rule.times:
                continue
            if rule.times is None:
                await self.book.count(rule, "hit")
            verdicts.append(verdict)
        return verdicts

    async def _verdict(self, rule: FaultRule, number: int, now: float, scope: Scope) -> _Verdict | None:
        if rule.kind == "latency":
            spread = (2 * chance(rule.seed + 1, number) - 1) * rule.jitter_ms
            return _Verdict(rule, delay=max(0.0, rule.delay_ms + spread) / 1000)
        if rule.kind == "quota":
            window_index = math.floor(now / rule.window)
            if await self.book.quota_used(rule, window_index, _caller(rule.per, scope)) <= rule.limit:
                return None
            left = (window_index + 1) * rule.window - now
            return _Verdict(rule, status=429, retry_after=left)
        if rule.kind == "error":
            retry_after = rule.retry_after
            if retry_after is None and rule.status == 503 and rule.expires is not None:
                retry_after = rule.expires - now  # an outage window says when it ends
            return _Verdict(rule, status=rule.status, retry_after=retry_after)
        return _Verdict(rule)

    async def _refuse(self, verdict: _Verdict, scope: Scope, receive: Receive, send: Send) -> None:
        assert verdict.status is not None
        headers = {}
        if verdict.retry_after is not None:
            seconds = max(1, math.ceil(verdict.retry_after))
            if verdict.rule.retry_after_form == "http-date":
                headers["Retry-After"] = formatdate(await self.book.clock.now() + seconds, usegmt=True)
            else:
                headers["Retry-After"] = str(seconds)
        problem = Problem(verdict.status, f"injected by fault rule {verdict.rule.id} ({verdict.rule.kind})",
                          headers=headers, fault=verdict.rule.id)
        await problem_response(problem, scope["path"])(scope, receive, send)


def _caller(per: str, scope: Scope) -> str:
    """Whose quota a request counts against: the rule's one, its bearer token's, its address's.
    A token is known by a digest of it; a request without one shares the quota of the tokenless."""
    if per == "token":
        for name, value in scope["headers"]:
            if name == b"authorization":
                return hashlib.blake2b(value, digest_size=12).hexdigest()
        return "no-token"
    if per == "address":
        client = scope.get("client")
        return client[0] if client else "unknown"
    return "all"


async def _handled(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[int, list[Any], bytes]:
    """Let the app handle the request and keep its answer: status, headers and body."""
    start: dict[str, Any] = {}
    body: list[bytes] = []

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    await app(scope, receive, keep)
    return start.get("status", 500), list(start.get("headers", ())), b"".join(body)


def _with_headers(send: Send, headers: list[tuple[str, str]]) -> Send:
    extra = [(name.encode(), value.encode()) for name, value in headers]

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *extra]
        await send(message)

    return send_with_headers


async def _drop(send: Send, handled: tuple[int, list[Any], bytes] | None) -> None:
    """Headers, then less of the body than they promise, then nothing: the server closes the
    connection and the client reads a truncated answer. After the app handled the request these
    are its own status and headers, cut off in the body. (An ASGI app cannot close a connection
    before its headers without the server answering 500 instead.)"""
    status, headers, body = handled or (200, [(b"content-type", b"application/json")], b"{}")
    headers = [(name, value) for name, value in headers if name.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body) + 64).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body[:1], "more_body": True})
