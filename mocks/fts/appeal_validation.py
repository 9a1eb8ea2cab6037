"""Checking a request to customs (обращение) and a comment on it: every bad field at once.

An appeal names the declarant (INN, KPP for an organisation), a subject and a text, may refer
to one of the declarant's declarations (``declarationId``, ``null`` for none, as the contract
allows), and may carry attachments inline (base64 PDF, JPEG, PNG
or XML — the same kinds, judged by content, as documents of a declaration). Only what is
needed to show the attachment back (name, kind, size, digest) is stored. ``kpp`` and
``attachments`` may be left out but are not nullable, as in the contract. A problem speaks of
the appeal (or the comment), not of a declaration.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from typing import Any

from ..core.identifiers import is_valid_inn, is_valid_kpp
from .sniffing import sniff, xml_problems
from .validation import Findings

__all__ = ["MAX_ATTACHMENTS", "validate_appeal", "validate_comment"]

MAX_ATTACHMENTS = 5


def _attachments(findings: Findings, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The stored form of the attachments; none when the field is absent (``null`` is no array)."""
    if "attachments" not in body:
        return []
    value = body["attachments"]
    if not isinstance(value, list) or len(value) > MAX_ATTACHMENTS:
        findings.add("/attachments", f"an array of at most {MAX_ATTACHMENTS} attachments (leave it out for none)")
        return []
    stored = []
    for index, item in enumerate(value):
        pointer = f"/attachments/{index}"
        attachment = findings.object(item, pointer)
        if attachment is None:
            continue
        name = findings.text(attachment.get("fileName"), f"{pointer}/fileName", max_length=255)
        raw = attachment.get("content")
        content = None
        if not isinstance(raw, str) or not raw:
            findings.add(f"{pointer}/content", "required: the file in base64")
        else:
            try:
                content = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                findings.add(f"{pointer}/content", "not base64")
        if content is None:
            continue
        media_type = sniff(content)
        if media_type is None:
            findings.add(f"{pointer}/content", "not a PDF, JPEG, PNG or XML document")
        elif media_type == "application/xml" and (problems := xml_problems(content)):
            findings.add(f"{pointer}/content", f"malformed XML: {problems[0]['detail']}")
        elif name is not None:
            stored.append({"fileName": name, "mediaType": media_type, "size": len(content),
                           "sha256": hashlib.sha256(content).hexdigest()})
    return stored


def validate_appeal(body: Any) -> dict[str, Any]:
    """The stored form of an appeal, or a 422 problem listing every bad field."""
    findings = Findings("the appeal")
    if not isinstance(body, dict):
        findings.add("", "the appeal must be a JSON object")
        findings.raise_if_any()
    inn = body.get("inn")
    if not isinstance(inn, str) or not is_valid_inn(inn):
        findings.add("/inn", "required: a valid INN")
    kpp = body.get("kpp")
    if "kpp" in body and (not isinstance(kpp, str) or not is_valid_kpp(kpp, digits_only=True)):
        findings.add("/kpp", "a valid KPP (9 digits); leave kpp out when the declarant has none")
    subject = findings.text(body.get("subject"), "/subject", max_length=256)
    text = findings.text(body.get("text"), "/text", max_length=4000)
    declaration_id = body.get("declarationId")
    if declaration_id is not None:
        try:
            declaration_id = str(uuid.UUID(declaration_id)) if isinstance(declaration_id, str) else None
        except ValueError:
            declaration_id = None
        if declaration_id is None:
            findings.add("/declarationId", "a declaration id (UUID)")
    attachments = _attachments(findings, body)
    findings.raise_if_any()
    return {"inn": inn, "kpp": kpp, "subject": subject, "text": text, "declarationId": declaration_id,
            "attachments": attachments}


def validate_comment(body: Any) -> str:
    findings = Findings("the comment")
    if not isinstance(body, dict):
        findings.add("", "the comment must be a JSON object")
        findings.raise_if_any()
    text = findings.text(body.get("text"), "/text", max_length=4000)
    findings.raise_if_any()
    assert text is not None
    return text
