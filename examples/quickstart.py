"""A relying party's first session against the stand, in Python.

    .venv/bin/python examples/quickstart.py

Starts the embedded stack (2 replicas per service), registers a client system and a test
person with ESIA's control API, logs in through ESIA exactly as a relying party would (signed
client_secret, password, SMS code, code exchange), reads the person's data, files a customs
declaration with FTS, registers a waste-handling object with UTKO, moves the stand's clock and
reads the declaration's status again. Every request goes to loopback.
"""

from __future__ import annotations

import uuid

from cryptography.hazmat.primitives import serialization

from gosstand.mocks.stack import EmbeddedStack
from gosstand.scenarios import declarations, esia_login
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_client import RelyingParty, make_test_identity
from gosstand.scenarios.http import HttpxClient
from gosstand.scenarios.identities import russian_faker

SCOPE = "openid fullname snils inn mobile usr_org"

with EmbeddedStack(replicas=2) as stack, HttpxClient() as http:
    control = StackControl(stack.urls, stack.control_token)

    # 1. A client system (our relying party) with its RSA certificate, and a person.
    certificate, key = make_test_identity("quickstart RP")
    rp = RelyingParty(client_id="QUICKSTART", redirect_uri="https://rp.example/esia/callback",
                      certificate=certificate, private_key=key)
    control.register_client("QUICKSTART", redirect_uris=[rp.redirect_uri],
                            certificate=certificate.public_bytes(serialization.Encoding.PEM).decode(),
                            scopes=SCOPE.split())
    fake = russian_faker(seed=1)
    person = fake.person_record()
    control.seed_user(phone=person["phone"], password=person["password"], email=person["email"],
                      person={k: person[k] for k in ("firstName", "lastName", "middleName", "birthDate",
                                                     "gender", "snils", "inn")})

    # 2. The ESIA login, v1 authorization-code flow, with the SMS code read from the outbox.
    tokens = esia_login.login(http, esia_url=stack.urls["esia"], rp=rp, login=person["phone"],
                              password=person["password"], read_sms=control.read_sms, scope=SCOPE)
    me = esia_login.person(http, esia_url=stack.urls["esia"], tokens=tokens)
    print(f"ESIA: logged in as OID {tokens.oid}: {me['lastName']} {me['firstName']}, SNILS {me['snils']}")

    # 3. A declaration with FTS; a retry with the same Idempotency-Key returns the same one.
    declaration = declarations.sample_declaration(fake)
    key = str(uuid.uuid4())
    first = declarations.submit(http, fts_url=stack.urls["fts"], token=tokens.access_token,
                                declaration=declaration, idempotency_key=key)
    again = declarations.submit(http, fts_url=stack.urls["fts"], token=tokens.access_token,
                                declaration=declaration, idempotency_key=key)
    assert again.id == first.id and again.replayed
    print(f"FTS: declaration {first.id} {first.status}; the retry was replayed, not filed twice")

    # 4. Time moves on the stand's clock, not by sleeping: registration comes 5 s after filing.
    control.advance_clock("fts", 10)
    status = declarations.status(http, fts_url=stack.urls["fts"], token=tokens.access_token,
                                 declaration_id=first.id)
    print(f"FTS: 10 s later: {status['status']}, number {status['registrationNumber']}")

    # 5. A waste-handling object in UTKO's register.
    company = fake.legal_entity()
    created = http.send("POST", f"{stack.urls['utko']}/v1/objects", name="utko: create",
                        headers={"Authorization": f"Bearer {tokens.access_token}"},
                        json={"name": "Мусоросортировочный комплекс", "status": "active", "type": "sorting",
                              "operator": {"inn": company.inn, "kpp": company.kpp}, "region": "50",
                              "address": "Московская обл., г. Подольск, ул. Промышленная, 7",
                              "coordinates": {"lat": 55.43, "lon": 37.54}, "fkkoCodes": ["73310001724"]})
    assert created.status == 201, created.text
    print(f"UTKO: object {created.json()['id']} registered; answered by replica "
          f"{created.headers['x-gosstand-replica']}")
