"""The user side: registration with an SMS code (10 min) and an e-mail activation link (24 h),
personal data and the password policy checked, consent recorded with its time (refusal blocks
registration); recovery and unlock by a one-time code; SSO sessions that end after inactivity."""

from __future__ import annotations

import pytest
from esia_stand import ESIA, PASSWORD, make_stand, new_phone, new_snils
from gosstand.scenarios.esia_login import EsiaJourneyError

NEW_PASSWORD = "Новый#Пароль2"


@pytest.fixture
def stand(service_client, control_headers):
    return make_stand(service_client, control_headers)


def form(**overrides: str) -> dict[str, str]:
    values = {
        "lastName": "Кузнецова",
        "firstName": "Анна",
        "middleName": "Игоревна",
        "phone": new_phone(),
        "email": "anna.k@example.ru",
        "birthDate": "12.07.1992",
        "snils": new_snils(),
        "inn": "500500123491",
        "passport_series": "4512",
        "passport_number": "654321",
        "passport_issue_date": "20.08.2012",
        "passport_issue_id": "772-015",
        "passport_issued_by": "ОУФМС по г. Москве",
        "password": PASSWORD,
        "password2": PASSWORD,
        "consent": "yes",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def post(stand, path: str, data: dict[str, str]):
    return stand.http.send("POST", f"{ESIA}{path}", name=path, data=data)


def register(stand, data: dict[str, str]):
    """The whole registration: form, SMS code; returns the answer of the confirmation."""
    started = post(stand, "/registration", data)
    assert started.status == 302, started.text
    rid = started.location.split("rid=")[1]
    page = stand.http.send("GET", started.location, name="confirm page")
    assert page.status == 200 and "Код отправлен на номер" in page.text
    return post(stand, "/registration/confirm", {"rid": rid, "code": stand.control.read_sms(data["phone"])})


def oid_of(stand, phone: str) -> int:
    stand.phones[0] = phone
    tokens = stand.login(0, "openid fullname")
    return tokens.oid


def test_registration_creates_a_standard_account_that_logs_in(stand):
    data = form()
    now = stand.control.now("esia")
    done = register(stand, data)
    assert done.status == 201 and "Учётная запись создана" in done.text
    oid = oid_of(stand, data["phone"])
    record = stand.control.user(oid)
    assert record["level"] == "standard" and record["person"]["snils"] == data["snils"]
    consent = record["registration"]["consents"][0]
    assert consent["type"] == "personal_data_processing" and consent["given"] is True
    assert abs(consent["given_at"] - now) < 5
    assert record["documents"][0]["issueId"] == "772015"


def test_email_activation_link_works_for_24_hours(stand):
    data = form(email="first@example.ru")
    register(stand, data)
    mail = stand.control.mails("first@example.ru")[-1]
    assert mail["link"].startswith(f"{ESIA}/registration/activate?token=")
    oid = oid_of(stand, data["phone"])
    email = next(c for c in stand.control.user(oid)["contacts"] if c["type"] == "EML")
    assert email["vrfStu"] == "NOT_VERIFIED"
    assert stand.http.send("GET", mail["link"], name="activate").status == 200
    email = next(c for c in stand.control.user(oid)["contacts"] if c["type"] == "EML")
    assert email["vrfStu"] == "VERIFIED"
    assert stand.http.send("GET", mail["link"], name="activate").status == 400  # used

    late = form(email="late@example.ru")
    register(stand, late)
    link = stand.control.mails("late@example.ru")[-1]["link"]
    stand.control.advance_clock("esia", 24 * 3600 + 1)
    expired = stand.http.send("GET", link, name="activate")
    assert expired.status == 400 and "срок истёк" in expired.text


def test_without_passport_and_snils_the_account_is_simplified(stand):
    data = form(
        snils=None,
        passport_series=None,
        passport_number=None,
        passport_issue_date=None,
        passport_issue_id=None,
        passport_issued_by=None,
        email=None,
        inn=None,
    )
    assert register(stand, data).status == 201
    assert stand.control.user(oid_of(stand, data["phone"]))["level"] == "simplified"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"consent": None}, "без согласия на обработку персональных данных"),
        ({"password": "short1!", "password2": "short1!"}, "от 8 до 128 символов"),
        ({"password": "alllower1!", "password2": "alllower1!"}, "строчные и заглавные"),
        ({"password": "NoDigits!!", "password2": "NoDigits!!"}, "цифры"),
        ({"password": "NoSpecial12", "password2": "NoSpecial12"}, "специальные символы"),
        ({"password2": "Other1!pass"}, "Пароли не совпадают"),
        ({"snils": "112-233-445 96"}, "СНИЛС: неверное значение"),
        ({"inn": "500500123492"}, "ИНН: неверное значение"),
        ({"birthDate": "31.02.1990"}, "Дата рождения: неверное значение"),
        ({"passport_number": "12345"}, "Номер паспорта: неверное значение"),
        ({"phone": "+7 123 456"}, "Мобильный телефон: неверное значение"),
        ({"lastName": ""}, "Фамилия: неверное значение"),
    ],
)
def test_the_form_refuses_with_a_russian_reason_and_stores_nothing(stand, overrides, message):
    data = form(**overrides)
    answer = post(stand, "/registration", data)
    assert answer.status == 400 and message in answer.text
    assert 'value="Кузнецова"' in answer.text or overrides.get("lastName") == ""  # the form keeps what was typed
    if "phone" not in overrides:
        assert stand.control.sms_messages(data["phone"]) == []


def test_the_sms_code_is_valid_ten_minutes_and_phones_are_unique(stand):
    data = form()
    started = post(stand, "/registration", data)
    rid = started.location.split("rid=")[1]
    stand.control.advance_clock("esia", 601)
    late = post(stand, "/registration/confirm", {"rid": rid, "code": stand.control.read_sms(data["phone"])})
    assert late.status == 400 and "Срок действия кода истёк" in late.text
    assert register(stand, data).status == 201
    again = post(stand, "/registration", form(phone=data["phone"]))
    assert again.status == 409 and "уже зарегистрирован" in again.text


def test_the_registration_page_is_a_russian_form(stand):
    page = stand.http.send("GET", f"{ESIA}/registration", name="registration")
    assert page.status == 200 and 'lang="ru"' in page.text
    for name in ("lastName", "phone", "email", "snils", "passport_series", "password2", "consent"):
        assert f'name="{name}"' in page.text


# --- recovery, unlock, sessions ---------------------------------------------------------------


def test_recovery_sets_a_new_password_by_a_one_time_code(stand):
    oid = stand.seed()
    phone = stand.phones[oid]
    started = post(stand, "/login/recovery", {"login": phone})
    rid = started.location.split("rid=")[1]
    weak = post(
        stand,
        "/login/recovery/confirm",
        {"rid": rid, "code": stand.control.read_sms(phone), "password": "weak", "password2": "weak"},
    )
    assert weak.status == 400 and "Пароль должен" in weak.text
    done = post(
        stand,
        "/login/recovery/confirm",
        {"rid": rid, "code": stand.control.read_sms(phone), "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert done.status == 200 and "Пароль изменён" in done.text
    with pytest.raises(EsiaJourneyError):
        stand.login(oid)  # the old password no longer works
    assert stand.login(oid, password=NEW_PASSWORD).oid == oid
    unknown = post(stand, "/login/recovery", {"login": "+79990009999"})
    assert unknown.status == 400 and "не найдена" in unknown.text


def test_recovery_by_email_sends_the_code_by_mail(stand):
    oid = stand.seed(email="mail.user@example.ru")
    started = post(stand, "/login/recovery", {"login": "Mail.User@example.ru"})
    code = stand.control.mails("mail.user@example.ru")[-1]["code"]
    done = post(
        stand,
        "/login/recovery/confirm",
        {"rid": started.location.split("rid=")[1], "code": code, "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert done.status == 200
    assert stand.login(oid, password=NEW_PASSWORD).oid == oid


def test_unlock_ends_a_lockout_by_a_one_time_code(stand):
    oid = stand.seed()
    phone = stand.phones[oid]
    for _ in range(3):
        with pytest.raises(EsiaJourneyError):
            stand.login(oid, password="Wrong-pass1")
    with pytest.raises(EsiaJourneyError) as locked:
        stand.login(oid)
    assert "заблокирована" in str(locked.value)
    started = post(stand, "/login/unlock", {"login": phone})
    rid = started.location.split("rid=")[1]
    wrong = post(
        stand,
        "/login/unlock/confirm",
        {"rid": rid, "code": "000000" if stand.control.read_sms(phone) != "000000" else "111111"},
    )
    assert wrong.status == 400 and "Неверный код" in wrong.text
    assert post(stand, "/login/unlock/confirm", {"rid": rid, "code": stand.control.read_sms(phone)}).status == 200
    assert stand.login(oid).oid == oid
    # A recovery code cannot be spent on the unlock form and vice versa.
    again = post(stand, "/login/recovery", {"login": phone})
    crossed = post(stand, "/login/unlock/confirm", {"rid": again.location.split("rid=")[1], "code": "1"})
    assert crossed.status == 400


def test_sso_session_ends_after_thirty_minutes_without_use(stand):
    oid = stand.seed()
    stand.login(oid)
    for _ in range(3):  # used every 20 minutes: stays alive past 30 minutes in total
        stand.control.advance_clock("esia", 20 * 60)
        params = stand.rp.authorization_params("openid fullname")
        assert "code=" in stand.ac(params).location
    stand.control.advance_clock("esia", 31 * 60)
    params = stand.rp.authorization_params("openid fullname")
    assert "/aas/oauth2/login?rid=" in stand.ac(params).location


PAGES = (
    "/registration",
    "/registration/confirm",
    "/login/recovery",
    "/login/recovery/confirm",
    "/login/unlock",
    "/login/unlock/confirm",
    "/aas/oauth2/consent",
    "/aas/oauth2/otp",
    "/aas/oauth2/login",
)


@pytest.mark.parametrize("path", PAGES)
def test_page_forms_never_fail_with_a_5xx(stand, path):
    bodies = [
        {"data": {}},
        {
            "data": {
                "rid": "\x00" * 300,
                "code": "ⅷ" * 10,
                "login": "@" * 400,
                "password": "x" * 5000,
                "decision": "allow",
                "consent": "yes",
                "phone": "+7" + "9" * 50,
            }
        },
        {"json": {"rid": 1}},
        {
            "data": {
                "birthDate": "99.99.9999",
                "snils": "-",
                "passport_series": "٤٥١٠",
                "password": "Aa1!aaaa",
                "password2": "Aa1!aaaa",
                "consent": "yes",
                "phone": "+79990001234",
                "lastName": "X",
                "firstName": "Y",
            }
        },
    ]
    for body in bodies:
        answer = stand.http.send("POST", f"{ESIA}{path}", name=path, **body)
        assert answer.status < 500, (body, answer.text[:300])
    assert stand.http.send("GET", f"{ESIA}{path}?rid=%00", name=path).status < 500
