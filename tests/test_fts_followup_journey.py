"""What a broker does after filing, written once in scenarios/declarations.py and run here against
the in-process FTS mock: upload a signed document and read it back, follow the change feed from a
cursor, withdraw, and open and comment a request to customs."""

from __future__ import annotations

import pytest
from fts_requests import ORGANISATION, T0, advance, declaration
from fts_requests import token as mint
from gosstand.scenarios import declarations
from gosstand.scenarios.declarations import DeclarationError
from gosstand.scenarios.http import HttpxClient
from signed_documents import PDF, p7s

FTS = "http://testserver"


@pytest.fixture
def broker(service_client, control_headers, esia_signing_keys):
    client = service_client("fts")
    client.post("/_gosstand/control/clock", json={"freeze": T0}, headers=control_headers).raise_for_status()
    http = HttpxClient(client=client)
    token = mint(esia_signing_keys)
    filed = declarations.submit(http, fts_url=FTS, token=token, declaration=declaration(), idempotency_key="d-1")
    return http, token, filed.id, client


def test_a_signed_document_goes_up_and_comes_back_byte_for_byte(broker, signer):
    http, token, declaration_id, _ = broker
    document = declarations.upload_document(http, fts_url=FTS, token=token, declaration_id=declaration_id,
                                            content=PDF, file_name="invoice.pdf", idempotency_key="doc-1",
                                            signature=p7s(PDF, signer))
    assert document["signature"]["verified"] is True and document["applicationNumber"]
    again = declarations.upload_document(http, fts_url=FTS, token=token, declaration_id=declaration_id,
                                         content=PDF, file_name="invoice.pdf", idempotency_key="doc-1",
                                         signature=p7s(PDF, signer))
    assert again["id"] == document["id"]  # the retry is the same document
    assert declarations.document_content(http, fts_url=FTS, token=token, declaration_id=declaration_id,
                                         document_id=document["id"]) == PDF


def test_the_feed_from_a_cursor_shows_each_change_once_and_a_withdrawal(broker, control_headers):
    http, token, declaration_id, client = broker
    advance(client, control_headers, 1)
    first, cursor = declarations.events(http, fts_url=FTS, token=token, inn=ORGANISATION["inn"])
    assert [event["status"] for event in first] == ["submitted"]
    status = declarations.withdraw(http, fts_url=FTS, token=token, declaration_id=declaration_id,
                                   idempotency_key="w-1")
    assert status["status"] == "withdrawn"
    advance(client, control_headers, 1)
    later, cursor_after = declarations.events(http, fts_url=FTS, token=token, inn=ORGANISATION["inn"], cursor=cursor)
    assert [event["status"] for event in later] == ["withdrawn"] and cursor_after != cursor
    quiet, unchanged = declarations.events(http, fts_url=FTS, token=token, inn=ORGANISATION["inn"],
                                           cursor=cursor_after)
    assert quiet == [] and unchanged == cursor_after
    with pytest.raises(DeclarationError) as refused:  # a new key cannot withdraw it twice
        declarations.withdraw(http, fts_url=FTS, token=token, declaration_id=declaration_id, idempotency_key="w-2")
    assert refused.value.status == 409


def test_a_request_to_customs_is_filed_and_commented(broker):
    http, token, _, _ = broker
    appeal = declarations.file_appeal(http, fts_url=FTS, token=token, idempotency_key="a-1", appeal={
        "inn": ORGANISATION["inn"], "kpp": ORGANISATION["kpp"], "subject": "Корректировка ДТ",
        "text": "Прошу разъяснить порядок корректировки таможенной стоимости."})
    assert appeal["status"] == "В обработке"
    comment = declarations.comment_appeal(http, fts_url=FTS, token=token, appeal_id=appeal["id"],
                                          text="Дополняю: счёт-фактура приложена.", idempotency_key="c-1")
    assert comment["text"] == "Дополняю: счёт-фактура приложена."
