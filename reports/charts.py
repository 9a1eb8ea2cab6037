"""Charts of a run as inline SVG, so the HTML report is one self-contained file.

Matplotlib's object API (``Figure`` without pyplot) renders straight to SVG: no GUI backend, no
global state, safe in a CI job. Text stays text (``svg.fonttype: none``) so labels such as
"kill esia-1" are searchable in the page, and each chart gets its own id salt so the inline
SVGs' element ids cannot collide. Every chart marks each failover with a vertical line at its
injection, a shaded band while a timed fault lasted, a dark band over the outage its clients
saw (physical: first affected start to last affected end), and a dotted line where it recovered
to its SLO (windowed).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType  # the rcParams names, for the type checker only

__all__ = ["Marker", "replica_chart", "service_latency_chart", "throughput_chart", "users_chart"]

_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)


@dataclass(frozen=True)
class Marker:
    """A failover drawn on a chart; times are seconds since the run's start."""

    at: float
    label: str
    until: float | None = None
    recovered_at: float | None = None
    service: str | None = None
    #: The outage its clients saw, (start, end); ``None`` when no client saw it.
    outage: tuple[float, float] | None = None


def _style() -> dict[RcKeyType, Any]:
    return {"svg.fonttype": "none", "font.size": 9, "axes.grid": True, "grid.alpha": 0.3}


def _mark(axes: Axes, markers: Sequence[Marker]) -> None:
    for marker in markers:
        axes.axvline(marker.at, color="#c0392b", linewidth=1.2)
        if marker.until is not None:
            axes.axvspan(marker.at, marker.until, color="#c0392b", alpha=0.08)
        if marker.outage is not None:
            axes.axvspan(*marker.outage, color="#7b241c", alpha=0.3)
        if marker.recovered_at is not None:
            axes.axvline(marker.recovered_at, color="#27ae60", linewidth=1, linestyle=":")
        axes.annotate(
            marker.label, xy=(marker.at, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -10),
            textcoords="offset points", color="#c0392b", fontsize=8,
        )


def _edges(seconds: Sequence[float]) -> list[float]:
    """Bucket start times plus the end of the last bucket, so a step plot draws it whole."""
    return [*seconds, seconds[-1] + 1] if seconds else []


def _held(values: Sequence[int]) -> list[int]:
    return [*values, values[-1]] if values else []


def _svg(figure: Figure, salt: str) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context({**_style(), "svg.hashsalt": salt}):
        figure.savefig(buffer, format="svg")
    return _PROLOGUE.sub("", buffer.getvalue(), count=1)


def _figure(rows: int = 1, height: float = 2.8) -> Figure:
    with matplotlib.rc_context(_style()):
        figure = Figure(figsize=(10, height * rows), layout="constrained")
        figure.subplots(rows, 1, sharex=True, squeeze=False)
    return figure


def throughput_chart(seconds: Sequence[float], requests: Sequence[int], failures: Sequence[int],
                     markers: Sequence[Marker]) -> str:
    """Requests/s and failures/s per one-second bucket."""
    figure = _figure()
    axes = figure.axes[0]
    axes.step(_edges(seconds), _held(requests), where="post", label="requests/s", color="#2c3e50")
    axes.step(_edges(seconds), _held(failures), where="post", label="failures/s", color="#c0392b")
    axes.set_ylabel("per second")
    axes.set_xlabel("seconds since start (intended start of each request)")
    axes.legend(loc="upper right")
    _mark(axes, markers)
    return _svg(figure, "throughput")


def service_latency_chart(seconds: Sequence[float],
                          by_service: dict[str, dict[str, Sequence[float | None]]],
                          markers: Sequence[Marker]) -> str:
    """Latency percentiles per one-second bucket, one row per service (ms)."""
    services = list(by_service) or ["(no requests)"]
    figure = _figure(rows=len(services), height=2.2)
    for axes, service in zip(figure.axes, services, strict=True):
        for label, values in by_service.get(service, {}).items():
            axes.plot(seconds, [float("nan") if v is None else v for v in values], label=label, linewidth=1)
        axes.set_ylabel(f"{service}\nms")
        if by_service.get(service):
            axes.legend(loc="upper right", fontsize=7)
        _mark(axes, [m for m in markers if m.service in (None, service)])
    figure.axes[-1].set_xlabel("seconds since start (intended start of each request)")
    return _svg(figure, "service-latency")


def users_chart(seconds: Sequence[float], users: Sequence[int | None], markers: Sequence[Marker]) -> str:
    """Concurrent users the load ran, per second."""
    figure = _figure(height=1.8)
    axes = figure.axes[0]
    axes.step(_edges(seconds), [*(float("nan") if u is None else u for u in users),
                                float("nan") if not users or users[-1] is None else users[-1]],
              where="post", color="#2c3e50")
    axes.set_ylabel("users")
    axes.set_xlabel("seconds since start")
    _mark(axes, markers)
    return _svg(figure, "users")


def replica_chart(seconds: Sequence[float], by_service: dict[str, dict[str, list[int]]],
                  markers: Sequence[Marker]) -> str:
    """Which replica answered, stacked per service (``none`` = no replica: transport failure)."""
    services = list(by_service) or ["(no requests)"]
    figure = _figure(rows=len(services), height=2.2)
    for axes, service in zip(figure.axes, services, strict=True):
        replicas = by_service.get(service, {})
        if replicas:
            palette = matplotlib.color_sequences["tab10"]
            colours = [
                "#9e9e9e" if name == "none" else palette[i % len(palette)] for i, name in enumerate(replicas)
            ]
            axes.stackplot(_edges(seconds), *(_held(row) for row in replicas.values()), labels=list(replicas),
                           colors=colours, step="post", alpha=0.85)
            axes.legend(loc="upper right", fontsize=7)
        axes.set_ylabel(f"{service}\nreq/s")
        _mark(axes, [m for m in markers if m.service in (None, service)])
    figure.axes[-1].set_xlabel("seconds since start")
    return _svg(figure, "replicas")
