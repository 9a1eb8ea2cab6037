"""Build the report of a recorded run: the one entry point the CLI and the load run call.

    result = build_report(run_dir)             # default SLO: reports/slo.yaml
    sys.exit(verdict_exit_code(result))        # 0 pass, 1 SLO breach, 2 the run is broken

writes ``report.html``, ``summary.json`` and ``junit.xml`` into ``output_dir`` (default: the run
directory itself). The SLO file is ``slo_path``, else the one ``run.json`` names under ``"slo"``
(relative to the run directory), else the packaged ``reports/slo.yaml``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .evaluate import Analysis, ObjectiveResult, evaluate
from .generator import GeneratorFigures, busy_users
from .integrity import broken_reasons
from .io import RunData, load_run
from .junit import write_junit
from .render import write_html
from .slo import load_slo
from .summary import build_summary, clean, junit_properties
from .timeline import users_per_bucket

__all__ = ["ReportResult", "build_report", "verdict_exit_code"]

EXIT_PASS = 0
EXIT_BREACH = 1
EXIT_BROKEN = 2


@dataclass(frozen=True)
class ReportResult:
    passed: bool
    breaches: list[ObjectiveResult]
    html: Path
    summary: Path
    junit: Path
    results: list[ObjectiveResult] = field(default_factory=list)
    #: Why the run did not do what it was asked (a fault that never happened…): its figures
    #: then say nothing, and the verdict is neither PASS nor FAIL.
    broken: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return "BROKEN" if self.broken else "PASS" if self.passed else "FAIL"


def build_report(
    run_dir: Path, *, slo_path: Path | None = None, output_dir: Path | None = None
) -> ReportResult:
    run_dir = Path(run_dir)
    output_dir = Path(output_dir) if output_dir is not None else run_dir
    output_dir.mkdir(parents=True, exist_ok=True)
    run = load_run(run_dir)
    analysis = Analysis(run, load_slo(slo_path if slo_path is not None else _recorded_slo(run)))
    results = [evaluate(objective, analysis) for objective in analysis.spec.objectives]
    broken = broken_reasons(run)
    summary = build_summary(analysis, results, broken=broken)
    duration = run.info.extra.get("duration_s")
    generator = GeneratorFigures.of(run.generator, duration_s=duration if isinstance(duration, int | float) else None)
    summary["generator"] = clean(generator.to_summary())
    if generator.model == "open":  # Locust counts one user per dispatcher: the journeys in flight are the users
        summary["timeline"]["users"] = users_per_bucket(analysis.grid, busy_users(run.generator))
    summary_path = output_dir / "summary.json"
    text = json.dumps(summary, indent=1, ensure_ascii=False, allow_nan=False)
    summary_path.write_text(text, encoding="utf-8")
    breaches = [result for result in results if not result.passed]
    return ReportResult(
        passed=not breaches and not broken,
        broken=broken,
        breaches=breaches,
        html=write_html(summary, output_dir / "report.html"),
        summary=summary_path,
        junit=write_junit(results, output_dir / "junit.xml", properties=junit_properties(summary)),
        results=results,
    )


def _recorded_slo(run: RunData) -> Path | None:
    """The SLO file the run itself names (``run.json`` ``"slo"``), if it still exists."""
    named = run.info.extra.get("slo")
    path = (run.directory / str(named)) if named else None  # absolute paths stay absolute
    return path if path is not None and path.is_file() else None


def verdict_exit_code(result: ReportResult) -> int:
    """The process exit code a CI job gates on: 0 every objective met, 1 any breach, 2 the run
    did not do what it was asked (its figures cannot be judged)."""
    if result.broken:
        return EXIT_BROKEN
    return EXIT_PASS if result.passed else EXIT_BREACH
