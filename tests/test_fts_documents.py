"""FTS document submission: content sniffing, limits, XML errors by line, detached CMS
signatures, application numbers, processing status on the clock, idempotency."""

from __future__ import annotations

import uuid

import pytest
from asn1crypto import cms
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from fts_requests import DECLARATIONS as BASE
from fts_requests import submit, withdraw
from signed_documents import PDF, p7s

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
XML = "<?xml version='1.0' encoding='UTF-8'?>\n<ESADout_CU>\n  <Номер>1</Номер>\n</ESADout_CU>\n".encode()


def upload(fts, auth, declaration_id, content, *, name="scan.pdf", signature=None, key=None):
    files = {"file": (name, content, "application/octet-stream")}
    if signature is not None:
        files["signature"] = ("scan.p7s", signature, "application/pkcs7-signature")
    return fts.post(f"{BASE}/{declaration_id}/documents", files=files,
                    headers={**auth, "Idempotency-Key": key or str(uuid.uuid4())})


@pytest.mark.parametrize(("content", "media_type", "name"), [
    (PDF, "application/pdf", "invoice.pdf"), (PNG, "image/png", "photo.jpg"),  # the name does not matter
    (JPEG, "image/jpeg", "x.bin"), (XML, "application/xml", "dt.xml")])
def test_accepted_kinds_get_an_application_number_and_are_processed_on_the_clock(
        fts, auth, advance, content, media_type, name):
    declaration_id = submit(fts, auth)
    response = upload(fts, auth, declaration_id, content, name=name)
    assert response.status_code == 201, response.text
    document = response.json()
    assert (document["mediaType"], document["size"], document["status"]) == (media_type, len(content), "processing")
    assert document["applicationNumber"] == "20260601-0000001"
    assert document["signature"] is None and document["fileName"] == name
    advance(10)
    listed = fts.get(f"{BASE}/{declaration_id}/documents", headers=auth).json()["items"]
    assert [(d["id"], d["status"]) for d in listed] == [(document["id"], "accepted")]


def test_application_numbers_are_unique_and_increase(fts, auth):
    declaration_id = submit(fts, auth)
    numbers = [upload(fts, auth, declaration_id, PDF).json()["applicationNumber"] for _ in range(3)]
    assert numbers == ["20260601-0000001", "20260601-0000002", "20260601-0000003"]


def test_a_detached_signature_of_the_file_is_verified_with_its_certificate(fts, auth, signer):
    declaration_id = submit(fts, auth)
    response = upload(fts, auth, declaration_id, XML, name="dt.xml", signature=p7s(XML, signer))
    assert response.status_code == 201, response.text
    assert response.json()["signature"] == {"verified": True, "signer": "Петров Иван Сергеевич",
                                            "certificateSerial": "1092"}


@pytest.mark.parametrize("signature", ["other file", "garbage", "attached"])
def test_a_signature_of_another_file_or_garbage_is_422(fts, auth, signer, signature):
    declaration_id = submit(fts, auth)
    certificate, key = signer
    blob = {
        "other file": lambda: p7s(PDF + b"tampered", signer),
        "garbage": lambda: b"\x30\x03\x02\x01\x00",
        "attached": lambda: pkcs7.PKCS7SignatureBuilder().set_data(PDF).add_signer(
            certificate, key, hashes.SHA256()).sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary]),
    }[signature]()
    response = upload(fts, auth, declaration_id, PDF, signature=blob)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["parameter"] == "signature"
    assert fts.get(f"{BASE}/{declaration_id}/documents", headers=auth).json()["items"] == []


def test_malformed_xml_is_422_with_line_and_reason(fts, auth):
    declaration_id = submit(fts, auth)
    broken = b"<?xml version='1.0'?>\n<ESADout_CU>\n  <Goods>\n</ESADout_CU>\n"
    response = upload(fts, auth, declaration_id, broken, name="dt.xml")
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["line"], error["reason"]) == (4, "mismatched tag")
    doctype = upload(fts, auth, declaration_id, b'<!DOCTYPE a [<!ENTITY e "x">]>\n<a>&e;</a>', name="e.xml")
    assert doctype.status_code == 422 and "DTD" in doctype.json()["errors"][0]["reason"]


def test_other_kinds_are_415_and_too_large_is_413(fts, auth):
    declaration_id = submit(fts, auth)
    assert upload(fts, auth, declaration_id, b"PK\x03\x04 a zip").status_code == 415
    assert upload(fts, auth, declaration_id, b"").status_code == 415
    assert upload(fts, auth, declaration_id, PDF + b"0" * (5 * 1024 * 1024)).status_code == 413
    assert upload(fts, auth, declaration_id, PDF[:-1] + b"0" * (5 * 1024 * 1024 - len(PDF) + 1)).status_code == 201
    not_a_form = fts.post(f"{BASE}/{declaration_id}/documents", json={"file": "x"},
                          headers={**auth, "Idempotency-Key": "k"})
    assert not_a_form.status_code == 415
    no_file = fts.post(f"{BASE}/{declaration_id}/documents", data={"other": "x"},
                       files={"x": ("a", b"b")}, headers={**auth, "Idempotency-Key": "k2"})
    assert no_file.status_code == 400


def test_a_form_with_parts_other_than_file_and_signature_is_400_naming_them(fts, auth):
    declaration_id = submit(fts, auth)
    extra = fts.post(f"{BASE}/{declaration_id}/documents", data={"comment": "x", "kind": "scan"},
                     files={"file": ("a.pdf", PDF)}, headers={**auth, "Idempotency-Key": "k3"})
    assert extra.status_code == 400
    assert [e["parameter"] for e in extra.json()["errors"]] == ["comment", "kind"]
    crowded = fts.post(f"{BASE}/{declaration_id}/documents", data={f"f{n}": "x" for n in range(20)},
                       files={"file": ("a.pdf", PDF)}, headers={**auth, "Idempotency-Key": "k4"})
    assert crowded.status_code == 400  # more parts than are read at all


def test_retrying_with_the_key_returns_the_first_document_and_another_file_is_409(fts, auth):
    declaration_id = submit(fts, auth)
    first = upload(fts, auth, declaration_id, PDF, key="doc-1")
    again = upload(fts, auth, declaration_id, PDF, key="doc-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert upload(fts, auth, declaration_id, PNG, key="doc-1").status_code == 409
    assert len(fts.get(f"{BASE}/{declaration_id}/documents", headers=auth).json()["items"]) == 1


def test_documents_after_the_end_of_the_life_cycle_are_409_and_unknown_declarations_404(fts, auth, advance):
    declaration_id = submit(fts, auth)
    advance(2)
    assert withdraw(fts, auth, declaration_id).status_code == 200
    response = upload(fts, auth, declaration_id, PDF)
    assert response.status_code == 409 and response.json()["currentStatus"] == "withdrawn"
    assert upload(fts, auth, str(uuid.uuid4()), PDF).status_code == 404
    assert fts.get(f"{BASE}/{uuid.uuid4()}/documents", headers=auth).status_code == 404
    assert fts.post(f"{BASE}/{declaration_id}/documents", files={"file": ("a.pdf", PDF)}).status_code == 401


def _gost_or_skip(bits: int = 256):
    from gosstand.scenarios.gost import gost_ready, make_gost_identity

    if gost_ready() is not None:
        pytest.skip(f"no GOST here: {gost_ready()}")
    return make_gost_identity("Сидорова Мария Петровна", bits=bits)


#: Streebog-256 and Streebog-512 (GOST R 34.11-2012) as CMS names them (RFC 9215).
STREEBOG_OID = {256: "1.2.643.7.1.1.2.2", 512: "1.2.643.7.1.1.2.3"}


def naming_digest(blob: bytes, oid: str) -> bytes:
    """The same CMS with its digest algorithm renamed ``oid`` (in SignedData and in the signer),
    the signature and the signed attributes untouched: it differs from a good one in that name only."""
    info = cms.ContentInfo.load(blob)
    signed = info["content"]
    for algorithm in (*signed["digest_algorithms"], signed["signer_infos"][0]["digest_algorithm"]):
        algorithm["algorithm"] = oid
    return info.dump()


@pytest.mark.parametrize("signed_attributes", [True, False])
@pytest.mark.parametrize("bits", [256, 512])
def test_a_gost_signature_of_the_file_is_verified(fts, auth, bits, signed_attributes):
    """Russian declarants sign with GOST R 34.10-2012, 256- or 512-bit keys, and the Streebog of
    the key's size (CryptoPro and the like); the verified signer is kept with the document."""
    certificate, key = _gost_or_skip(bits)
    declaration_id = submit(fts, auth)
    blob = key.sign_cms(PDF, certificate, detached=True, signed_attributes=signed_attributes)
    assert cms.ContentInfo.load(blob)["content"]["signer_infos"][0]["digest_algorithm"]["algorithm"].dotted \
        == STREEBOG_OID[bits]
    response = upload(fts, auth, declaration_id, PDF, signature=blob)
    assert response.status_code == 201, response.text
    signature = response.json()["signature"]
    assert signature["verified"] is True and signature["signer"] == "Сидорова Мария Петровна"
    base = f"{BASE}/{declaration_id}/documents/{response.json()['id']}"
    assert fts.get(base, headers=auth).json()["signature"] == signature
    assert fts.get(f"{base}/content", headers=auth).content == PDF


@pytest.mark.parametrize("fault", ["other file", "tampered signature"])
@pytest.mark.parametrize("bits", [256, 512])
def test_a_gost_signature_of_another_file_or_tampered_is_422(fts, auth, bits, fault):
    certificate, key = _gost_or_skip(bits)
    declaration_id = submit(fts, auth)
    if fault == "other file":
        blob = key.sign_cms(PDF + b"tampered", certificate, detached=True)
    else:  # the signature value closes the DER: change its last byte
        good = key.sign_cms(PDF, certificate, detached=True)
        blob = good[:-1] + bytes([good[-1] ^ 0x01])
    response = upload(fts, auth, declaration_id, PDF, signature=blob)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["parameter"] == "signature"
    assert fts.get(f"{BASE}/{declaration_id}/documents", headers=auth).json()["items"] == []


@pytest.mark.parametrize("signed_attributes", [True, False])
@pytest.mark.parametrize(("bits", "named"), [(512, 256), (256, 512)])
def test_a_gost_signature_naming_the_streebog_of_the_other_size_is_422(fts, auth, bits, named, signed_attributes):
    """A 512-bit key signs Streebog-512 and a 256-bit key Streebog-256: a signature that names
    the other one is refused with that reason, although its bytes verify over the right digest."""
    certificate, key = _gost_or_skip(bits)
    declaration_id = submit(fts, auth)
    good = key.sign_cms(PDF, certificate, detached=True, signed_attributes=signed_attributes)
    response = upload(fts, auth, declaration_id, PDF, signature=naming_digest(good, STREEBOG_OID[named]))
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["parameter"] == "signature"
    assert f"GOST R 34.10-2012-{bits} key signs with Streebog-{bits}" in error["detail"], error
    assert STREEBOG_OID[named] in error["detail"]
    unchanged = naming_digest(good, STREEBOG_OID[bits])  # the renaming alone is harmless
    assert upload(fts, auth, declaration_id, PDF, signature=unchanged).status_code == 201


def test_a_document_and_its_exact_bytes_can_be_read_back(fts, auth, signer):
    declaration_id = submit(fts, auth)
    document = upload(fts, auth, declaration_id, XML, name="ДТ №1.xml", signature=p7s(XML, signer)).json()
    base = f"{BASE}/{declaration_id}/documents/{document['id']}"
    one = fts.get(base, headers=auth)
    assert one.status_code == 200 and one.json()["applicationNumber"] == document["applicationNumber"]
    content = fts.get(f"{base}/content", headers=auth)
    assert content.status_code == 200 and content.content == XML
    assert content.headers["content-type"] == "application/xml"
    assert content.headers["etag"] == f'"{document["sha256"]}"'
    assert content.headers["content-disposition"] == "attachment; filename*=UTF-8''%D0%94%D0%A2%20%E2%84%961.xml"
    cached = fts.get(f"{base}/content", headers={**auth, "If-None-Match": content.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""


def test_the_same_bytes_twice_read_back_for_each_document(fts, auth):
    declaration_id = submit(fts, auth)
    first = upload(fts, auth, declaration_id, PDF, name="a.pdf").json()
    second = upload(fts, auth, declaration_id, PDF, name="b.pdf").json()
    assert first["id"] != second["id"]
    for document in (first, second):
        url = f"{BASE}/{declaration_id}/documents/{document['id']}/content"
        response = fts.get(url, headers=auth)
        assert response.content == PDF and response.headers["content-type"] == "application/pdf"


def test_documents_are_read_only_through_their_own_declaration(fts, auth):
    declaration_id, other = submit(fts, auth), submit(fts, auth)
    document = upload(fts, auth, declaration_id, PNG, name="p.png").json()
    for url in (f"{BASE}/{other}/documents/{document['id']}", f"{BASE}/{other}/documents/{document['id']}/content",
                f"{BASE}/{declaration_id}/documents/not-a-uuid", f"{BASE}/{declaration_id}/documents/{uuid.uuid4()}"):
        response = fts.get(url, headers=auth)
        assert response.status_code == 404, url
        assert response.headers["content-type"] == "application/problem+json"
    assert fts.get(f"{BASE}/{declaration_id}/documents/{document['id']}/content").status_code == 401
