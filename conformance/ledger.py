"""What a conformance run found, rule by rule: the results a conformance report is computed from.

Two kinds of rule are tallied while the suite runs:

- **checks** — every check schemathesis ran on a contract answer (its own and the prose rules of
  :mod:`.checks`), through its ``after_validate`` hook: per rule and operation, how many answers
  it judged, how many broke it, and the first that did, with the request as a curl command;
- **tests** — every hand-written test of the suite (behaviour, identifier rules, chained calls):
  per test function and parametrisation, passed, failed or skipped, and for the first failure its
  message and the last HTTP request the test sent before it failed, as a curl command. The chained
  calls run in schemathesis' command line, another process: they count as their test, and the
  curl command is the first one its output prints.

Only tallies and the first failure are kept (memory stays bounded whatever the number of
examples). :meth:`Ledger.write` saves them as ``results.json``, which :mod:`.rule_figures` reads;
nothing downstream reads the run itself. Credentials in a curl command are masked.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Generator, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal
from unittest import mock

import httpx
import pytest
import schemathesis

__all__ = ["RESULTS_NAME", "FirstFailure", "Ledger", "LedgerPlugin", "Tally", "curl_command", "load_results"]

RESULTS_NAME = "results.json"
RuleKind = Literal["check", "test"]
#: Headers whose values a report must not show.
SECRET_HEADERS = frozenset({"authorization", "cookie", "x-access-key", "proxy-authorization"})
#: A request body longer than this is left out of the curl command (its size is said instead).
MAX_CURL_BODY = 4000
MAX_MESSAGE = 4000


@dataclass
class FirstFailure:
    message: str
    curl: str | None


@dataclass
class Tally:
    """One rule's record for one scope (an operation, or a test's parametrisation)."""

    kind: RuleKind
    rule: str
    scope: str
    description: str = ""
    cases: int = 0
    failed: int = 0
    skipped: int = 0
    first_failure: FirstFailure | None = None


@dataclass
class Ledger:
    tallies: dict[tuple[RuleKind, str, str], Tally] = field(default_factory=dict)
    #: Rules the run was meant to apply, by name, with their descriptions: a rule that judged
    #: nothing still appears in the report (as not exercised) instead of vanishing.
    expected: dict[str, str] = field(default_factory=dict)

    def expect(self, rule: str, description: str) -> None:
        self.expected[rule] = description

    def record(self, *, kind: RuleKind, rule: str, scope: str, outcome: Literal["passed", "failed", "skipped"],
               description: str = "", message: str | None = None, curl: str | None = None) -> None:
        tally = self.tallies.setdefault((kind, rule, scope), Tally(kind=kind, rule=rule, scope=scope,
                                                                   description=description))
        tally.cases += 1
        if outcome == "skipped":
            tally.skipped += 1
        elif outcome == "failed":
            tally.failed += 1
            if tally.first_failure is None:
                tally.first_failure = FirstFailure(message=(message or "")[:MAX_MESSAGE], curl=curl)

    def as_json(self) -> dict[str, Any]:
        judged = {tally.rule for tally in self.tallies.values()}
        unjudged = [Tally(kind="check", rule=rule, scope="", description=description)
                    for rule, description in self.expected.items() if rule not in judged]
        return {"rules": [asdict(tally) for tally in [*self.tallies.values(), *unjudged]]}

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / RESULTS_NAME
        path.write_text(json.dumps(self.as_json(), ensure_ascii=False, indent=1), encoding="utf-8")
        return path


def load_results(path: Path) -> list[Tally]:
    """The tallies a run wrote (``results.json``)."""
    rules = json.loads(path.read_text(encoding="utf-8"))["rules"]
    return [Tally(**{**entry, "first_failure": FirstFailure(**entry["first_failure"])
                     if entry.get("first_failure") else None}) for entry in rules]


# -- checks: schemathesis' after_validate hook --------------------------------------------------

#: The ledger the hook writes to; ``None`` outside a reported run (the hook then does nothing).
_active: Ledger | None = None
_hook_registered = False


def after_validate(context: schemathesis.HookContext, case: schemathesis.Case, response: schemathesis.Response,
                    results: list[schemathesis.CheckResult]) -> None:
    ledger = _active
    if ledger is None:
        return
    for result in results:
        failed = result.failure is not None
        ledger.record(
            kind="check", rule=result.name, scope=case.operation.label,
            outcome="failed" if failed else "passed",
            description=_first_line(_check_docs().get(result.name)),
            message=str(result.failure) if failed else None,
            curl=_check_curl(case, response) if failed else None,
        )


def _check_curl(case: schemathesis.Case, response: schemathesis.Response) -> str:
    """The answered request as schemathesis reproduces it (credentials filtered by its sanitizer)."""
    return case.as_curl_command(headers=dict(response.request.headers), verify=response.verify)


def _check_docs() -> dict[str, str | None]:
    from .checks import PROSE_CHECKS

    return {check.__name__: check.__doc__ for check in PROSE_CHECKS}


def _register_hook() -> None:
    global _hook_registered
    if not _hook_registered:
        schemathesis.hook(after_validate)  # a global hook, named by its function
        _hook_registered = True


# -- tests: the pytest plugin ----------------------------------------------------------------------

class LedgerPlugin:
    """Tallies a suite run and, when it ends, hands the ledger to ``finish`` (writing the report)."""

    def __init__(self, finish: Callable[[Ledger], None]) -> None:
        self.ledger = Ledger()
        self.finish = finish
        self._last_request: dict[str, httpx.Request] = {}

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        global _active
        _register_hook()
        for rule, doc in _check_docs().items():
            self.ledger.expect(rule, _first_line(doc))
        _active = self.ledger

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        """Remember the last request the test sends through httpx (the suite's journeys do)."""
        original = httpx.Client.send

        def send(client: httpx.Client, request: httpx.Request, **options: Any) -> httpx.Response:
            self._last_request[item.nodeid] = request
            return original(client, request, **options)

        with mock.patch.object(httpx.Client, "send", send):  # the original again after the test
            return (yield)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """One case per test: its call, or the setup that skipped or failed it, or a failed teardown."""
        if report.when != "call" and report.passed:
            return
        rule, _, scope = report.nodeid.rpartition("::")[2].partition("[")
        outcome: Literal["passed", "failed", "skipped"] = (
            "failed" if report.failed else "skipped" if report.skipped else "passed")
        message = _failure_text(report) if report.failed else None
        request = self._last_request.pop(report.nodeid, None) if report.when != "setup" else None
        curl = curl_command(request) if request is not None else _curl_in(message)
        self.ledger.record(kind="test", rule=rule, scope=scope.rstrip("]"), outcome=outcome,
                           description=_first_line(getattr(report, "gosstand_doc", None)), message=message, curl=curl)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
        outcome = yield
        report = outcome.get_result()
        function = getattr(item, "function", None)
        report.gosstand_doc = getattr(function, "__doc__", None)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        global _active
        _active = None
        self.finish(self.ledger)


def _failure_text(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = report.longreprtext
    headline = getattr(crash, "message", None)
    return f"{headline}\n\n{text[-MAX_MESSAGE:]}" if headline else text[-MAX_MESSAGE:]


def _curl_in(message: str | None) -> str | None:
    """The first curl command a failure's text holds (schemathesis' command line prints one)."""
    for line in (message or "").splitlines():
        if line.strip().startswith("curl "):
            return line.strip()
    return None


def _first_line(doc: str | None) -> str:
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def curl_command(request: httpx.Request) -> str:
    """``request`` as a curl command, with credentials masked and a long body left out."""
    parts = ["curl", "-X", request.method]
    for name, value in _headers(request.headers.items()):
        parts += ["-H", f"{name}: {value}"]
    body = request.content if not isinstance(request.stream, httpx.AsyncByteStream) else b""
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and len(text) <= MAX_CURL_BODY:
            parts += ["--data-binary", text]
        else:
            parts += ["--data-binary", f"@body-of-{len(body)}-bytes-not-shown"]
    parts.append(str(request.url))
    return shlex.join(parts)


def _headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    skipped = {"content-length", "host", "accept-encoding", "connection", "user-agent", "accept"}
    return [(name, "[Filtered]" if name.lower() in SECRET_HEADERS else value)
            for name, value in headers if name.lower() not in skipped]
