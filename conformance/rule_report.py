"""The conformance report: an HTML page and JUnit XML, both grouped by rule.

The last step of a one-way flow: the run's tallies (:mod:`.ledger`, ``results.json``) become
figures per rule (:mod:`.rule_figures`), and only the figures are rendered here. The page
(``conformance.html``, self-contained: no scripts, no external styles) lists every rule with its
cases, passes and failures, and for a broken rule the first failing request as a curl command.
The JUnit file (``junit.xml``) has one ``<testsuite>`` per rule and one ``<testcase>`` per
operation or parametrisation, so CI pages list the rules; a failure carries the curl command.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .ledger import Ledger, load_results
from .rule_figures import RuleFigure, rule_figures

__all__ = ["HTML_NAME", "JUNIT_NAME", "ReportFiles", "write_report", "write_report_of"]

HTML_NAME = "conformance.html"
JUNIT_NAME = "junit.xml"


@dataclass(frozen=True)
class ReportFiles:
    results: Path
    html: Path
    junit: Path


def write_report_of(ledger: Ledger, directory: Path) -> ReportFiles:
    """Save a run's tallies in ``directory`` and write its report from them."""
    return write_report(ledger.write(directory))


def write_report(results: Path) -> ReportFiles:
    """The report of ``results.json``, written beside it."""
    figures = rule_figures(load_results(results))
    directory = results.parent
    return ReportFiles(results=results, html=write_html(figures, directory / HTML_NAME),
                       junit=write_junit(figures, directory / JUNIT_NAME))


def write_html(figures: list[RuleFigure], path: Path) -> Path:
    environment = Environment(loader=FileSystemLoader(Path(__file__).parent), undefined=StrictUndefined,
                              autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    path.write_text(environment.get_template("conformance_report.html.j2").render(figures=figures), encoding="utf-8")
    return path


def write_junit(figures: list[RuleFigure], path: Path) -> Path:
    failures = sum(figure.failed > 0 for figure in figures)
    root = ET.Element("testsuites", name="gosstand conformance", tests=str(len(figures)), failures=str(failures))
    for figure in figures:
        suite = ET.SubElement(root, "testsuite", name=figure.rule, tests=str(len(figure.scopes)),
                              failures=str(sum(scope.failed > 0 for scope in figure.scopes)), errors="0",
                              skipped=str(sum(scope.skipped == scope.cases for scope in figure.scopes)))
        properties = ET.SubElement(suite, "properties")
        for name, value in (("kind", figure.kind), ("verdict", figure.verdict), ("cases", str(figure.cases)),
                            ("failed cases", str(figure.failed)), ("description", figure.description)):
            ET.SubElement(properties, "property", name=name, value=value)
        for scope in figure.scopes:
            case = ET.SubElement(suite, "testcase", classname=f"{figure.kind}.{figure.rule}",
                                 name=scope.scope or figure.rule, time="0")
            if scope.first_failure is not None:
                failure = ET.SubElement(case, "failure", type=figure.rule,
                                        message=f"{scope.failed} of {scope.cases} cases broke {figure.rule}")
                curl = scope.first_failure.curl
                failure.text = (f"{curl}\n\n" if curl else "") + scope.first_failure.message
            elif scope.skipped == scope.cases:
                ET.SubElement(case, "skipped", message="every case skipped")
            ET.SubElement(case, "system-out").text = f"{scope.cases} cases, {scope.failed} failed"
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


