"""Realistic Russian test identities whose numbers pass the real checks.

A Faker provider for ``ru_RU`` that adds what Faker lacks or gets wrong
(docs/identifiers.md, docs/pitfalls.md): formatted SNILS, mobile-only phones in E.164 and
in ESIA's ``+7(9XX)XXXXXXX`` form, internal passports with division codes, gender-consistent
full names, legal entities and sole proprietors with matching INN/KPP/OGRN(IP), vehicle plates
in the 12 Cyrillic plate letters, TN VED and FKKO codes, and bank details whose account keys
verify against the BIK (Faker's own accounts do not).

Every value comes from the Faker instance's random generator and a fixed calendar window —
never from today's date — so ``russian_faker(seed=7)`` yields the same people on every machine
and every day. The check digits are computed here, independently of the mocks' validators; the
project's tests judge this output with the conformance oracle.

Usage::

    fake = russian_faker(seed=42)
    fake.person_record()      # the dict the load test seeds ESIA users from
    fake.legal_entity()       # LegalEntity(name, inn, kpp, ogrn)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from ..extras import require

try:
    from faker import Faker
    from faker.providers import BaseProvider
    from faker.providers.person.ru_RU import translit
except ImportError:
    require("the test identities (gosstand.scenarios.identities)", "load", modules=("faker",))
    raise

__all__ = [
    "PLATE_LETTERS",
    "BankDetails",
    "LegalEntity",
    "Passport",
    "Person",
    "RussianIdentityProvider",
    "SoleProprietor",
    "russian_faker",
]

#: The Cyrillic letters that have Latin look-alikes, the only ones plates use.
PLATE_LETTERS = "АВЕКМНОРСТУХ"

#: Birth dates are drawn from this window (everyone is an adult on any date after 2023).
BIRTH_WINDOW = (dt.date(1950, 1, 1), dt.date(2005, 12, 31))
#: Issue dates never go beyond this day, so output does not depend on when it is generated.
LATEST_ISSUE = dt.date(2025, 12, 31)

# (subject code for INN/KPP/division codes, OKATO code in passport series, issuing authority
#  in the dative case, a city of birth)
_REGIONS: tuple[tuple[str, str, str, str], ...] = (
    ("77", "45", "г. Москве", "г. Москва"),
    ("78", "40", "г. Санкт-Петербургу и Ленинградской области", "г. Ленинград"),
    ("50", "46", "Московской области", "г. Подольск"),
    ("61", "60", "Ростовской области", "г. Ростов-на-Дону"),
    ("23", "03", "Краснодарскому краю", "г. Краснодар"),
    ("66", "65", "Свердловской области", "г. Свердловск"),
    ("16", "92", "Республике Татарстан", "г. Казань"),
    ("54", "50", "Новосибирской области", "г. Новосибирск"),
    ("52", "22", "Нижегородской области", "г. Горький"),
    ("63", "36", "Самарской области", "г. Куйбышев"),
)
#: The birth places above under their present names, for addresses.
_RENAMED = {"г. Ленинград": "г. Санкт-Петербург", "г. Свердловск": "г. Екатеринбург",
            "г. Горький": "г. Нижний Новгород", "г. Куйбышев": "г. Самара"}
#: Legal forms: OKOPF code, short and long name.
_LEGAL_FORMS: tuple[tuple[str, str, str], ...] = (
    ("12300", "ООО", "Общество с ограниченной ответственностью"),
    ("12267", "АО", "Акционерное общество"),
    ("12247", "ПАО", "Публичное акционерное общество"),
)
#: Plate region codes: the subject codes above plus later three-digit series.
_PLATE_REGIONS = ("77", "97", "99", "177", "197", "777", "799", "78", "98", "178", "50", "90", "150",
                  "190", "750", "61", "161", "23", "93", "123", "66", "96", "16", "116", "54", "52", "63")
#: Mobile operator codes (DEF 9xx).
_MOBILE_CODES = ("900", "901", "903", "905", "906", "909", "912", "915", "916", "917", "919", "921",
                 "925", "926", "929", "937", "950", "958", "977", "985", "995", "999")
_OFFICE_KINDS = ("ГУ МВД России по", "ОУФМС России по", "Отделом УФМС России по", "Отделением УФМС России по")

_INN_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_ACCOUNT_WEIGHTS = (7, 1, 3)


def _inn_digit(body: str) -> str:
    weights = _INN_WEIGHTS[-len(body):]
    return str(sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11 % 10)


def _snils_control(nine: str) -> str:
    total = sum(int(d) * (9 - i) for i, d in enumerate(nine))
    control = total if total < 100 else total % 101
    return "00" if control >= 100 else f"{control:02d}"


def _with_account_key(account: str, prefix: str) -> str:
    """Fill digit 9 of a 20-digit account so that prefix + account passes the 7-1-3 key check."""
    for key in "0123456789":
        candidate = account[:8] + key + account[9:]
        full = prefix + candidate
        if sum(int(d) * _ACCOUNT_WEIGHTS[i % 3] % 10 for i, d in enumerate(full)) % 10 == 0:
            return candidate
    raise AssertionError("unreachable: the key position has weight 3, invertible mod 10")


@dataclass(frozen=True, slots=True)
class Passport:
    series: str  # 4 digits: OKATO region + two digits of the blank's year
    number: str  # 6 digits
    issue_date: dt.date
    division_code: str  # XXX-XXX
    issued_by: str

    @property
    def division_code_digits(self) -> str:
        """The division code as ESIA stores it (``issueId``), without the hyphen."""
        return self.division_code.replace("-", "")


@dataclass(frozen=True, slots=True)
class Person:
    last_name: str
    first_name: str
    middle_name: str
    gender: str  # "M" | "F"
    birth_date: dt.date
    birth_place: str
    snils: str  # XXX-XXX-XXX YY
    inn: str  # 12 digits
    phone: str  # +79XXXXXXXXX
    email: str
    password: str
    passport: Passport

    @property
    def esia_phone(self) -> str:
        """``+7(9XX)XXXXXXX``, the form ESIA stores and returns."""
        return f"+7({self.phone[2:5]}){self.phone[5:]}"


@dataclass(frozen=True, slots=True)
class LegalEntity:
    name: str
    inn: str  # 10 digits
    kpp: str  # 9 digits (digits only, so FTS formats accept it too)
    ogrn: str  # 13 digits


@dataclass(frozen=True, slots=True)
class SoleProprietor:
    full_name: str
    inn: str  # 12 digits
    ogrnip: str  # 15 digits


@dataclass(frozen=True, slots=True)
class BankDetails:
    bank_name: str
    bik: str
    correspondent_account: str
    checking_account: str


class RussianIdentityProvider(BaseProvider):
    """Adds Russian identities to a ``Faker("ru_RU")`` instance (see :func:`russian_faker`)."""

    # -- small pieces ----------------------------------------------------------------------
    def _digits(self, count: int) -> str:
        return "".join(str(self.random_digit()) for _ in range(count))

    def _region(self) -> tuple[str, str, str, str]:
        return self.random_element(_REGIONS)

    def _tax_office(self, subject: str | None = None) -> str:
        """Four digits: subject code + inspection number (never ``00``)."""
        return (subject or self._region()[0]) + f"{self.random_int(1, 52):02d}"

    def _date_between(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.random_int(0, (end - start).days))

    # -- taxpayer and registration numbers --------------------------------------------------
    def inn_legal(self, *, tax_office: str | None = None) -> str:
        """10-digit INN of an organisation."""
        body = (tax_office or self._tax_office()) + self._digits(5)
        return body + _inn_digit(body)

    def inn_person(self, *, tax_office: str | None = None) -> str:
        """12-digit INN of a person or sole proprietor."""
        body = (tax_office or self._tax_office()) + self._digits(6)
        body += _inn_digit(body)
        return body + _inn_digit(body)

    def kpp_code(self, *, tax_office: str | None = None, reason: str | None = None) -> str:
        """9-digit KPP: tax office, reason (01 head office, 43 branch…), sequence number."""
        reason = reason or self.random_element(("01", "01", "01", "43", "45"))
        return (tax_office or self._tax_office()) + reason + f"{self.random_int(1, 999):03d}"

    def ogrn_legal(self, *, subject: str | None = None) -> str:
        """13-digit OGRN: sign 1 or 5, year (2002–2025), subject, 7 digits, check digit."""
        body = (self.random_element("1" * 9 + "5") + f"{self.random_int(2, 25):02d}"
                + (subject or self._region()[0]) + self._digits(7))
        return body + str(int(body) % 11 % 10)

    def ogrnip(self, *, subject: str | None = None) -> str:
        """15-digit OGRNIP: 3, year (2004–2025), subject, 9 digits, check = n mod 13 mod 10.
        (Faker's ``individuals_ogrn`` is right too; python-stdnum's check is not.)"""
        body = "3" + f"{self.random_int(4, 25):02d}" + (subject or self._region()[0]) + self._digits(9)
        return body + str(int(body) % 13 % 10)

    def snils_digits(self) -> str:
        """11 bare digits, above ``001-001-998`` so the control number is meaningful."""
        nine = f"{self.random_int(1_001_999, 999_999_999):09d}"
        return nine + _snils_control(nine)

    def snils_formatted(self) -> str:
        """``XXX-XXX-XXX YY``, the form ESIA returns."""
        d = self.snils_digits()
        return f"{d[:3]}-{d[3:6]}-{d[6:9]} {d[9:]}"

    # -- contacts ---------------------------------------------------------------------------
    def mobile_e164(self) -> str:
        """A Russian mobile number ``+79XXXXXXXXX`` (Faker's ``phone_number`` is rarely mobile)."""
        return "+7" + self.random_element(_MOBILE_CODES) + self._digits(7)

    def mobile_esia(self) -> str:
        """The same kind of number in ESIA's stored form ``+7(9XX)XXXXXXX``."""
        number = self.mobile_e164()
        return f"+7({number[2:5]}){number[5:]}"

    def email_for(self, first_name: str, last_name: str) -> str:
        """A transliterated address with a numeric tail, so seeded users rarely collide."""
        local = f"{translit(first_name)}.{translit(last_name)}".lower().replace("'", "")
        return f"{local}{self.random_int(10, 99999)}@{self.generator.free_email_domain()}"

    def esia_password(self) -> str:
        """12 characters with upper and lower case letters, digits and special characters."""
        return self.generator.password(length=12, special_chars=True, digits=True, upper_case=True,
                                       lower_case=True)

    # -- documents --------------------------------------------------------------------------
    def division_code(self, *, subject: str | None = None) -> str:
        """Passport-issuing division ``XXX-XXX``: subject, kind of unit (0–3), unit number."""
        return f"{subject or self._region()[0]}{self.random_int(0, 3)}-{self.random_int(1, 999):03d}"

    def passport_ru(self, *, birth_date: dt.date | None = None) -> Passport:
        """An internal passport issued at 14, 20 or 45 (as the law replaces them) or after."""
        subject, okato, authority, _ = self._region()
        birth_date = birth_date or self._date_between(*BIRTH_WINDOW)
        ages = [age for age in (45, 20, 14) if _add_years(birth_date, age) <= LATEST_ISSUE]
        age = ages[0] if ages else 14
        earliest = _add_years(birth_date, age)
        issue_date = self._date_between(earliest, min(earliest + dt.timedelta(days=90), LATEST_ISSUE))
        return Passport(
            series=okato + f"{issue_date.year % 100:02d}",
            number=f"{self.random_int(100_000, 999_999)}",
            issue_date=issue_date,
            division_code=self.division_code(subject=subject),
            issued_by=f"{self.random_element(_OFFICE_KINDS)} {authority}",
        )

    # -- people and organisations -----------------------------------------------------------
    def full_name_parts(self, *, gender: str) -> tuple[str, str, str]:
        """(last, first, middle) of one gender — Faker's ``name()`` mixes orders and genders."""
        if gender == "F":
            return (self.generator.last_name_female(), self.generator.first_name_female(),
                    self.generator.middle_name_female())
        return (self.generator.last_name_male(), self.generator.first_name_male(),
                self.generator.middle_name_male())

    def person_identity(self, *, gender: str | None = None) -> Person:
        """A consistent person: names, birth date and place, SNILS, INN, phone, e-mail, passport."""
        gender = gender or self.random_element(("M", "F"))
        last, first, middle = self.full_name_parts(gender=gender)
        birth_date = self._date_between(*BIRTH_WINDOW)
        subject, _, _, birth_city = self._region()
        return Person(
            last_name=last,
            first_name=first,
            middle_name=middle,
            gender=gender,
            birth_date=birth_date,
            birth_place=birth_city,
            snils=self.snils_formatted(),
            inn=self.inn_person(tax_office=self._tax_office(subject)),
            phone=self.mobile_e164(),
            email=self.email_for(first, last),
            password=self.esia_password(),
            passport=self.passport_ru(birth_date=birth_date),
        )

    def person_record(self, *, gender: str | None = None) -> dict[str, Any]:
        """A person in the shape the ESIA mock's user seeding takes (and ``/rs/prns`` returns)."""
        person = self.person_identity(gender=gender)
        return {
            "firstName": person.first_name,
            "lastName": person.last_name,
            "middleName": person.middle_name,
            "birthDate": person.birth_date.strftime("%d.%m.%Y"),
            "birthPlace": person.birth_place,
            "gender": person.gender,
            "snils": person.snils,
            "inn": person.inn,
            "phone": person.phone,
            "email": person.email,
            "password": person.password,
            "passport": {
                "series": person.passport.series,
                "number": person.passport.number,
                "issueDate": person.passport.issue_date.strftime("%d.%m.%Y"),
                "issueId": person.passport.division_code_digits,
                "issuedBy": person.passport.issued_by,
            },
        }

    def legal_entity(self) -> LegalEntity:
        """An organisation whose INN, KPP and OGRN share its tax office and region."""
        subject = self._region()[0]
        office = self._tax_office(subject)
        name = f"{self.random_element(('ООО', 'ООО', 'АО', 'ПАО'))} «{self.generator.last_name_male()}»"
        return LegalEntity(
            name=name,
            inn=self.inn_legal(tax_office=office),
            kpp=self.kpp_code(tax_office=office, reason="01"),
            ogrn=self.ogrn_legal(subject=subject),
        )

    def sole_proprietor(self) -> SoleProprietor:
        """ИП: a person's 12-digit INN and a 15-digit OGRNIP from the same region."""
        subject = self._region()[0]
        last, first, middle = self.full_name_parts(gender=self.random_element(("M", "F")))
        return SoleProprietor(full_name=f"ИП {last} {first} {middle}",
                              inn=self.inn_person(tax_office=self._tax_office(subject)),
                              ogrnip=self.ogrnip(subject=subject))

    def organisation_record(self, *, branches: int = 1) -> dict[str, Any]:
        """An organisation in the shape the ESIA mock's organisation seeding takes: a legal
        entity with its OKOPF and OKTMO codes, a phone and an e-mail, a legal and a postal
        address, and ``branches`` separate subdivisions, each with its own KPP (reason code 43)
        in the same INN's books."""
        subject, okato, _, birth_city = self._region()
        city = _RENAMED.get(birth_city, birth_city)
        office = self._tax_office(subject)
        okopf, form, long_form = self.random_element(_LEGAL_FORMS)
        brand = self.generator.last_name_male()
        street = f"{self.generator.street_title()} ул., д. {self.random_int(1, 120)}"
        zip_code = self.generator.postcode()
        address = {"addressStr": f"{zip_code}, {city}, {street}", "zipCode": zip_code, "city": city}
        domain = translit(brand).lower().replace("'", "")
        return {
            "fullName": f"{long_form} «{brand}»",
            "shortName": f"{form} «{brand}»",
            "type": "LEGAL",
            "inn": self.inn_legal(tax_office=office),
            "kpp": self.kpp_code(tax_office=office, reason="01"),
            "ogrn": self.ogrn_legal(subject=subject),
            "leg": okopf,
            "oktmo": okato + self._digits(6),
            "contacts": [
                {"type": "OPH", "value": self._landline()},
                {"type": "OEM", "value": f"info@{domain}{self.random_int(1, 999)}.ru"},
            ],
            "addresses": [{"type": "OLG", **address}, {"type": "OPS", **address}],
            "branches": [self._branch(form, brand, index) for index in range(branches)],
        }

    def _branch(self, form: str, brand: str, index: int) -> dict[str, Any]:
        subject, _, _, birth_city = self._region()
        city = _RENAMED.get(birth_city, birth_city)
        zip_code = self.generator.postcode()
        return {
            "name": f"Филиал {form} «{brand}» ({city})",
            "kpp": self._tax_office(subject) + "43" + f"{index + 1:03d}",
            "contacts": [{"type": "OPH", "value": self._landline()}],
            "addresses": [{"type": "OLG", "addressStr": f"{zip_code}, {city}, "
                           f"{self.generator.street_title()} ул., д. {self.random_int(1, 120)}",
                           "zipCode": zip_code, "city": city}],
        }

    def _landline(self) -> str:
        """An office number as ESIA stores it: ``+7(495)1234567``."""
        return f"+7({self.random_element(('495', '499', '812', '343', '383'))}){self._digits(7)}"

    # -- vehicles and goods -----------------------------------------------------------------
    def vehicle_plate(self) -> str:
        """``А123ВС77``: letter, 3 digits (not 000), 2 letters, region — Cyrillic letters only."""
        letters = [self.random_element(PLATE_LETTERS) for _ in range(3)]
        digits = f"{self.random_int(1, 999):03d}"
        return f"{letters[0]}{digits}{letters[1]}{letters[2]}{self.random_element(_PLATE_REGIONS)}"

    def tnved_code(self) -> str:
        """10-digit TN VED EAEU code in a chapter in use (01–97, never 77)."""
        chapter = self.random_element([c for c in range(1, 98) if c != 77])
        return f"{chapter:02d}" + self._digits(8)

    def fkko_code(self, *, grouped: bool = False) -> str:
        """11-digit FKKO waste code ending in a hazard class 1–5; ``grouped`` gives
        ``4 71 101 01 52 1``."""
        code = str(self.random_int(1, 9)) + self._digits(9) + str(self.random_int(1, 5))
        if not grouped:
            return code
        return " ".join((code[0], code[1:3], code[3:6], code[6:8], code[8:10], code[10]))

    # -- banks --------------------------------------------------------------------------------
    def bank_bik(self) -> str:
        """BIK of a credit institution: 04, territory, division, institution 050–999."""
        territory, division = f"{self.random_int(1, 99):02d}", f"{self.random_int(0, 99):02d}"
        return f"04{territory}{division}{self.random_int(50, 999):03d}"

    def bank_correspondent_account(self, *, bik: str) -> str:
        """The bank's account at the Bank of Russia: ``30101810`` + key + zeros + BIK tail."""
        return _with_account_key("30101810" + "0" + "0" * 8 + bik[-3:], "0" + bik[4:6])

    def bank_account(self, *, bik: str, balance: str = "40702") -> str:
        """A rouble account at ``bik`` (40702 company, 40802 sole proprietor, 40817 person)."""
        return _with_account_key(balance + "810" + "0" + self._digits(11), bik[-3:])

    def bank_details(self, *, balance: str = "40702") -> BankDetails:
        bik = self.bank_bik()
        return BankDetails(bank_name=self.generator.bank(), bik=bik,
                           correspondent_account=self.bank_correspondent_account(bik=bik),
                           checking_account=self.bank_account(bik=bik, balance=balance))


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def russian_faker(*, seed: int | None = None) -> Faker:
    """A ``Faker("ru_RU")`` with :class:`RussianIdentityProvider`, seeded per instance
    (``Faker.seed`` is class-wide and would reseed every other Faker in the process)."""
    fake = Faker("ru_RU")
    fake.add_provider(RussianIdentityProvider)
    if seed is not None:
        fake.seed_instance(seed)
    return fake


def as_dict(value: Passport | Person | LegalEntity | SoleProprietor | BankDetails) -> dict[str, Any]:
    """A dataclass of this module as a plain dict (dates stay ``datetime.date``)."""
    return asdict(value)
