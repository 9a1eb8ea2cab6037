"""A shared ESIA test stand for the ESIA test modules: one in-process mock, the reference
client (``scenarios/``) and the control API, with helpers to seed people.

Not a conftest on purpose: only the ESIA tests import it (``from esia_stand import ...``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from gosstand.scenarios import esia_login
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_client import RelyingParty, make_test_identity
from gosstand.scenarios.http import HttpxClient

ESIA = "http://testserver"
REDIRECT = "https://rp.example/esia/callback"
PASSWORD = "Pa55word!"
_identity_cache: dict[str, Any] = {}
_phones = itertools.count(1)


def identity(name: str = "TESTSYS") -> Any:
    """A certificate and key per client name, made once per test session (RSA keys are slow)."""
    if name not in _identity_cache:
        _identity_cache[name] = make_test_identity(name)
    return _identity_cache[name]


def new_phone() -> str:
    return f"+7999{next(_phones):07d}"


_snils_numbers = itertools.count(100_200_300)


def new_snils() -> str:
    """A fresh valid SNILS (``XXX-XXX-XXX YY``), since a SNILS is a login and must be unique."""
    digits = f"{next(_snils_numbers):09d}"
    total = sum(int(d) * (9 - i) for i, d in enumerate(digits))
    control = total if total < 100 else (0 if total in (100, 101) else total % 101 % 100)
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]} {control:02d}"


def person(**overrides: Any) -> dict[str, Any]:
    """A seed body for a standard-looking person with SNILS and passport; a fresh phone."""
    body: dict[str, Any] = {
        "phone": new_phone(),
        "password": PASSWORD,
        "person": {
            "firstName": "Мария",
            "lastName": "Иванова",
            "middleName": "Петровна",
            "birthDate": "05.06.1985",
            "gender": "F",
            "snils": new_snils(),
            "inn": "500500123491",
        },
        "documents": [
            {
                "type": "RF_PASSPORT",
                "series": "4510",
                "number": "123456",
                "issueDate": "01.01.2010",
                "issueId": "770-001",
                "issuedBy": "ОВД",
            }
        ],
    }
    body.update(overrides)
    return body


@dataclass
class Stand:
    http: HttpxClient
    control: StackControl
    rp: RelyingParty
    phones: dict[int, str] = field(default_factory=dict)

    def party(self, client_id: str, redirect_uri: str = REDIRECT, **options: Any) -> RelyingParty:
        """Register another client system and return its reference client."""
        cert, key = identity(client_id)
        rp = RelyingParty(client_id, redirect_uri, cert, key, clock=self.rp.clock)
        self.control.register_client(client_id, redirect_uris=[redirect_uri], certificate=rp.certificate_pem, **options)
        return rp

    def seed(self, **overrides: Any) -> int:
        body = person(**overrides)
        oid = self.control.seed_user(**body)
        self.phones[oid] = body["phone"]
        return oid

    def login(
        self, oid: int, scope: str = "openid fullname", *, rp: RelyingParty | None = None, **options: Any
    ) -> esia_login.TokenSet:
        """A fresh browser (no SSO cookie) logs ``oid`` in through the whole journey."""
        self.http._client.cookies.clear()  # type: ignore[attr-defined]
        values: dict[str, Any] = {
            "esia_url": ESIA,
            "rp": rp or self.rp,
            "login": self.phones[oid],
            "password": PASSWORD,
            "read_sms": self.control.read_sms,
            "scope": scope,
        }
        values.update(options)
        return esia_login.login(self.http, **values)

    def get(self, path: str, token: str | None, **params: str):
        headers = {"Authorization": f"Bearer {token}"} if token else None
        return self.http.send("GET", f"{ESIA}{path}", name="get", headers=headers, params=params or None)

    def te(self, form: dict[str, str]):
        return self.http.send("POST", f"{ESIA}/aas/oauth2/te", name="esia: te", data=form)

    def ac(self, params: dict[str, str]):
        return self.http.send("GET", f"{ESIA}/aas/oauth2/ac", name="esia: ac", params=params)


def make_stand(service_client: Any, control_headers: dict[str, str], **client_options: Any) -> Stand:
    client = service_client("esia")
    client.follow_redirects = False  # the journeys read every Location themselves
    http = HttpxClient(client=client)
    control = StackControl({"esia": ESIA}, control_headers["Authorization"].split()[1], http=http)
    cert, key = identity("TESTSYS")
    rp = RelyingParty("TESTSYS", REDIRECT, cert, key, clock=lambda: control.now("esia"))
    control.register_client("TESTSYS", redirect_uris=[REDIRECT], certificate=rp.certificate_pem, **client_options)
    return Stand(http=http, control=control, rp=rp)
