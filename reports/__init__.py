"""Turning a recorded load run into results: failover figures, an SLO verdict, HTML/JSON/JUnit.

Entry points: :func:`gosstand.reports.build.build_report` and ``verdict_exit_code`` (the load
run and CI), :func:`gosstand.reports.cli.main` (``gosstand report RUN_DIR``). Flat public
modules, one job each; lower layers never import higher ones:

    io          the run directory's files and their columns (the contract with loadtests/)
    selectors   which requests an objective is about        metrics   the metric catalogue
    timeline    one-second buckets, HDR percentiles          slo       the SLO file format
    windows     sliding-window evaluation, "healthy"         reconcile lost/duplicate writes
    affected    which requests a fault affected, and why    physical  what clients saw: TTFE, outage, TTR
    failover    per-failover windowed figures (recovery to SLO, availability, goodput, budget)
    failures    failures by class and status                 parameters the run's header and schedule
    evaluate    objectives → verdicts (Analysis caches the shared figures)
    summary     every figure as JSON     charts  inline SVG     render  HTML     junit  JUnit XML
    build       build_report / verdict_exit_code             cli       the command line
    synthetic   run directories with known answers (tests, demos)

They need gosstand's ``[report]`` extra (matplotlib, numpy, Jinja2, HdrHistogram); importing any
part of them without it says so.
"""

from ..extras import require

require("gosstand's reports (gosstand report, the end of gosstand peak)", "report")
