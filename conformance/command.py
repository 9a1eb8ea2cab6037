"""``gosstand conformance``: the suite as a CI gate, with the exit codes a pipeline relies on.

Plain pytest answers 0 when every test *skipped* — against a target that does not answer, the
suite would skip its way to a green build. Run through this command the suite fails closed:

- 0 — tests ran and every one passed;
- 1 — a conformance test failed (the target breaks a rule);
- 2 — the suite could not judge the target: a URL that gives no HTTP answer or a container target
  without Docker (found before any test runs), no test selected, every selected test skipped,
  a usage error or an internal error. One line on stderr says which.

Everything after ``conformance`` goes to pytest, so ``-k``, ``--junitxml`` and the suite's own
options (``--esia-url`` …, see :mod:`.plugin`) work as usual. ``--report DIR`` (the plugin's
``--gosstand-report``) writes the report grouped by rule: ``DIR/conformance.html``,
``DIR/junit.xml`` and the ``results.json`` they are computed from.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

import pytest

from .plugin import options_from

__all__ = ["EXIT_BROKEN", "run"]

EXIT_PASSED, EXIT_FAILED, EXIT_BROKEN = 0, 1, 2


class _Gate:
    """A pytest plugin: checks the target before the tests, counts what ran."""

    def __init__(self) -> None:
        self.passed = self.failed = self.skipped = 0
        self.first_skip: str | None = None
        self.reason: str | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        try:
            options = options_from(session.config)
        except pytest.UsageError as exc:
            self._stop(str(exc))
            return
        if options.kind == "containers":
            from gosstand.stand.containers import docker_unavailable_reason

            unavailable = docker_unavailable_reason()
            if unavailable:
                self._stop(f"--gosstand-target containers: {unavailable}")
        elif options.kind == "urls":
            silent = _unanswered(options.urls)
            if silent:
                self._stop("; ".join(silent))

    def _stop(self, reason: str) -> None:
        self.reason = reason
        pytest.exit(reason, returncode=EXIT_BROKEN)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failed += 1
        elif report.skipped:
            self.skipped += 1
            if self.first_skip is None and isinstance(report.longrepr, tuple):
                self.first_skip = str(report.longrepr[2])
        elif report.when == "call":
            self.passed += 1


def _unanswered(urls: Mapping[str, str]) -> list[str]:
    import httpx

    silent = []
    for service, url in urls.items():
        try:
            httpx.get(url, timeout=5.0)
        except httpx.HTTPError as exc:
            silent.append(f"{service} at {url} does not answer ({type(exc).__name__})")
    return silent


def run(arguments: Sequence[str]) -> int:
    gate = _Gate()
    code = int(pytest.main(["--pyargs", "gosstand.conformance", "-p", "no:cacheprovider",
                            *_report_option(arguments)], plugins=[gate]))
    if gate.reason is not None:
        return _broken(gate.reason)
    if code == pytest.ExitCode.OK and gate.passed == 0:
        return _broken(f"no conformance test ran: {gate.skipped} skipped"
                       + (f" (the first: {gate.first_skip})" if gate.first_skip else ""))
    if code == pytest.ExitCode.TESTS_FAILED:
        return EXIT_FAILED
    if code == pytest.ExitCode.OK:
        return EXIT_PASSED
    return _broken(_REASONS.get(code, f"pytest ended with exit code {code}"))


def _report_option(arguments: Sequence[str]) -> list[str]:
    """``--report DIR`` / ``--report=DIR`` as the plugin's ``--gosstand-report``; the rest as given."""
    translated: list[str] = []
    for argument in arguments:
        if argument == "--report":
            translated.append("--gosstand-report")
        elif argument.startswith("--report="):
            translated.append("--gosstand-report=" + argument.removeprefix("--report="))
        else:
            translated.append(argument)
    return translated


_REASONS: dict[int, str] = {
    pytest.ExitCode.NO_TESTS_COLLECTED: "no conformance test was selected (check -k / -m)",
    pytest.ExitCode.USAGE_ERROR: "pytest refused the options (see above)",
    pytest.ExitCode.INTERRUPTED: "the run was interrupted",
    pytest.ExitCode.INTERNAL_ERROR: "pytest failed internally (see above)",
}


def _broken(reason: str) -> int:
    print(f"gosstand conformance: {reason}", file=sys.stderr)
    return EXIT_BROKEN
