"""The pages a person sees, as :class:`~.browser.Page` values: the frame every page shares and the
login pages — plain Russian HTML forms that work in a real browser (no scripts) and with plain
form posts from a load generator. Registration's pages: :mod:`.accounts.registration_pages`.

Form contract (reported to the journeys in ``scenarios/esia_login.py``):

- ``GET /aas/oauth2/login?rid=…`` → form posting ``rid``, ``login``, ``password`` to
  ``POST /aas/oauth2/login``;
- ``GET /aas/oauth2/otp?rid=…`` → form posting ``rid``, ``code`` to ``POST /aas/oauth2/otp``;
- ``GET /aas/oauth2/signature?rid=…`` → the challenge in ``<code id="challenge">`` and a form
  posting ``rid``, ``signature`` (base64 CMS) and ``certificate`` (PEM, optional) to
  ``POST /aas/oauth2/signature``. The password page links to it ("Электронная подпись").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from html import escape

from .browser import Page

_STYLE = (
    "body{font-family:Lato,Arial,sans-serif;background:#f5f7fa;margin:0}"
    "main{max-width:24rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:.5rem}"
    "label{display:block;margin:.8rem 0 .2rem}input,textarea{width:100%;padding:.5rem;box-sizing:border-box}"
    "code{word-break:break-all}"
    "button{margin-top:1.2rem;width:100%;padding:.7rem;background:#0d4cd3;color:#fff;border:0;border-radius:.3rem}"
    ".error{color:#c00}.secondary{background:#fff;color:#0d4cd3;border:1px solid #0d4cd3}"
)


def page(title: str, body: str, status: int) -> Page:
    return Page(
        html='<!doctype html><html lang="ru"><head><meta charset="utf-8">'
        f"<title>{escape(title)} — Госуслуги</title>"
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{_STYLE}</style></head>'
        f"<body><main><h1>{escape(title)}</h1>{body}</main></body></html>",
        status=status,
    )


def _error(message: str | None) -> str:
    return f'<p class="error" role="alert">{escape(message)}</p>' if message else ""


def password_form(rid: str, *, error: str | None = None, login: str = "", status: int = 200) -> Page:
    """The password page; the plain one (no error, no login typed) from its prepared template."""
    if error is None and not login and status == 200:
        return Page(html=_prepared(_plain_password_page).fill(rid=rid), status=200)
    return _password_page(rid, error=error, login=login, status=status)


def _plain_password_page(slot: Callable[[str], str]) -> str:
    return _password_page(slot("rid")).html


def _password_page(rid: str, *, error: str | None = None, login: str = "", status: int = 200) -> Page:
    body = (
        f"{_error(error)}"
        f'{_ways(rid, current="password")}'
        '<form method="post" action="/aas/oauth2/login">'
        f'<input type="hidden" name="rid" value="{escape(rid)}">'
        '<label for="login">Телефон, почта или СНИЛС</label>'
        f'<input id="login" name="login" autocomplete="username" value="{escape(login)}" required>'
        '<label for="password">Пароль</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password" required>'
        '<button type="submit">Войти</button></form>'
        '<p class="links"><a href="/login/recovery">Восстановить пароль</a> · '
        '<a href="/login/unlock">Разблокировать учётную запись</a> · '
        '<a href="/registration">Зарегистрироваться</a></p>'
    )
    return page("Вход", body, status)


def _ways(rid: str, *, current: str) -> str:
    """The two ways in, side by side: the current one named, the other one a link."""
    ways = (("password", "Пароль", "/aas/oauth2/login"), ("signature", "Электронная подпись", "/aas/oauth2/signature"))
    items = [f"<strong>{label}</strong>" if name == current else f'<a href="{path}?rid={escape(rid)}">{label}</a>'
             for name, label, path in ways]
    return f'<p class="ways">Способ входа: {" · ".join(items)}</p>'


def signature_form(rid: str, challenge: str, *, lifetime: int, error: str | None = None, status: int = 200) -> Page:
    """The signature login: the challenge to sign and the form that returns the signature."""
    body = (
        f"{_error(error)}"
        f'{_ways(rid, current="signature")}'
        "<p>Подпишите строку ниже квалифицированной электронной подписью (отсоединённая подпись CMS, "
        f"ГОСТ Р 34.10-2012). Строка действует {lifetime // 60} минут и подходит для одного входа.</p>"
        f'<p><code id="challenge">{escape(challenge)}</code></p>'
        '<form method="post" action="/aas/oauth2/signature">'
        f'<input type="hidden" name="rid" value="{escape(rid)}">'
        '<label for="signature">Подпись (base64)</label>'
        '<textarea id="signature" name="signature" rows="6" required></textarea>'
        '<label for="certificate">Сертификат (PEM), если его нет в подписи</label>'
        '<textarea id="certificate" name="certificate" rows="4"></textarea>'
        '<button type="submit">Войти</button></form>'
    )
    return page("Вход с электронной подписью", body, status)


def otp_form(
    rid: str, *, masked_phone: str, error: str | None = None, status: int = 200, totp: bool = False
) -> Page:
    """The second factor: the SMS code, or (``totp``) the code of the authenticator app; without
    an error, from its prepared template."""
    if error is None and status == 200:
        template = _prepared(_plain_totp_page if totp else _plain_sms_page)
        return Page(html=template.fill(rid=rid, phone=masked_phone), status=200)
    return _otp_page(rid, masked_phone=masked_phone, error=error, status=status, totp=totp)


def _plain_sms_page(slot: Callable[[str], str]) -> str:
    return _otp_page(slot("rid"), masked_phone=slot("phone")).html


def _plain_totp_page(slot: Callable[[str], str]) -> str:
    return _otp_page(slot("rid"), masked_phone="", totp=True).html


def _otp_page(
    rid: str, *, masked_phone: str, error: str | None = None, status: int = 200, totp: bool = False
) -> Page:
    if totp:
        hint, label = "Введите код из приложения-аутентификатора.", "Код из приложения"
    else:
        hint, label = f"Код отправлен на номер {escape(masked_phone)}. Он действует 10 минут.", "Код из СМС"
    body = (
        f"{_error(error)}"
        f"<p>{hint}</p>"
        '<form method="post" action="/aas/oauth2/otp">'
        f'<input type="hidden" name="rid" value="{escape(rid)}">'
        f'<label for="code">{label}</label>'
        '<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" '
        'pattern="[0-9]{6}" maxlength="6" required>'
        '<button type="submit">Продолжить</button></form>'
    )
    return page("Подтверждение входа", body, status)


def message_page(title: str, message: str, *, status: int) -> Page:
    return page(title, f'<p class="error" role="alert">{escape(message)}</p>', status)


def mask_phone(phone: str | None) -> str:
    """``+79991234567`` → ``+7(999)***-**-67``."""
    if not phone or len(phone) != 12:
        return "***"
    return f"+7({phone[2:5]})***-**-{phone[-2:]}"


#: Where a template's value goes: a name between two NUL characters, which no escaped value holds.
_SLOT = re.compile("\x00([a-z]+)\x00")


class _Template:
    """A page rendered once with named slots for its values: filling it in is one join of the
    page's fixed text with the values escaped as the renderer escapes them (every value the
    login pages show goes through :func:`html.escape`), so the page is the same text."""

    def __init__(self, render: Callable[[Callable[[str], str]], str]) -> None:
        pieces = _SLOT.split(render(lambda name: f"\x00{name}\x00"))
        self._texts, self._slots = pieces[0::2], pieces[1::2]

    def fill(self, **values: str) -> str:
        escaped = [escape(values[name]) for name in self._slots]
        parts = [self._texts[0]]
        for value, text in zip(escaped, self._texts[1:], strict=True):
            parts.append(value)
            parts.append(text)
        return "".join(parts)


@cache
def _prepared(render: Callable[[Callable[[str], str]], str]) -> _Template:
    """``render``'s template, made once per process."""
    return _Template(render)
