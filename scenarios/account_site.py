"""Finding one's way through a personal account the journey was not written for, as a person
does: from its login URL along redirects (or the page's "Войти через Госуслуги" link or form)
to ESIA, from ESIA back to its callback and along redirects to the page it opens, and out again
by the page's logout form or link — so the conformance suite checks a target's own account
without agreeing its paths in advance.

What an account must offer for this: a login URL that leads to ESIA's authorization request
(by redirects, or a page with one link or form naming Госуслуги/ESIA); a callback that, once the
sign-in succeeded, leads by redirects to a page answering 200 — and that page answering anything
but 200 (a redirect, 401, 403) without a session; a logout form or link on that page (its
action, link or button saying log out, sign out, «Выйти» or «Выход»). Every walk is bounded by
:data:`MAX_HOPS`.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from .accounts import AccountJourneyError
from .html_forms import Form, Link, read_page
from .http import HttpClient, HttpResponse

__all__ = ["MAX_HOPS", "authorization_url", "in_session", "landing", "log_out"]

#: At most this many redirects or page steps in any one walk.
MAX_HOPS = 8
_REDIRECTS = (301, 302, 303, 307, 308)
_TO_ESIA = re.compile(r"госуслуг|есиа|esia|gosuslugi", re.IGNORECASE)
_LOG_OUT = re.compile(r"log-?out|sign-?out|logoff|выйти|выход", re.IGNORECASE)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _submit(http: HttpClient, form: Form, step: str) -> HttpResponse:
    if form.method == "POST":
        return http.send("POST", form.action, name=step, data=dict(form.fields))
    return http.send("GET", form.action, name=step, params=dict(form.fields) or None)


def _leading(forms: list[Form], links: list[Link], pattern: re.Pattern[str]) -> Form | Link | None:
    """The form or link whose target matches ``pattern`` (a form first), else the first whose
    words do."""
    ways: list[Form | Link] = [*forms, *links]
    by_target = (way for way in ways if pattern.search(way.action if isinstance(way, Form) else way.href))
    by_words = (way for way in ways if pattern.search(way.text))
    return next(by_target, None) or next(by_words, None)


def authorization_url(http: HttpClient, login_url: str, *, esia_url: str) -> str:
    """The ESIA authorization request the account's sign-in sends the browser to."""
    step, answer, url = "account: login", http.send("GET", login_url, name="account: login"), login_url
    for _ in range(MAX_HOPS):
        if answer.status in _REDIRECTS and answer.location:
            url = urljoin(url, answer.location)
            if _origin(url) == _origin(esia_url):
                return url
            answer = http.send("GET", url, name=step)
            continue
        if answer.status == 200:
            way = _leading(*read_page(answer.text, url), _TO_ESIA)
            if way is not None:
                answer = _submit(http, way, step) if isinstance(way, Form) else http.send("GET", way.href, name=step)
                url = way.action if isinstance(way, Form) else way.href
                continue
        break
    raise AccountJourneyError(step, f"{login_url} did not lead to ESIA ({esia_url}): the walk ended at {url} "
                                    f"with HTTP {answer.status}", status=answer.status)


def landing(http: HttpClient, callback_url: str) -> str:
    """Follow ESIA's redirect to the account's callback and the account's redirects after it:
    the URL of the page the sign-in opens."""
    url, answer = callback_url, http.send("GET", callback_url, name="account: callback")
    for _ in range(MAX_HOPS):
        if answer.status == 200:
            return url
        if answer.status not in _REDIRECTS or not answer.location:
            break
        url = urljoin(url, answer.location)
        answer = http.send("GET", url, name="account: page")
    raise AccountJourneyError("account: callback", f"the sign-in did not open a page: HTTP {answer.status} at "
                                                   f"{url}", status=answer.status)


def in_session(http: HttpClient, page_url: str) -> bool:
    """Whether ``page_url`` (a page the sign-in opened) answers this browser as signed in."""
    return http.send("GET", page_url, name="account: page").status == 200


def log_out(http: HttpClient, page_url: str) -> str:
    """Use the logout form or link of ``page_url`` and follow the redirects after it (through
    ESIA's logout and back): the URL the browser ends at."""
    page = http.send("GET", page_url, name="account: page")
    way = _leading(*read_page(page.text, page_url), _LOG_OUT) if page.status == 200 else None
    if way is None:
        raise AccountJourneyError("account: logout", f"{page_url} shows no logout form or link", status=page.status)
    url = way.action if isinstance(way, Form) else way.href
    answer = _submit(http, way, "account: logout") if isinstance(way, Form) else http.send(
        "GET", url, name="account: logout")
    for _ in range(MAX_HOPS):
        if answer.status not in _REDIRECTS or not answer.location:
            return url
        url = urljoin(url, answer.location)
        answer = http.send("GET", url, name="account: logout")
    raise AccountJourneyError("account: logout", f"more than {MAX_HOPS} redirects after logout, at {url}")
