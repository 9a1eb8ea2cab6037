"""The declaration journey against FTS, written once against :class:`scenarios.http.HttpClient`.

A customs broker files a declaration with an idempotency key and tracks it: ``submit`` (retrying
with the *same* key through transport failures, 429/503 and 5xx, so a retry after a failover
never files twice), then ``status`` or ``card``; ``list_declarations`` walks every page of a
declarant's list. What follows filing is here too: ``withdraw``, ``upload_document`` (with a
detached signature) and ``document_content``, ``events`` (the change feed from a cursor), and
``file_appeal`` / ``comment_appeal`` (requests to customs). Every creating call carries an
``Idempotency-Key``. Requests are named ``fts: submit``, ``fts: status``, ``fts: card`` and
``fts: list`` so load statistics group them. An answer the journey does not expect raises
:class:`DeclarationError`.

``sample_declaration(faker)`` builds a valid payload from a plain ``Faker("ru_RU")``: Faker's
``businesses_inn``, ``kpp`` and ``businesses_ogrn`` pass the real checks; TN VED codes are made
here with a chapter in use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .answers import MAX_RETRY_WAIT, ServiceError, retry_delay, send_with_retries
from .http import HttpClient, HttpResponse

__all__ = [
    "MAX_RETRY_WAIT",
    "DeclarationError",
    "Submitted",
    "card",
    "list_declarations",
    "retry_delay",
    "comment_appeal",
    "document_content",
    "events",
    "file_appeal",
    "sample_declaration",
    "status",
    "submit",
    "upload_document",
    "withdraw",
]


class DeclarationError(ServiceError):
    """An FTS answer the journey did not expect, or retries exhausted."""


@dataclass(frozen=True, slots=True)
class Submitted:
    id: str
    status: str
    #: Requests sent, retries included.
    attempts: int
    #: The server said this answer repeats an earlier one for the key (``Idempotent-Replayed``).
    replayed: bool
    card: dict[str, Any] = field(repr=False, default_factory=dict)


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def _fail(step: str, response: HttpResponse, *, attempts: int = 1) -> DeclarationError:
    return DeclarationError.from_answer(step, response, attempts=attempts)


def submit(
    http: HttpClient,
    *,
    fts_url: str,
    token: str,
    declaration: dict[str, Any],
    idempotency_key: str,
    attempts: int = 3,
    sleep: Callable[[float], None] = time.sleep,
) -> Submitted:
    """File ``declaration``; every retry carries the same ``idempotency_key``, so however many
    attempts reach the server, at most one declaration exists."""
    url = fts_url.rstrip("/") + "/api/v1/declarations"
    headers = {**_headers(token), "Idempotency-Key": idempotency_key}
    answer, attempt = send_with_retries(
        lambda attempt: http.send("POST", url, name="fts: submit", json=declaration, headers=headers,
                                  context={"op": idempotency_key, "attempt": attempt}),
        step="fts: submit", expect=201, attempts=attempts, sleep=sleep, error=DeclarationError,
    )
    body = answer.json()
    return Submitted(id=body["id"], status=body["status"], attempts=attempt,
                     replayed=answer.headers.get("idempotent-replayed") == "true", card=body)


def _get(http: HttpClient, url: str, *, name: str, token: str,
         params: dict[str, str] | None = None) -> dict[str, Any]:
    response = http.send("GET", url, name=name, params=params, headers=_headers(token))
    if response.status != 200:
        raise _fail(name, response)
    return response.json()


def status(http: HttpClient, *, fts_url: str, token: str, declaration_id: str) -> dict[str, Any]:
    """``{id, status, registrationNumber, decisionCode, updatedAt}``."""
    url = f"{fts_url.rstrip('/')}/api/v1/declarations/{declaration_id}/status"
    return _get(http, url, name="fts: status", token=token)


def card(http: HttpClient, *, fts_url: str, token: str, declaration_id: str) -> dict[str, Any]:
    """The full card, status history included."""
    url = f"{fts_url.rstrip('/')}/api/v1/declarations/{declaration_id}"
    return _get(http, url, name="fts: card", token=token)


def list_declarations(
    http: HttpClient, *, fts_url: str, token: str, inn: str, kpp: str | None = None, limit: int = 100,
    **filters: str,
) -> Iterator[dict[str, Any]]:
    """Every card of the declarant, newest first, following ``nextCursor`` to the last page.
    ``filters``: ``status``, ``direction``, ``procedure``, ``dateFrom``, ``dateTo``."""
    url = fts_url.rstrip("/") + "/api/v1/declarations"
    params = {"inn": inn, "limit": str(limit), **filters}
    if kpp is not None:
        params["kpp"] = kpp
    while True:
        page = _get(http, url, name="fts: list", token=token, params=params)
        yield from page["items"]
        if not page.get("nextCursor"):
            return
        params["cursor"] = page["nextCursor"]


def _create(http: HttpClient, url: str, *, name: str, token: str, idempotency_key: str, expect: int = 201,
            json: Any = None, files: dict[str, tuple[str, bytes, str]] | None = None) -> dict[str, Any]:
    response = http.send("POST", url, name=name, json=json, files=files,
                         headers={**_headers(token), "Idempotency-Key": idempotency_key},
                         context={"op": idempotency_key})
    if response.status != expect:
        raise _fail(name, response)
    return response.json()


def withdraw(http: HttpClient, *, fts_url: str, token: str, declaration_id: str,
             idempotency_key: str) -> dict[str, Any]:
    """Withdraw a declaration not yet decided (81 once registered); the status comes back.
    A decided declaration answers 409, raised as :class:`DeclarationError`."""
    url = f"{fts_url.rstrip('/')}/api/v1/declarations/{declaration_id}/withdrawal"
    return _create(http, url, name="fts: withdraw", token=token, idempotency_key=idempotency_key, expect=200)


def upload_document(http: HttpClient, *, fts_url: str, token: str, declaration_id: str, content: bytes,
                    file_name: str, idempotency_key: str, signature: bytes | None = None) -> dict[str, Any]:
    """Send a scan or XML document, with its detached CMS signature (``.p7s``) if given; the
    document comes back with its ``applicationNumber`` and processing ``status``."""
    files = {"file": (file_name, content, "application/octet-stream")}
    if signature is not None:
        files["signature"] = (f"{file_name}.p7s", signature, "application/pkcs7-signature")
    url = f"{fts_url.rstrip('/')}/api/v1/declarations/{declaration_id}/documents"
    return _create(http, url, name="fts: document", token=token, idempotency_key=idempotency_key, files=files)


def document_content(http: HttpClient, *, fts_url: str, token: str, declaration_id: str,
                     document_id: str) -> bytes:
    """The exact bytes FTS received for a document."""
    url = f"{fts_url.rstrip('/')}/api/v1/declarations/{declaration_id}/documents/{document_id}/content"
    response = http.send("GET", url, name="fts: document content", headers=_headers(token))
    if response.status != 200:
        raise _fail("fts: document content", response)
    return response.body


def events(http: HttpClient, *, fts_url: str, token: str, inn: str, cursor: str | None = None,
           limit: int = 200) -> tuple[list[dict[str, Any]], str | None]:
    """Every status change of the declarant's declarations after ``cursor`` that has happened
    by now, following pages; returns them with the cursor to poll from next time."""
    url = fts_url.rstrip("/") + "/api/v1/events"
    found: list[dict[str, Any]] = []
    while True:
        params = {"inn": inn, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        page = _get(http, url, name="fts: events", token=token, params=params)
        found.extend(page["items"])
        cursor = page["nextCursor"]
        if len(page["items"]) < limit:
            return found, cursor


def file_appeal(http: HttpClient, *, fts_url: str, token: str, appeal: dict[str, Any],
                idempotency_key: str) -> dict[str, Any]:
    """File a request to customs (обращение): ``{inn, kpp?, subject, text, attachments?}``."""
    url = fts_url.rstrip("/") + "/api/v1/appeals"
    return _create(http, url, name="fts: appeal", token=token, idempotency_key=idempotency_key, json=appeal)


def comment_appeal(http: HttpClient, *, fts_url: str, token: str, appeal_id: str, text: str,
                   idempotency_key: str) -> dict[str, Any]:
    """Add the declarant's comment to an open appeal; the stored comment comes back."""
    url = f"{fts_url.rstrip('/')}/api/v1/appeals/{appeal_id}/comments"
    return _create(http, url, name="fts: appeal comment", token=token, idempotency_key=idempotency_key,
                   json={"text": text})


# --- sample payloads -----------------------------------------------------------------------

#: TN VED chapters goods commonly come under (machines, electronics, vehicles, clothing, toys…).
_CHAPTERS = ("84", "85", "87", "61", "62", "64", "95", "39", "73", "94", "90", "08", "22", "30")
_UNITS = ("шт", "кг", "л", "м", "пар", "компл")
_CURRENCIES = ("CNY", "USD", "EUR", "TRY", "INR", "AED", "KZT", "BYN", "RUB")
_COUNTRIES = ("CN", "TR", "IN", "DE", "IT", "KZ", "BY", "AE", "VN", "KR", "JP", "US")
_TERMS = ("FCA", "EXW", "CPT", "CIP", "DAP", "FOB", "CFR", "CIF", "DDP")
_IMPORT = ("40", "40", "40", "51", "53", "70", "78")
_EXPORT = ("10", "10", "21", "31", "70")


def _goods_item(faker: Any) -> dict[str, Any]:
    tnved = faker.random_element(_CHAPTERS) + faker.numerify("########")
    return {
        "tnved": tnved,
        "description": faker.sentence(nb_words=4).rstrip("."),
        "quantity": faker.random_int(1, 5000),
        "unit": faker.random_element(_UNITS),
        "customsValue": f"{faker.random_int(100, 50_000_000)}.{faker.random_int(0, 99):02d}",
        "currency": faker.random_element(_CURRENCIES),
        "originCountry": faker.random_element(_COUNTRIES),
        "deliveryTerms": faker.random_element(_TERMS),
    }


def sample_declaration(faker: Any) -> dict[str, Any]:
    """A declaration the FTS rules accept, by an organisation, with 1–5 goods items.
    ``faker`` is a ``Faker("ru_RU")`` (seed it for reproducible payloads)."""
    direction = "ИМ" if faker.random_int(0, 3) else "ЭК"
    code = faker.random_element(_IMPORT if direction == "ИМ" else _EXPORT)
    return {
        "senderReference": faker.bothify("BRK-####-??????").upper(),
        "declarant": {
            "inn": faker.businesses_inn(),
            "kpp": faker.kpp(),
            "ogrn": faker.businesses_ogrn(),
            "name": faker.company(),
        },
        "procedure": {"direction": direction, "code": code},
        "customsOffice": "10" + faker.numerify("######"),
        "goods": [_goods_item(faker) for _ in range(faker.random_int(1, 5))],
    }
