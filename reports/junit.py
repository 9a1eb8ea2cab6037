"""The SLO verdict as JUnit XML: one test case per objective, so CI systems list them.

A breached objective is a ``<failure>`` whose message states the measured worst value against
the threshold and its window (e.g. "worst 0.8500 (+12…+22 s), threshold ≥ 0.95 every 10 s
window"); an objective without data is a failure too unless it is optional, then it is
``<skipped>``, as is a failover objective in a run without failovers.

The suite's ``<properties>`` carry the run's parameters, its failures by class and each
failover's figures in one line, so a CI page that shows only the JUnit file still tells what
was run and what clients saw.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

from .evaluate import ObjectiveResult

__all__ = ["write_junit"]


def write_junit(results: list[ObjectiveResult], path: Path, *, suite: str = "gosstand SLO",
                properties: Mapping[str, str] | None = None) -> Path:
    failures = sum(not r.passed for r in results)
    skipped = sum(r.passed and r.status in ("no_data", "not_applicable") for r in results)
    root = ET.Element("testsuites", name=suite, tests=str(len(results)), failures=str(failures))
    testsuite = ET.SubElement(
        root, "testsuite", name=suite, tests=str(len(results)), failures=str(failures),
        errors="0", skipped=str(skipped),
    )
    if properties:
        listed = ET.SubElement(testsuite, "properties")
        for name, value in properties.items():
            ET.SubElement(listed, "property", name=name, value=value)
    for result in results:
        objective = result.objective
        case = ET.SubElement(
            testsuite, "testcase", name=objective.name, classname=f"slo.{objective.metric.name}", time="0",
        )
        detail = (
            f"{objective.metric.title} of {objective.selector.describe()}: {result.message}"
        )
        if not result.passed:
            kind = "SLO breach" if result.status == "fail" else "no data"
            failure = ET.SubElement(case, "failure", message=f"{kind}: {result.message}", type=kind)
            failure.text = "\n".join(
                [detail, *(f"  {b['where']}: {b['value']:g}" for b in result.breaches)]
            )
        elif result.status in ("no_data", "not_applicable"):
            ET.SubElement(case, "skipped", message=result.message)
        else:
            ET.SubElement(case, "system-out").text = detail
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path
