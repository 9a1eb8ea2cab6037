"""The account's server-to-server calls to ESIA: trading a code or a refresh token at
``/aas/oauth2/v3/te`` and reading the person and their organisations from ``/rs`` with the
access token.

ESIA's refusals become :class:`.refusals.SignInRefused` carrying ESIA's own description (a spent,
replayed or foreign code, a revoked refresh token: ``ESIA-007011``) with status 403; ESIA not
answering, or answering that it is overloaded, is a 503 — a page, never an exception the person
sees as a 500, and for a refresh a reason to try again rather than to end the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .acting import Place
from .esia_http import esia_http
from .esia_requests import EsiaClient
from .refusals import SignInRefused

if TYPE_CHECKING:
    import httpx

__all__ = ["Person", "exchange_code", "read_employees", "read_person", "refresh_tokens"]

#: At most this many organisations are read for one person (each is one more call to ESIA).
MAX_ORGANISATIONS = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    oid: int
    name: str
    inn: str
    places: list[Place]


async def _call(method: str, url: str, **options: Any) -> httpx.Response:
    import httpx  # loaded by esia_http() already; not at a replica's start (see .esia_http)

    try:
        return await esia_http().request(method, url, **options)
    except httpx.HTTPError as exc:
        raise SignInRefused("ЕСИА сейчас недоступна, попробуйте войти позже", status=503,
                            detail=f"{method} {url}: {type(exc).__name__}") from None


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise SignInRefused("ЕСИА ответила непонятно", status=503,
                            detail=f"{what}: HTTP {response.status_code}, not JSON")
    return body


async def _token_answer(client: EsiaClient, form: dict[str, str], refusal: str) -> dict[str, Any]:
    response = await _call("POST", client.token_url, data=form)
    body = _json(response, "te")
    if response.status_code != 200:
        description = str(body.get("error_description", "")) or f"HTTP {response.status_code}"
        if response.status_code >= 500:
            raise SignInRefused("ЕСИА сейчас недоступна, попробуйте позже", status=503, detail=description)
        raise SignInRefused(refusal, status=403, detail=description)
    return body


async def exchange_code(client: EsiaClient, code: str, *, now: float) -> dict[str, Any]:
    """The token answer for ``code``; ESIA's refusal as a :class:`SignInRefused` (403)."""
    return await _token_answer(client, client.token_form(code, now=now),
                               "ЕСИА отказала в выдаче токена: код авторизации недействителен или уже использован")


async def refresh_tokens(client: EsiaClient, refresh_token: str, *, now: float) -> dict[str, Any]:
    """The token answer for ``refresh_token``; ESIA's refusal (spent, expired, revoked) as a
    :class:`SignInRefused` (403), ESIA unavailable as one with status 503."""
    return await _token_answer(client, client.refresh_form(refresh_token, now=now),
                               "ЕСИА больше не продлевает вход: войдите снова")


async def read_person(client: EsiaClient, oid: int, access_token: str) -> Person:
    """The person's name and INN and each organisation they work for, with its INN and KPP."""
    headers = {"Authorization": f"Bearer {access_token}"}
    root_response = await _call("GET", f"{client.server_url}/rs/prns/{oid}", headers=headers,
                                params={"embed": "(organizations.elements)"})
    root = _json(root_response, "rs person")
    if root_response.status_code != 200:
        raise SignInRefused("ЕСИА не выдала сведения о пользователе", status=403,
                            detail=str(root.get("code", root_response.status_code)))
    name = " ".join(str(root[part]) for part in ("lastName", "firstName", "middleName") if root.get(part))
    roles = (root.get("organizations") or {}).get("elements") or []
    places = []
    for role in roles[:MAX_ORGANISATIONS]:
        if not isinstance(role, dict) or not isinstance(role.get("oid"), int):
            continue
        org_response = await _call("GET", f"{client.server_url}/rs/orgs/{role['oid']}", headers=headers)
        organisation = _json(org_response, "rs organisation") if org_response.status_code == 200 else {}
        places.append(Place(
            oid=role["oid"], name=str(role.get("shortName") or role.get("fullName") or role["oid"]),
            type=str(role.get("type", "LEGAL")), ogrn=str(role.get("ogrn") or organisation.get("ogrn") or ""),
            inn=str(organisation.get("inn") or ""), kpp=str(organisation.get("kpp") or ""),
            admin=bool(role.get("admin") or role.get("chief")),
        ))
    return Person(oid=oid, name=name or f"OID {oid}", inn=str(root.get("inn") or ""), places=places)


async def read_employees(client: EsiaClient, org_oid: int, access_token: str) -> dict[int, bool]:
    """An organisation's employees as ESIA lists them to its administrator (``org_emps``): each
    OID with whether ESIA names them its administrator or chief; none when ESIA shows this
    person none."""
    response = await _call("GET", f"{client.server_url}/rs/orgs/{org_oid}/emps", params={"embed": "(elements)"},
                           headers={"Authorization": f"Bearer {access_token}"})
    if response.status_code != 200:
        return {}
    elements = _json(response, "rs employees").get("elements") or []
    return {element["prnOid"]: bool(element.get("admin") or element.get("chief")) for element in elements
            if isinstance(element, dict) and isinstance(element.get("prnOid"), int)}
