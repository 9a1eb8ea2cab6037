"""The gosstand pytest plugin: target selection and session fixtures for the conformance suite.

Registered through the ``pytest11`` entry point, so it loads in *every* pytest run of the
project: importing it is cheap and it starts nothing until a test asks for ``gosstand_target``
(directly or through another fixture below).

Options (each also read from an environment variable, for CI)::

    --gosstand-target embedded|containers|urls
                                      GOSSTAND_TARGET         (default: embedded, or urls if a URL is given;
                                                              containers: Docker replicas behind HAProxy,
                                                              skipped with the reason when no daemon answers)
    --esia-url / --utko-url / --fts-url   GOSSTAND_ESIA_URL …
    --control-token T                 GOSSTAND_CONTROL_TOKEN  the target exposes /_gosstand/control
    --access-token T                  GOSSTAND_ACCESS_TOKEN   a ready ESIA access token (no control API)
    --account-url URL                 GOSSTAND_ACCOUNT_URLS   a personal account signing in through the
                                                              target's ESIA (repeatable; the stand's FTS
                                                              and UTKO accounts are tested anyway)
    --gosstand-replicas N             GOSSTAND_REPLICAS       replicas per service of the stack (default 2)
    --contract-examples N             GOSSTAND_CONTRACT_EXAMPLES  examples per operation / property (20)
    --gosstand-report DIR                                     write the report grouped by rule (HTML,
                                                              JUnit, results.json) into DIR

Fixtures: ``gosstand_inprocess`` (the mocks inside the test process, reached by any httpx
client at their URLs: :class:`~gosstand.stand.inprocess.InProcessStack`),
``gosstand_options``, ``gosstand_target`` (a :class:`~.targets.Target`),
``gosstand_stack`` (the stack the suite started: embedded or containers), ``gosstand_control`` (a
:class:`~gosstand.scenarios.control.StackControl`), ``esia_session`` and ``esia_access_token``.
A target that cannot give what a test needs makes that test *skip* with the option to set.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..extras import require
from .targets import (
    DEFAULT_CONTRACT_EXAMPLES,
    DEFAULT_REPLICAS,
    ENVIRONMENT,
    TARGET_KINDS,
    TargetOptions,
    TargetUnavailable,
)

if TYPE_CHECKING:
    from gosstand.scenarios.control import StackControl
    from gosstand.stand.inprocess import InProcessStack
    from gosstand.stand.protocol import ReplicatedStack

    from .targets import EsiaSession, Target

SUITE_DIR = Path(__file__).resolve().parent
MARKERS = (
    "conformance: a conformance test of a target (the gosstand suite); selected with -m conformance",
    "contract: a schemathesis contract test of one service's OpenAPI document",
    "identifier_rules: the target's validation of identifiers, judged by the oracle",
    "behaviour: behaviour the contracts state in prose (idempotency, life cycle, round trips)",
    "authentication: RFC 6750 refusals of every protected operation (bad, expired, spoiled tokens, scopes)",
    "access: a person of one organisation sees and changes nothing of another's (declarations, appeals, objects)",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gosstand", "gosstand conformance target")
    group.addoption("--gosstand-target", dest="gosstand_target", choices=TARGET_KINDS, default=None,
                    help="embedded: start the mock stack; containers: start it in Docker (images built "
                         f"or reused); urls: test given URLs [{ENVIRONMENT['target']}]")
    for service in ("esia", "utko", "fts"):
        group.addoption(f"--{service}-url", dest=f"gosstand_{service}_url", default=None, metavar="URL",
                        help=f"base URL of the {service.upper()} target [{ENVIRONMENT[service + '_url']}]")
    group.addoption("--control-token", dest="gosstand_control_token", default=None, metavar="TOKEN",
                    help=f"the target exposes the gosstand control API [{ENVIRONMENT['control_token']}]")
    group.addoption("--account-url", dest="gosstand_account_urls", action="append", default=None, metavar="URL",
                    help="a personal account that signs in through the target's ESIA: its login URL (a "
                         "base URL alone means URL/login); its way to ESIA, callback, page and logout are "
                         "found by following it; repeatable [GOSSTAND_ACCOUNT_URLS, comma-separated]")
    group.addoption("--access-token", dest="gosstand_access_token", default=None, metavar="TOKEN",
                    help="an ESIA access token for targets without the control API "
                         f"[{ENVIRONMENT['access_token']}]")
    group.addoption("--gosstand-replicas", dest="gosstand_replicas", type=int, default=None, metavar="N",
                    help=f"embedded/containers: replicas per service (default {DEFAULT_REPLICAS}) "
                         f"[{ENVIRONMENT['replicas']}]")
    group.addoption("--contract-examples", dest="gosstand_contract_examples", type=int, default=None,
                    metavar="N",
                    help=f"examples per operation and per property (default {DEFAULT_CONTRACT_EXAMPLES}) "
                         f"[{ENVIRONMENT['contract_examples']}]")


    group.addoption("--gosstand-report", dest="gosstand_report", default=None, metavar="DIR",
                    help="write the conformance report grouped by rule into DIR: conformance.html, junit.xml "
                         "and the results.json they are computed from")


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    report_dir = config.getoption("gosstand_report", default=None)
    if report_dir:
        from .ledger import Ledger, LedgerPlugin
        from .rule_report import write_report_of

        def write(ledger: Ledger) -> None:
            files = write_report_of(ledger, Path(report_dir))
            print(f"\nConformance report: {files.html} (JUnit by rule: {files.junit})", flush=True)

        config.pluginmanager.register(LedgerPlugin(write), "gosstand-ledger")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> None:
    """The suite's modules need gosstand's ``[conformance]`` extra; without it their collection
    fails saying so, instead of with a bare import error. (This plugin itself loads in any pytest
    run of a project that installed gosstand, and needs nothing beyond pytest.)"""
    if file_path.name.startswith("test_") and file_path.suffix == ".py" and file_path.parent == SUITE_DIR:
        require("the conformance suite", "conformance")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test collected from the suite's directory carries the ``conformance`` marker."""
    for item in items:
        path = getattr(item, "path", None)
        if path is not None and SUITE_DIR in Path(path).resolve().parents:
            item.add_marker(pytest.mark.conformance)


def options_from(config: pytest.Config) -> TargetOptions:
    values: dict[str, Any] = {
        name: config.getoption(f"gosstand_{name}", default=None) for name in ENVIRONMENT
    }
    try:
        return TargetOptions.from_values(values)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.fixture
def gosstand_inprocess() -> Iterator[InProcessStack]:
    """ESIA, UTKO and FTS inside this test: httpx requests to ``stack.urls`` reach them, requests
    anywhere else fail; fresh state for every test."""
    from gosstand.stand.inprocess import InProcessStack

    with InProcessStack() as stack:
        yield stack


@pytest.fixture(scope="session")
def gosstand_options(pytestconfig: pytest.Config) -> TargetOptions:
    return options_from(pytestconfig)


@pytest.fixture(scope="session")
def gosstand_target(gosstand_options: TargetOptions) -> Iterator[Target]:
    """The system under test, opened once per session on first use (embedded or containers: the
    stack starts here, and stops when the session ends). Without a Docker daemon a containers
    target skips every test that needs it, with the reason."""
    from .targets import close_target, open_target

    try:
        target = open_target(gosstand_options)
    except TargetUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield target
    finally:
        close_target(target)


@pytest.fixture(scope="session")
def gosstand_stack(gosstand_target: Target) -> ReplicatedStack:
    """The stack the suite started (replica kills, restarts); skips for a ``urls`` target."""
    if gosstand_target.stack is None:
        pytest.skip("needs a stack the suite starts (--gosstand-target embedded or containers)")
    return gosstand_target.stack


@pytest.fixture(scope="session")
def gosstand_control(gosstand_target: Target) -> StackControl:
    """The control API of the target; skips when it has none."""
    try:
        return gosstand_target.control()
    except TargetUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def esia_session(gosstand_target: Target) -> EsiaSession:
    """A person logged in through ESIA (or the given ``--access-token``); skips if neither. One
    login per test module: an access token lasts an hour on the services' clocks, and a module
    that moves a service's clock (a session's idle limit, a life cycle) must not leave the next
    one an expired token."""
    from .targets import log_in

    try:
        return log_in(gosstand_target)
    except TargetUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def esia_access_token(esia_session: EsiaSession) -> str:
    """A real ESIA access token with ``openid`` and ``usr_org`` (UTKO and FTS writes)."""
    return esia_session.access_token
