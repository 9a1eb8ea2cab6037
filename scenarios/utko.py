"""The UTKO journeys, written once against :class:`scenarios.http.HttpClient`.

Two kinds of client reach FGIS UTKO:

- a regional operator's system, signed in through ESIA (``openid`` to read, ``usr_org`` to
  change): it registers waste-handling objects (``register_object``, which hands back the
  object's access key), keeps them up to date under optimistic concurrency (``update_object``
  reads the ``ETag`` and sends it as ``If-Match``, and on a 412 reads again and re-applies its
  change), walks the register page by page (``list_objects``) and reads the day's requests
  (``requests_on``);
- a weigh station at an object, a machine integration authenticated by the object's access key
  (REO's weight-control import): ``import_weight_controls`` posts a batch and retries it whole
  through transport failures, 429, 503 and 5xx — an id imported before is skipped, so however
  many attempts reach the server each weight control is stored once. ``weight_controls`` reads
  back what an object holds.

Requests are named ``utko: …`` so load statistics group them. An answer the journey does not
expect raises :class:`UtkoError`.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .answers import ServiceError, retry_delay, retryable, send_with_retries
from .http import HttpClient, HttpResponse, TransportFailure

__all__ = [
    "Imported",
    "Registered",
    "UtkoError",
    "get_object",
    "import_weight_controls",
    "list_objects",
    "register_object",
    "requests_on",
    "sample_object",
    "sample_weight_controls",
    "update_object",
    "weight_controls",
]

WEIGHT_CONTROL_IMPORT = "/reo-weight-control-api/api/v1/weight-controls/import"
WEIGHT_CONTROLS = "/reo-weight-control-api/api/v1/weight-controls"


class UtkoError(ServiceError):
    """A UTKO answer the journey did not expect, or retries exhausted."""


@dataclass(frozen=True, slots=True)
class Registered:
    id: str
    etag: str
    #: The key the object's weigh stations import with; UTKO shows it only in this answer.
    access_key: str
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Imported:
    #: Ids stored by this request.
    imported: list[str]
    #: Ids the object held already (an earlier attempt's, whose answer was lost) — stored once.
    skipped: list[str]
    #: ``{"index", "id", "errors": [{"pointer", "detail"}]}`` of each weight control refused.
    rejected: list[dict[str, Any]]
    #: Requests sent, retries included.
    attempts: int


def _headers(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json", **extra}


def _fail(step: str, response: HttpResponse, *, attempts: int = 1) -> UtkoError:
    return UtkoError.from_answer(step, response, attempts=attempts)


def _url(utko_url: str, path: str) -> str:
    return utko_url.rstrip("/") + path


def register_object(http: HttpClient, *, utko_url: str, token: str, obj: dict[str, Any]) -> Registered:
    """Register ``obj`` (needs ``usr_org``). Not retried: a registration carries no idempotency
    key, so a retry after a lost answer could register the object twice."""
    response = http.send("POST", _url(utko_url, "/v1/objects"), name="utko: register", json=obj,
                         headers=_headers(token))
    if response.status != 201:
        raise _fail("utko: register", response)
    body = response.json()
    return Registered(id=body["id"], etag=response.headers.get("etag", ""),
                      access_key=response.headers.get("x-access-key", ""), body=body)


def get_object(http: HttpClient, *, utko_url: str, token: str, object_id: str) -> tuple[dict[str, Any], str]:
    """The object and its ``ETag``."""
    response = http.send("GET", _url(utko_url, f"/v1/objects/{object_id}"), name="utko: object",
                         headers=_headers(token))
    if response.status != 200:
        raise _fail("utko: object", response)
    return response.json(), response.headers.get("etag", "")


#: The fields of an object a client writes (``ObjectInput``); UTKO sets ``id`` and the times.
OBJECT_FIELDS = ("name", "status", "type", "operator", "region", "address", "coordinates", "fkkoCodes")


def update_object(
    http: HttpClient,
    *,
    utko_url: str,
    token: str,
    object_id: str,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    attempts: int = 4,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[dict[str, Any], str]:
    """Read the object, apply ``change`` to what a client may write of it, and ``PUT`` it with
    ``If-Match``; returns the stored object and its new ``ETag``.

    A 412 means the object changed since it was read — by someone else, or by an earlier attempt
    of ours whose answer was lost — so the journey reads again and re-applies ``change`` at once
    (``change`` should set values, not increment them). Transport failures, 429, 503 and 5xx of
    either request are retried after :func:`retry_delay`."""
    url = _url(utko_url, f"/v1/objects/{object_id}")
    last: HttpResponse | None = None
    for attempt in range(1, attempts + 1):
        try:
            last = http.send("GET", url, name="utko: object", headers=_headers(token))
            if last.status == 200:
                writable = {key: value for key, value in last.json().items() if key in OBJECT_FIELDS}
                last = http.send("PUT", url, name="utko: update", json=change(writable),
                                 headers=_headers(token, **{"If-Match": last.headers.get("etag", "")}))
        except TransportFailure:
            last = None
        if last is not None and last.status == 200:
            return last.json(), last.headers.get("etag", "")
        if last is not None and last.status != 412 and not retryable(last):
            raise _fail("utko: update", last, attempts=attempt)
        if attempt < attempts and (last is None or last.status != 412):
            sleep(retry_delay(last, attempt))
    if last is not None:
        raise _fail("utko: update", last, attempts=attempts)
    raise UtkoError("utko: update", f"no answer after {attempts} attempts", attempts=attempts)


def _get_json(http: HttpClient, url: str, *, name: str, token: str, params: dict[str, str]) -> dict[str, Any]:
    response = http.send("GET", url, name=name, params=params, headers=_headers(token))
    if response.status != 200:
        raise _fail(name, response)
    return response.json()


def list_objects(http: HttpClient, *, utko_url: str, token: str, limit: int = 100,
                 **filters: str) -> Iterator[dict[str, Any]]:
    """Every object matching ``filters`` (``operatorInn``, ``region``, ``type``), oldest first,
    following ``nextCursor`` to the last page."""
    params = {"limit": str(limit), **filters}
    while True:
        page = _get_json(http, _url(utko_url, "/v1/objects"), name="utko: list", token=token, params=params)
        yield from page["items"]
        if not page.get("nextCursor"):
            return
        params["cursor"] = page["nextCursor"]


def requests_on(http: HttpClient, *, utko_url: str, token: str, date: dt.date) -> list[dict[str, Any]]:
    """The requests (заявки) filed on ``date`` that UTKO lists by now."""
    page = _get_json(http, _url(utko_url, "/v1/requests"), name="utko: requests", token=token,
                     params={"date": date.isoformat()})
    return page["items"]


def import_weight_controls(
    http: HttpClient,
    *,
    utko_url: str,
    object_id: str,
    access_key: str,
    controls: list[dict[str, Any]],
    attempts: int = 4,
    sleep: Callable[[float], None] = time.sleep,
) -> Imported:
    """Post ``controls`` as REO's import file; the whole file is re-posted on a transport
    failure, 429, 503 or 5xx (ids already imported come back as skipped, never twice)."""
    envelope = {"objectId": object_id, "accessKey": access_key, "weightControls": controls}
    content = json.dumps(envelope, ensure_ascii=False).encode()
    first_id = str(controls[0].get("id")) if controls else ""  # the batch's attempts, told apart by it
    answer, attempt = send_with_retries(
        lambda attempt: http.send("POST", _url(utko_url, WEIGHT_CONTROL_IMPORT), name="utko: weight import",
                                  files={"file": ("weight-controls.json", content, "application/json")},
                                  headers={"Accept": "application/json"},
                                  context={"op": first_id, "attempt": attempt}),
        step="utko: weight import", expect=200, attempts=attempts, sleep=sleep, error=UtkoError,
    )
    body = answer.json()
    return Imported(imported=[str(i) for i in body["imported"]], skipped=[str(i) for i in body["skipped"]],
                    rejected=list(body["rejected"]), attempts=attempt)


def weight_controls(http: HttpClient, *, utko_url: str, token: str, object_id: str,
                    limit: int = 500) -> Iterator[dict[str, Any]]:
    """Every weight control the object holds, by ``dateBefore``."""
    offset = 0
    while True:
        page = _get_json(http, _url(utko_url, WEIGHT_CONTROLS), name="utko: weight controls", token=token,
                         params={"objectId": object_id, "limit": str(limit), "offset": str(offset)})
        items = page["items"]
        yield from items
        offset += len(items)
        if not items or offset >= int(page.get("total", offset)):
            return


# --- sample payloads -----------------------------------------------------------------------

_OBJECT_TYPES = ("sorting", "utilisation", "neutralisation", "disposal", "transfer", "accumulation")
_TRUCKS = (("мусоровоз", "КАМАЗ", "65115"), ("мусоровоз", "МАЗ", "6312"), ("контейнеровоз", "ГАЗ", "ГАЗон NEXT"))


def sample_object(faker: Any, *, operator: dict[str, str], region: str = "77") -> dict[str, Any]:
    """An object UTKO's rules accept, run by ``operator`` (``{"inn", "kpp"}``). ``faker`` is a
    ``russian_faker()`` (its FKKO codes pass the real check)."""
    kind = faker.random_element(_OBJECT_TYPES)
    return {
        "name": f"{faker.random_element(('Полигон', 'Комплекс', 'Площадка'))} «{faker.last_name_male()}»",
        "status": "active",
        "type": kind,
        "operator": {"inn": operator["inn"], "kpp": operator["kpp"]},
        "region": region,
        "address": f"{faker.city_name()}, {faker.street_title()} ул., д. {faker.random_int(1, 120)}",
        "coordinates": {"lat": round(faker.pyfloat(min_value=43, max_value=68), 5),
                        "lon": round(faker.pyfloat(min_value=28, max_value=140), 5)},
        "fkkoCodes": [faker.fkko_code() for _ in range(faker.random_int(1, 3))],
    }


def sample_weight_controls(faker: Any, *, count: int, ids: Callable[[], str],
                           at: dt.datetime | None = None) -> list[dict[str, Any]]:
    """``count`` weighings of arriving trucks, each with an id from ``ids()`` (make them unique:
    UTKO skips an id it has seen). ``garbageWeight`` is what REO's samples compute."""
    start = at or dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)
    controls = []
    for index in range(count):
        before = start + dt.timedelta(minutes=7 * index)
        truck_type, brand, model = faker.random_element(_TRUCKS)
        gross, tare, driver = faker.random_int(14_000, 26_000), faker.random_int(9_000, 12_000), 80
        controls.append({
            "id": ids(),
            "dateBefore": before.isoformat().replace("+00:00", "Z"),
            "dateAfter": (before + dt.timedelta(minutes=faker.random_int(2, 6))).isoformat().replace("+00:00", "Z"),
            "registrationNumber": faker.vehicle_plate(),
            "truckType": truck_type,
            "truckBrand": brand,
            "truckModel": model,
            "weightBefore": gross,
            "weightAfter": tare,
            "weightDriver": driver,
            "garbageWeight": gross - tare - driver,
            "codeFKKO": faker.fkko_code(),
        })
    return controls
