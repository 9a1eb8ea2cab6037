"""``gosstand report RUN_DIR [--slo FILE] [--output DIR]``: build the report of a recorded run.

Exit codes: 0 every objective met, 1 an SLO breach, 2 the run directory or SLO file could not
be read (the message says which line).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .build import build_report, verdict_exit_code
from .io import RunDirectoryError
from .slo import SloError

__all__ = ["main", "parser"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gosstand report",
        description="Turn a recorded load run into failover figures, an SLO verdict and HTML/JSON/JUnit.",
    )
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="directory the load run recorded")
    p.add_argument("--slo", type=Path, help="SLO file (default: the packaged peak-hour reports/slo.yaml)")
    p.add_argument("--output", type=Path, help="where to write report.html, summary.json, junit.xml "
                   "(default: RUN_DIR)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        result = build_report(args.run_dir, slo_path=args.slo, output_dir=args.output)
    except (RunDirectoryError, SloError, FileNotFoundError) as exc:
        print(f"gosstand report: {exc}", file=sys.stderr)
        return 2
    if result.passed:
        print("Verdict: PASS — every SLO objective met")
    else:
        print(f"Verdict: FAIL — {len(result.breaches)} SLO objective(s) breached:")
        for breach in result.breaches:
            print(f"  ✗ {breach.objective.name}: {breach.message}")
    print(f"Report:  {result.html}\nSummary: {result.summary}\nJUnit:   {result.junit}")
    return verdict_exit_code(result)


if __name__ == "__main__":
    raise SystemExit(main())
