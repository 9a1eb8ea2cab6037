"""A relying party's first session against the stand, in Python.

    .venv/bin/python examples/quickstart.py

Starts the embedded stack (2 replicas per service), registers a client system and a test
person with ESIA's control API, logs in through ESIA exactly as a relying party would (signed
client_secret, password, SMS code, code exchange), reads the person's data, files a customs
declaration with FTS through a fault rule's 503 (and reads the request journal), moves the
stand's clock and reads the declaration's status again, sends a signed scan (PDF with a detached
CMS signature) and reads its bytes back, and registers a waste-handling object with UTKO. Every
request goes to loopback.
"""

from __future__ import annotations

import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from gosstand.scenarios import declarations, esia_login
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_client import RelyingParty, make_test_identity
from gosstand.scenarios.http import HttpxClient
from gosstand.scenarios.identities import russian_faker
from gosstand.stand.stack import EmbeddedStack

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
    oid = control.seed_user(phone=person["phone"], password=person["password"], email=person["email"],
                            person={k: person[k] for k in ("firstName", "lastName", "middleName", "birthDate",
                                                           "gender", "snils", "inn")})
    # FTS and UTKO show a person only what belongs to the organisations it works for, which ESIA
    # names in the usr_org token: the person works for the declarant and for the object's operator.
    declaration = declarations.sample_declaration(fake)
    declarant = declaration["declarant"]
    company = fake.legal_entity()
    for name, ogrn, inn, kpp in ((declarant["name"], declarant["ogrn"], declarant["inn"], declarant["kpp"]),
                                 (company.name, company.ogrn, company.inn, company.kpp)):
        control.create_organisation(fullName=name, ogrn=ogrn, inn=inn, kpp=kpp, employees=[{"oid": oid}])

    # 2. The ESIA login, v1 authorization-code flow, with the SMS code read from the outbox.
    tokens = esia_login.login(http, esia_url=stack.urls["esia"], rp=rp, login=person["phone"],
                              password=person["password"], read_sms=control.read_sms, scope=SCOPE)
    me = esia_login.person(http, esia_url=stack.urls["esia"], tokens=tokens)
    print(f"ESIA: logged in as OID {tokens.oid}: {me['lastName']} {me['firstName']}, SNILS {me['snils']}")

    # 3. A declaration with FTS while it fails on purpose: a fault rule answers the first
    #    submission with a 503, the client retries with the same Idempotency-Key, and the
    #    request journal shows what reached FTS. Sending it again returns the same declaration.
    control.record_requests("fts")
    control.add_fault("fts", kind="error", status=503, retry_after=1, times=1, methods=["POST"],
                      path="/api/v1/declarations")
    key = str(uuid.uuid4())
    first = declarations.submit(http, fts_url=stack.urls["fts"], token=tokens.access_token,
                                declaration=declaration, idempotency_key=key)
    again = declarations.submit(http, fts_url=stack.urls["fts"], token=tokens.access_token,
                                declaration=declaration, idempotency_key=key)
    assert again.id == first.id and again.replayed
    posts = control.verify("fts", "POST", "/api/v1/declarations", times=3)  # else it says what came
    assert [p["status"] for p in posts] == [503, 201, 201]
    assert {p["headers"]["idempotency-key"] for p in posts} == {key}
    print(f"FTS: declaration {first.id} {first.status} after {first.attempts} attempts (503, then 201); "
          f"the retry was replayed, not filed twice; the journal holds {len(posts)} POSTs with one key")

    # 4. Time moves on the stand's clock, not by sleeping: registration comes 5 s after filing.
    control.advance_clock("fts", 10)
    status = declarations.status(http, fts_url=stack.urls["fts"], token=tokens.access_token,
                                 declaration_id=first.id)
    print(f"FTS: 10 s later: {status['status']}, number {status['registrationNumber']}")

    # 5. A signed scan for the declaration: the PDF and its detached CMS signature (.p7s) made
    #    with the client's certificate; FTS verifies it, keeps the bytes, and gives them back.
    scan = b"%PDF-1.4\n% invoice no. 17 for the declaration\n%%EOF\n"
    signer = pkcs7.PKCS7SignatureBuilder().set_data(scan).add_signer(rp.certificate, rp.private_key, hashes.SHA256())
    signature = signer.sign(serialization.Encoding.DER,
                            [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
    document = declarations.upload_document(http, fts_url=stack.urls["fts"], token=tokens.access_token,
                                            declaration_id=first.id, content=scan, file_name="invoice.pdf",
                                            signature=signature, idempotency_key=str(uuid.uuid4()))
    returned = declarations.document_content(http, fts_url=stack.urls["fts"], token=tokens.access_token,
                                             declaration_id=first.id, document_id=document["id"])
    assert returned == scan
    print(f"FTS: signed document {document['applicationNumber']} {document['status']}; "
          f"its {len(returned)} bytes come back unchanged")

    # 6. A waste-handling object in UTKO's register, of the company the person works for.
    created = http.send("POST", f"{stack.urls['utko']}/v1/objects", name="utko: create",
                        headers={"Authorization": f"Bearer {tokens.access_token}"},
                        json={"name": "Мусоросортировочный комплекс", "status": "active", "type": "sorting",
                              "operator": {"inn": company.inn, "kpp": company.kpp}, "region": "50",
                              "address": "Московская обл., г. Подольск, ул. Промышленная, 7",
                              "coordinates": {"lat": 55.43, "lon": 37.54}, "fkkoCodes": ["73310001724"]})
    assert created.status == 201, created.text
    print(f"UTKO: object {created.json()['id']} registered; answered by replica "
          f"{created.headers['x-gosstand-replica']}")
