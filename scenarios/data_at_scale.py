"""The list and filter requests whose latency must not grow with the data (issue 4, "Data at scale").

One set, used by ``benchmarks/data_at_scale.py`` (timed on an empty and a seeded stand) and by the
tests (checked for behaviour at a small scale): every FTS list filter on the largest declarant —
the one a broker's back office pages through — cursor paging deep into its year, the event feed
with and without a cursor, and the largest operator's part of UTKO's object register with deep offsets
and cursors, its filters, and the weight controls of one object. FTS and UTKO show each organisation only
its own records, so whoever sends them acts for the organisations :func:`readers_organisations` names.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

__all__ = ["ScaleRequest", "readers_organisations", "scale_requests"]

_DAY_US = 86_400 * 1_000_000


@dataclass(frozen=True, slots=True)
class ScaleRequest:
    name: str
    service: str
    path: str


def readers_organisations(*, fts: dict[str, Any], utko: dict[str, Any]) -> list[dict[str, Any]]:
    """The organisations whoever sends :func:`scale_requests` must act for (the services show
    each organisation only its own records): the largest declarant, the largest operator and the
    operator of the object whose weight controls are read, as ``{"inn", "kpps"}``."""
    largest = fts.get("largest") or {}
    parties = [{"inn": largest.get("inn", "7707083893"), "kpps": list(largest.get("kpps") or ["773601001"])},
               {"inn": utko.get("largestOperator") or "7707083893",
                "kpps": [kpp] if (kpp := utko.get("largestOperatorKpp")) else []}]
    if (heavy := utko.get("objectWithWeightControlsOperator")) is not None:
        parties.append({"inn": heavy["inn"], "kpps": [heavy["kpp"]] if heavy.get("kpp") else []})
    return parties


def _day(us: int) -> str:
    return dt.datetime.fromtimestamp(us / 1e6, dt.UTC).date().isoformat()


def scale_requests(*, now: float, fts: dict[str, Any], utko: dict[str, Any]) -> list[ScaleRequest]:
    """The request set for a stand seeded as ``fts``/``utko`` describe (``seed_stand``'s summary),
    at the stand's time ``now``. An unseeded stand gets the same requests (same shapes, same
    depths in time), which then find little or nothing."""
    now_us = round(now * 1_000_000)
    largest = fts.get("largest") or {}
    inn = largest.get("inn", "7707083893")
    kpps = largest.get("kpps") or ["773601001"]
    half_year_ago = now_us - 182 * _DAY_US
    quarter_ago = now_us - 91 * _DAY_US

    def declarations(name: str, **params: str) -> ScaleRequest:
        return ScaleRequest(name, "fts", "/api/v1/declarations?" + urlencode({"inn": inn, **params}))

    week = {"dateFrom": _day(quarter_ago), "dateTo": _day(quarter_ago + 6 * _DAY_US)}
    found = [
        declarations("fts list newest"),
        declarations("fts list limit=100", limit="100"),
        declarations("fts kpp (branch)", kpp=kpps[-1]),
        declarations("fts status=released", status="released"),
        declarations("fts status=refused", status="refused"),
        declarations("fts status=withdrawn", status="withdrawn"),
        declarations("fts status=under_control", status="under_control"),
        declarations("fts direction=ЭК", direction="ЭК"),
        declarations("fts procedure=31 (rare)", procedure="31"),
        declarations("fts one week by date", **week),
        declarations("fts cursor half a year deep", cursor=f"{half_year_ago}_{'f' * 32}"),
        declarations("fts ИМ+refused+week", direction="ИМ", status="refused", **week),
        ScaleRequest("fts events from start", "fts", "/api/v1/events?" + urlencode({"inn": inn})),
        ScaleRequest("fts events half a year deep", "fts",
                     "/api/v1/events?" + urlencode({"inn": inn, "cursor": f"{half_year_ago}_{'f' * 32}_0"})),
    ]
    operator = utko.get("largestOperator") or "7707083893"
    # An operator lists only its own objects (the access policy): the largest operator's register.
    own = f"/v1/objects?operatorInn={operator}"
    deep = max(0, int(utko.get("largestOperatorObjects") or 0) * 9 // 10)
    deep_cursor = f"{now_us - 365 * _DAY_US // 10}_{'0' * 32}"
    found += [
        ScaleRequest("utko objects first page", "utko", own),
        ScaleRequest("utko objects offset 90%", "utko", f"{own}&offset={deep}"),
        # objects are created evenly over the year before now: about 90 % lie before this cursor
        ScaleRequest("utko objects cursor 90%", "utko", f"{own}&cursor={deep_cursor}"),
        ScaleRequest("utko objects region=77", "utko", f"{own}&region=77&limit=100"),
        ScaleRequest("utko objects type+region deep", "utko", f"{own}&type=accumulation&region=50&offset=50"),
    ]
    if (object_id := utko.get("objectWithWeightControls")) is not None:
        found.append(ScaleRequest("utko weight controls of an object", "utko",
                                  f"/reo-weight-control-api/api/v1/weight-controls?objectId={object_id}&offset=100"))
    return found
