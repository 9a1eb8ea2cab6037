"""The data a load run needs before and after the load: seeding, and reconciliation input.

Before: one ESIA client system (a fresh RSA certificate), test users whose identifiers pass the
real checks (``scenarios/identities.py``), and declarant organisations — written to
``fixtures.json`` for the Locust processes. After: every declaration the target holds for those
declarants, listed through the public FTS API, written to ``records.json`` for the reports'
reconciliation (lost and duplicated writes).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from ..scenarios import declarations, esia_login
from ..scenarios.control import StackControl
from ..scenarios.esia_client import RelyingParty, make_test_identity
from ..scenarios.http import HttpxClient
from ..scenarios.identities import russian_faker

CLIENT_ID = "GOSSTANDLOAD"
#: The relying party's callback; the journeys read the code from the redirect, never follow it.
REDIRECT_URI = "http://127.0.0.1/gosstand/esia/callback"
LOGIN_SCOPES = ["openid", "fullname", "birthdate", "gender", "snils", "inn", "mobile", "email", "usr_org"]


def _esia_account(record: Mapping[str, Any]) -> dict[str, Any]:
    person = {key: record[key] for key in
              ("firstName", "lastName", "middleName", "birthDate", "birthPlace", "gender", "snils", "inn")}
    return {
        "phone": record["phone"],
        "email": record["email"],
        "password": record["password"],
        "person": {**person, "trusted": True},
        "documents": [{"type": "RF_PASSPORT", **record["passport"]}],
    }


def seed(manifest: Mapping[str, Any], run_dir: Path, *, users: int, declarants: int, seed: int) -> Path:
    control = StackControl(manifest["urls"], manifest["control_token"])
    certificate, key = make_test_identity("gosstand load client")
    control.register_client(CLIENT_ID, redirect_uris=[REDIRECT_URI],
                            certificate=certificate.public_bytes(serialization.Encoding.PEM).decode(),
                            scopes=LOGIN_SCOPES)
    fake = russian_faker(seed=seed)
    people = []
    for _ in range(users):
        record = fake.person_record()
        record["oid"] = control.seed_user(**_esia_account(record))
        people.append(record)
    organisations = []
    for _ in range(declarants):
        entity = fake.legal_entity()
        organisations.append({"inn": entity.inn, "kpp": entity.kpp, "ogrn": entity.ogrn, "name": entity.name})
    fixtures = {
        "client": {
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scopes": LOGIN_SCOPES,
            "certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(),
            "private_key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode(),
        },
        "users": people,
        "declarants": organisations,
    }
    path = run_dir / "fixtures.json"
    path.write_text(json.dumps(fixtures, ensure_ascii=False, indent=1))
    return path


def relying_party(fixtures: Mapping[str, Any]) -> RelyingParty:
    client = fixtures["client"]
    key = serialization.load_pem_private_key(client["private_key"].encode(), password=None)
    from cryptography import x509

    return RelyingParty(
        client_id=client["client_id"],
        redirect_uri=client["redirect_uri"],
        certificate=x509.load_pem_x509_certificate(client["certificate"].encode()),
        private_key=key,  # type: ignore[arg-type]
    )


def reconcile(manifest: Mapping[str, Any], run_dir: Path) -> Path:
    """List every declaration of the run's declarants through the public API (``records.json``)."""
    fixtures = json.loads((run_dir / "fixtures.json").read_text())
    control = StackControl(manifest["urls"], manifest["control_token"])
    person = fixtures["users"][0]
    with HttpxClient() as http:
        tokens = esia_login.login(
            http, esia_url=manifest["urls"]["esia"], rp=relying_party(fixtures), login=person["phone"],
            password=person["password"], read_sms=control.read_sms, scope=" ".join(LOGIN_SCOPES),
        )
        records = []
        for organisation in fixtures["declarants"]:
            for card in declarations.list_declarations(
                http, fts_url=manifest["urls"]["fts"], token=tokens.access_token,
                inn=organisation["inn"], kpp=organisation["kpp"],
            ):
                records.append({"id": card["id"], "senderReference": card.get("senderReference")})
    path = run_dir / "records.json"
    path.write_text(json.dumps({"service": "fts", "records": records}, ensure_ascii=False))
    return path
