"""The data a load run needs before and after the load: seeding, and reconciliation input.

Before: one ESIA client system (a fresh RSA certificate), test users whose identifiers pass the
real checks (``scenarios/identities.py``), declarant organisations — seeded at ESIA too, each
person an employee of one of them (``"declarant"``: its index), since FTS and UTKO show a person
only the records of the organisation it acts for — plus an auditor who works for all of them (it
registers the UTKO objects and lists everything back for the reconciliation), and — when the profile sends
UTKO traffic — one waste-handling object per organisation, registered through UTKO's own API
(which hands back each object's access key, so this works against a user's UTKO too). All of it
goes to ``fixtures.json`` for the Locust processes. After: every declaration the target holds
for those declarants, and every weight control those objects hold, listed through the public
APIs and written to ``records.json`` for the reports' reconciliation (lost and duplicated
writes).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..scenarios import declarations, esia_login, utko
from ..scenarios.control import ControlError, StackControl
from ..scenarios.esia_client import RelyingParty, make_test_identity
from ..scenarios.http import HttpxClient
from ..scenarios.identities import russian_faker
from ..stand.manifest import StackManifest

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
        "snils": record["snils"],  # a login too: the signature login finds the person by it
        "password": record["password"],
        "person": {**person, "trusted": True},
        "documents": [{"type": "RF_PASSPORT", **record["passport"]}],
    }


def _login(http: HttpxClient, manifest: StackManifest, fixtures: Mapping[str, Any]) -> str:
    """An access token of the auditor, who acts for every declarant (with ``usr_org``)."""
    control = StackControl(manifest.urls, manifest.control_token)
    person = fixtures["auditor"]
    return esia_login.login(
        http, esia_url=manifest.urls["esia"], rp=relying_party(fixtures), login=person["phone"],
        password=person["password"], read_sms=control.read_sms, scope=" ".join(LOGIN_SCOPES),
    ).access_token


def _register_objects(manifest: StackManifest, fixtures: Mapping[str, Any], seed: int) -> list[dict[str, Any]]:
    fake = russian_faker(seed=seed + 1)
    with HttpxClient() as http:
        token = _login(http, manifest, fixtures)
        objects = []
        for organisation in fixtures["declarants"]:
            registered = utko.register_object(
                http, utko_url=manifest.urls["utko"], token=token,
                obj=utko.sample_object(fake, operator={"inn": organisation["inn"], "kpp": organisation["kpp"]}),
            )
            objects.append({"id": registered.id, "accessKey": registered.access_key,
                            "operatorInn": organisation["inn"]})
    return objects


class StandAlreadySeeded(ValueError):
    """The stand already holds this seed's people: a run before this one against the same stand
    seeded them (the same seed makes the same phones, which ESIA keeps unique)."""


def _seed_person(control: StackControl, record: Mapping[str, Any], seed: int) -> int:
    try:
        return control.seed_user(**_esia_account(record))
    except ControlError as exc:
        if exc.status != 409:
            raise
        raise StandAlreadySeeded(
            f"the stand already holds the people of seed {seed} (an earlier run against it seeded them; "
            f"ESIA: {exc.body[:200]}): give this run another seed (gosstand peak --seed N, plain Locust "
            "--gosstand-seed N) or reset the stand (POST /_gosstand/control/reset on each service)"
        ) from None


def seed(manifest: StackManifest, run_dir: Path, *, users: int, declarants: int, seed: int,
         utko_objects: bool = False, certificates: bool = False) -> Path:
    control = StackControl(manifest.urls, manifest.control_token)
    certificate, key = make_test_identity("gosstand load client")
    control.register_client(CLIENT_ID, redirect_uris=[REDIRECT_URI],
                            certificate=certificate.public_bytes(serialization.Encoding.PEM).decode(),
                            scopes=LOGIN_SCOPES)
    fake = russian_faker(seed=seed)
    people = []
    for _ in range(users):
        record = fake.person_record()
        record["oid"] = _seed_person(control, record, seed)
        if certificates:  # a certificate of the stand's CA: the account journey signs in with it every other time
            issued = control.issue_certificate(record["oid"])
            record["signature"] = {"certificate": issued["certificate"], "private_key": issued["private_key"]}
        people.append(record)
    auditor = fake.person_record()
    auditor["oid"] = _seed_person(control, auditor, seed)
    organisations = []
    for index in range(declarants):
        entity = fake.legal_entity()
        organisations.append({"inn": entity.inn, "kpp": entity.kpp, "ogrn": entity.ogrn, "name": entity.name})
        org_oid = control.create_organisation(fullName=entity.name, ogrn=entity.ogrn, inn=entity.inn,
                                              kpp=entity.kpp, employees=[{"oid": auditor["oid"]}])["oid"]
        for person in people[index::declarants]:  # person i files for declarant i mod D
            person["declarant"] = index
            control.add_employee(org_oid, person["oid"])
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
        "auditor": auditor,
        "declarants": organisations,
        "utko_objects": [],
    }
    if utko_objects:
        fixtures["utko_objects"] = _register_objects(manifest, fixtures, seed)
    path = run_dir / "fixtures.json"
    path.write_text(json.dumps(fixtures, ensure_ascii=False, indent=1))
    return path


def relying_party(fixtures: Mapping[str, Any]) -> RelyingParty:
    client = fixtures["client"]
    key = serialization.load_pem_private_key(client["private_key"].encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"the fixtures' client key is {type(key).__name__}, not the RSA key they are written with")
    from cryptography import x509

    return RelyingParty(
        client_id=client["client_id"],
        redirect_uri=client["redirect_uri"],
        certificate=x509.load_pem_x509_certificate(client["certificate"].encode()),
        private_key=key,
    )


def reconcile(manifest: StackManifest, run_dir: Path) -> Path:
    """List, through the public APIs, every declaration of the run's declarants and every weight
    control of its UTKO objects (``records.json``)."""
    fixtures = json.loads((run_dir / "fixtures.json").read_text())
    urls = manifest.urls
    records: list[dict[str, Any]] = []
    with HttpxClient() as http:
        token = _login(http, manifest, fixtures)
        for organisation in fixtures["declarants"]:
            for card in declarations.list_declarations(
                http, fts_url=urls["fts"], token=token, inn=organisation["inn"], kpp=organisation["kpp"],
            ):
                records.append({"service": "fts", "id": card["id"], "senderReference": card.get("senderReference")})
        for obj in fixtures.get("utko_objects", []):
            for control in utko.weight_controls(http, utko_url=urls["utko"], token=token, object_id=obj["id"]):
                # A weight control's id is the client's own reference: two records with one id
                # are one weighing stored twice.
                records.append({"service": "utko", "id": str(control["id"]), "senderReference": str(control["id"])})
    services = ["fts", "utko"] if fixtures.get("utko_objects") else ["fts"]
    path = run_dir / "records.json"
    path.write_text(json.dumps({"services": services, "records": records}, ensure_ascii=False))
    return path
