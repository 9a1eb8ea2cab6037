"""The HTML report: the summary rendered through ``report.html.j2`` with inline SVG charts.

One self-contained file (no scripts, no external styles or fonts) so it can be attached to a CI
job or mailed. Autoescaping is on; only the charts, which matplotlib produced, go in raw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .charts import Marker, replica_chart, service_latency_chart, throughput_chart, users_chart
from .evaluate import format_value

__all__ = ["charts", "render_html", "write_html"]


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["v"] = lambda value, unit="": format_value(value, unit)
    env.filters["pct"] = lambda value: "—" if value is None else f"{value:.2%}"
    env.filters["offset"] = lambda value: "—" if value is None else f"+{value:.2f} s"
    return env


def _outage(figures: dict[str, Any]) -> tuple[float, float] | None:
    physical = figures["physical"]
    if not physical["seen"]:
        return None
    return physical["outage_start_offset_s"], physical["outage_end_offset_s"]


def _markers(summary: dict[str, Any]) -> list[Marker]:
    return [
        Marker(
            at=f["t_offset_s"], label=f["label"], until=f["until_offset_s"],
            recovered_at=f["recovered_offset_s"], service=f["failover"]["service"], outage=_outage(f),
        )
        for f in summary["failovers"]
    ]


def charts(summary: dict[str, Any]) -> dict[str, str]:
    timeline = summary["timeline"]
    seconds = timeline["second"]
    markers = _markers(summary)
    drawn = {
        "throughput": throughput_chart(seconds, timeline["requests"], timeline["failures"], markers),
        "latency": service_latency_chart(
            seconds,
            {service: {name.removesuffix("_ms"): values for name, values in rows.items()}
             for service, rows in timeline["latency_by_service"].items()},
            markers,
        ),
        "replicas": replica_chart(seconds, timeline["replicas"], markers),
    }
    if timeline["users"] is not None:
        drawn["users"] = users_chart(seconds, timeline["users"], markers)
    return drawn


def render_html(summary: dict[str, Any]) -> str:
    template = _environment().get_template("report.html.j2")
    return template.render(summary=summary, charts=charts(summary))


def write_html(summary: dict[str, Any], path: Path) -> Path:
    path.write_text(render_html(summary), encoding="utf-8")
    return path
