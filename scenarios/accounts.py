"""A person signing in to a personal account (FTS's, FGIS UTKO's, or any system with a login URL
that sends the browser to ESIA), written once against :class:`scenarios.http.HttpClient`.

``GET <account>/login`` → ESIA's pages (password, SMS code, consent, :func:`.esia_login.sign_in`)
→ ``<account>/login/callback`` → the choice of whom to act for → the list. Each request is named
(``account: login``, ``account: callback``, ``account: choose``, ``account: list``,
``account: registration``, ``account: consent``, ``account: logout``) so load statistics group
them; an answer the journey does not expect raises :class:`AccountJourneyError` naming the step.
The client must keep cookies, as a browser does.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

from . import esia_login
from .http import HttpClient, HttpResponse

__all__ = ["AccountJourneyError", "SignedIn", "choices", "choose", "logout", "open_list", "register_organisation",
           "sign_in", "sign_in_with_signature"]

_CHOICE = re.compile(r'data-choice="([^"]+)"')
_ROW = re.compile(r"<tr>(.*?)</tr>", re.S)
_CELL = re.compile(r"<td>(.*?)</td>", re.S)
_MESSAGE = re.compile(r'role="alert">([^<]*)<')


class AccountJourneyError(Exception):
    def __init__(self, step: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step
        self.status = status


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Where the callback sent the browser (``/account/choose`` on the stand's accounts)."""

    location: str
    #: The callback URL ESIA sent the browser back to (with ``code`` and ``state``).
    callback_url: str


def _said(response: HttpResponse) -> str:
    found = _MESSAGE.search(response.text)
    return html.unescape(found.group(1)) if found else response.text[:200]


def _expect_redirect(step: str, response: HttpResponse) -> str:
    if response.status not in (301, 302, 303, 307) or not response.location:
        raise AccountJourneyError(step, f"expected a redirect, got HTTP {response.status}: {_said(response)}",
                                  status=response.status)
    return response.location


def start(http: HttpClient, account_url: str) -> str:
    """``GET /login``: the ESIA authorization URL the account sends the browser to."""
    return urljoin(account_url, _expect_redirect(
        "account: login", http.send("GET", f"{account_url}/login", name="account: login")))


def sign_in(http: HttpClient, *, account_url: str, esia_url: str, login: str, password: str,
            read_sms: Callable[[str], str], phone: str | None = None) -> SignedIn:
    """The whole sign-in up to the account's answer to its callback."""
    authorization_url = start(http, account_url)
    back_to = esia_login.sign_in(http, esia_url=esia_url, authorization_url=authorization_url, login=login,
                                 password=password, read_sms=read_sms, phone=phone)
    return SignedIn(location=callback(http, back_to), callback_url=back_to)


def sign_in_with_signature(http: HttpClient, *, account_url: str, esia_url: str, sign: esia_login.Sign) -> SignedIn:
    """:func:`sign_in` with an electronic signature at ESIA instead of the password and SMS code
    (``sign``: :func:`scenarios.gost.cms_signer` of a certificate the stand's CA issued)."""
    back_to = esia_login.sign_in_with_signature(http, esia_url=esia_url, authorization_url=start(http, account_url),
                                                sign=sign)
    return SignedIn(location=callback(http, back_to), callback_url=back_to)


def callback(http: HttpClient, url: str) -> str:
    """Follow ESIA's redirect to the account's callback; where the account sends the browser next."""
    return _expect_redirect("account: callback", http.send("GET", url, name="account: callback"))


def choices(http: HttpClient, account_url: str) -> list[str]:
    """The ``choice`` values the choice page offers (``self``, ``org:<oid>``…)."""
    page = http.send("GET", f"{account_url}/account/choose", name="account: choices")
    if page.status != 200:
        raise AccountJourneyError("account: choices", f"HTTP {page.status}", status=page.status)
    return _CHOICE.findall(page.text)


def choose(http: HttpClient, account_url: str, choice: str) -> str:
    """Act for ``choice``; where the account goes next (``/account``, or its registration)."""
    return _expect_redirect("account: choose", http.send(
        "POST", f"{account_url}/account/choose", name="account: choose", data={"choice": choice}))


def register_organisation(http: HttpClient, account_url: str, identifier: str, *, decision: str = "agree") -> str:
    """The first-login registration: the INN or OGRN, then the consent ``decision``; returns where
    the account goes after it (``/account`` once registered)."""
    _expect_redirect("account: registration", http.send(
        "POST", f"{account_url}/account/registration", name="account: registration",
        data={"identifier": identifier}))
    answer = http.send("POST", f"{account_url}/account/registration/consent", name="account: consent",
                       data={"decision": decision})
    if decision != "agree":
        if answer.status != 200:
            raise AccountJourneyError("account: consent", f"HTTP {answer.status}", status=answer.status)
        return ""
    return _expect_redirect("account: consent", answer)


def open_list(http: HttpClient, account_url: str) -> list[list[str]]:
    """The rows of the account's list (declarations or objects) for whom the session acts."""
    page = http.send("GET", f"{account_url}/account", name="account: list")
    if page.status != 200 or 'id="list"' not in page.text:
        where = page.location or _said(page)
        raise AccountJourneyError("account: list", f"HTTP {page.status}: {where}", status=page.status)
    return [[html.unescape(cell) for cell in _CELL.findall(row)] for row in _ROW.findall(page.text)
            if "<td>" in row]


def logout(http: HttpClient, account_url: str) -> str:
    """``POST /logout`` and ESIA's logout after it; the page the browser ends on."""
    to_esia = _expect_redirect("account: logout", http.send("POST", f"{account_url}/logout", name="account: logout"))
    back = _expect_redirect("esia: logout", http.send("GET", urljoin(account_url, to_esia), name="esia: logout"))
    return back
