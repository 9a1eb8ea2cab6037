"""The rules a new account must pass (docs/esia.md §8): the password
policy, consent to personal-data processing, and the personal data checked by the same
validator the control API seeds with (:func:`.users.plan_user`), its faults turned into
Russian messages for the page.
"""

from __future__ import annotations

from typing import Any

from ...core.problems import Problem
from .users import SeedPlan, plan_user

MIN_PASSWORD = 8

#: JSON pointer of a seed fault → the form field's Russian name.
FIELD_NAMES: dict[str, str] = {
    "/person/lastName": "Фамилия",
    "/person/firstName": "Имя",
    "/person/middleName": "Отчество",
    "/person/birthDate": "Дата рождения",
    "/person/snils": "СНИЛС",
    "/snils": "СНИЛС",
    "/person/inn": "ИНН",
    "/phone": "Мобильный телефон",
    "/email": "Электронная почта",
    "/password": "Пароль",
    "/documents/0/series": "Серия паспорта",
    "/documents/0/number": "Номер паспорта",
    "/documents/0/issueDate": "Дата выдачи паспорта",
    "/documents/0/issueId": "Код подразделения",
    "/documents/0/issuedBy": "Кем выдан",
}

PASSPORT_FIELDS = (
    "passport_series",
    "passport_number",
    "passport_issue_date",
    "passport_issue_id",
    "passport_issued_by",
)


def password_faults(password: str, repeated: str) -> list[str]:
    """Why a password breaks the policy: at least 8 characters with upper and lower case
    letters, digits and special characters; and typed the same twice."""
    faults = []
    if len(password) < MIN_PASSWORD or len(password) > 128:
        faults.append(f"Пароль должен содержать от {MIN_PASSWORD} до 128 символов")
    if not any(c.isupper() for c in password) or not any(c.islower() for c in password):
        faults.append("Пароль должен содержать строчные и заглавные буквы")
    if not any(c.isdigit() for c in password):
        faults.append("Пароль должен содержать цифры")
    if not any(not c.isalnum() and not c.isspace() for c in password):
        faults.append("Пароль должен содержать специальные символы (!, @, # …)")
    if password != repeated:
        faults.append("Пароли не совпадают")
    return faults


def seed_body(form: dict[str, str]) -> dict[str, Any]:
    """The control API's seed body for what the registration form carries. SNILS and passport
    verified by the registries make a standard account; without them it is simplified."""

    def given(name: str) -> str | None:
        value = form.get(name, "").strip()
        return value or None

    names = ("lastName", "firstName", "middleName", "birthDate", "snils", "inn")
    person = {name: given(name) for name in names if given(name) is not None}
    body: dict[str, Any] = {"phone": form.get("phone", ""), "password": form.get("password", ""), "person": person}
    if given("email"):
        body["email"] = given("email")
    passport = {
        "type": "RF_PASSPORT",
        "series": given("passport_series"),
        "number": given("passport_number"),
        "issueDate": given("passport_issue_date"),
        "issueId": given("passport_issue_id"),
        "issuedBy": given("passport_issued_by"),
    }
    if any(given(name) for name in PASSPORT_FIELDS):
        body["documents"] = [{k: v for k, v in passport.items() if v is not None}]
    has_passport = given("passport_series") and given("passport_number")
    body["level"] = "standard" if has_passport and given("snils") else "simplified"
    return body


def check_registration(form: dict[str, str]) -> tuple[SeedPlan | None, list[str]]:
    """(the account to create, []) or (None, Russian messages for the page)."""
    messages: list[str] = []
    if form.get("consent") != "yes":
        messages.append("Регистрация невозможна без согласия на обработку персональных данных")
    messages.extend(password_faults(form.get("password", ""), form.get("password2", "")))
    try:
        plan = plan_user(seed_body(form))
    except Problem as problem:
        seen = set()
        for error in problem.errors or []:
            name = FIELD_NAMES.get(error["pointer"], error["pointer"])
            if name not in seen:
                seen.add(name)
                messages.append(f"{name}: неверное значение")
        return None, messages
    return (None, messages) if messages else (plan, [])
