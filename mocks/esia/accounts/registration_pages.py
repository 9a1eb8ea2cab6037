"""The Russian pages of registration, account recovery and unlock: plain forms that work in a
browser without scripts and with plain form posts (field names are the form contract)."""

from __future__ import annotations

from html import escape

from ..browser import Page
from ..pages import page

#: (field, label, input type, required) of the registration form.
REGISTRATION_FIELDS = (
    ("lastName", "Фамилия", "text", True),
    ("firstName", "Имя", "text", True),
    ("middleName", "Отчество (при наличии)", "text", False),
    ("phone", "Мобильный телефон", "tel", True),
    ("email", "Электронная почта", "email", False),
    ("birthDate", "Дата рождения (ДД.ММ.ГГГГ)", "text", False),
    ("snils", "СНИЛС", "text", False),
    ("inn", "ИНН", "text", False),
    ("passport_series", "Серия паспорта", "text", False),
    ("passport_number", "Номер паспорта", "text", False),
    ("passport_issue_date", "Дата выдачи паспорта (ДД.ММ.ГГГГ)", "text", False),
    ("passport_issue_id", "Код подразделения", "text", False),
    ("passport_issued_by", "Кем выдан", "text", False),
    ("password", "Пароль", "password", True),
    ("password2", "Повторите пароль", "password", True),
)


def _errors(messages: list[str]) -> str:
    if not messages:
        return ""
    items = "".join(f"<li>{escape(m)}</li>" for m in messages)
    return f'<ul class="error" role="alert">{items}</ul>'


def _field(name: str, label: str, kind: str, required: bool, values: dict[str, str]) -> str:
    value = "" if kind == "password" else f' value="{escape(values.get(name, ""))}"'
    flag = " required" if required else ""
    return f'<label for="{name}">{escape(label)}</label><input id="{name}" name="{name}" type="{kind}"{value}{flag}>'


def registration_form(
    values: dict[str, str] | None = None, errors: list[str] | None = None, status: int = 200
) -> Page:
    values = values or {}
    fields = "".join(_field(name, label, kind, required, values) for name, label, kind, required in REGISTRATION_FIELDS)
    body = (
        f"{_errors(errors or [])}"
        '<form method="post" action="/registration">'
        f"{fields}"
        '<label><input type="checkbox" name="consent" value="yes" style="width:auto"> '
        "Даю согласие на обработку персональных данных</label>"
        '<p class="hint">Пароль: не менее 8 символов, строчные и заглавные буквы, цифры и специальные символы.</p>'
        '<button type="submit">Зарегистрироваться</button></form>'
    )
    return page("Регистрация", body, status)


def code_form(
    action: str, rid: str, *, hint: str, errors: list[str] | None = None, new_password: bool = False, status: int = 200
) -> Page:
    """A one-time code form (registration, recovery, unlock); with the new password fields for
    recovery."""
    password = (
        '<label for="password">Новый пароль</label>'
        '<input id="password" name="password" type="password" required>'
        '<label for="password2">Повторите пароль</label>'
        '<input id="password2" name="password2" type="password" required>'
        if new_password
        else ""
    )
    body = (
        f"{_errors(errors or [])}<p>{escape(hint)}</p>"
        f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="rid" value="{escape(rid)}">'
        '<label for="code">Код подтверждения</label>'
        '<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="6" required>'
        f"{password}"
        '<button type="submit">Подтвердить</button></form>'
    )
    return page("Подтверждение", body, status)


def login_request_form(action: str, title: str, errors: list[str] | None = None, status: int = 200) -> Page:
    """Recovery and unlock start: which account (phone, e-mail or SNILS)."""
    body = (
        f"{_errors(errors or [])}"
        f'<form method="post" action="{escape(action)}">'
        '<label for="login">Телефон, почта или СНИЛС</label>'
        '<input id="login" name="login" autocomplete="username" required>'
        '<button type="submit">Получить код</button></form>'
    )
    return page(title, body, status)


def done_page(title: str, message: str, status: int = 200) -> Page:
    return page(title, f'<p class="done">{escape(message)}</p>', status)
