"""Document submission for a declaration: ``POST``/``GET /api/v1/declarations/{id}/documents``.

A multipart form with the document in ``file`` and, optionally, its detached CMS signature
(``.p7s``) in ``signature``. In the order a client would fix them: 415 when the form is not
multipart or the file is not PDF/JPEG/PNG/XML by its bytes; 413 above 5 MiB per file (64 KiB
per signature); 400 for a form that cannot be read or has no ``file``; 422 for a malformed XML
document (``errors[{line, reason}]``) or a signature that does not verify; 409 when the
declaration's life cycle is over (a decision, a refused registration, a withdrawal). Success is
201 with the document: a unique ``applicationNumber`` and its processing status (``processing``
for 10 s on the stand's clock, then ``accepted``). ``Idempotency-Key`` is required: a retry
with the same key returns the first document, the same key with another file is a 409.

``GET …/documents/{documentId}`` reads one document's record and processing status;
``…/{documentId}/content`` gives back the exact bytes received, with the sniffed media type,
``ETag`` = the SHA-256 (``If-None-Match`` → 304) and the file name in ``Content-Disposition``.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..core.access import AccessPolicy
from ..core.bearer import BearerGate
from ..core.context import context
from ..core.forms import MULTIPART, NotAForm, media_type, multipart_form
from ..core.problems import Problem
from .cards import iso
from .detached_signature import SignatureRejected, verify_detached
from .document_repository import DocumentRepository, application_number
from .handlers import READ_SCOPES, WRITE_SCOPES, declaration_id_of, idempotency_key_of, own_head
from .lifecycle import FINAL
from .repository import DeclarationRepository
from .sniffing import sniff, xml_problems

__all__ = ["DocumentsApi", "MAX_FILE_BYTES", "MAX_FORM_BYTES", "MAX_SIGNATURE_BYTES", "PROCESSING_SECONDS"]

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_SIGNATURE_BYTES = 64 * 1024
#: The whole form, the route's body limit (declared in :mod:`.service`): both parts and
#: generous room for multipart framing.
MAX_FORM_BYTES = MAX_FILE_BYTES + MAX_SIGNATURE_BYTES + 64 * 1024
PROCESSING_SECONDS = 10.0
_FILE_NAME_LIMIT = 255
_PARTS_SEEN = 8


async def _parts(request: Request) -> tuple[bytes, str, bytes | None]:
    """The file's bytes and name, and the signature's bytes, or the problem that says why not.
    The whole form is read against :data:`MAX_FORM_BYTES`, the route's body limit."""
    if media_type(request) != MULTIPART:
        raise Problem(415, "send a multipart/form-data form with the document in its 'file' part")
    try:
        # Room to see a few parts too many and name them; a form with more is refused unread.
        async with multipart_form(request, max_parts=_PARTS_SEEN) as form:
            unknown = sorted(set(form.keys()) - {"file", "signature"})
            if unknown:
                raise Problem(400, "the form carries parts other than 'file' and 'signature'",
                              errors=[{"parameter": name, "detail": "not a part of this form"} for name in unknown])
            file_part, signature_part = form.get("file"), form.get("signature")
            content = await file_part.read() if isinstance(file_part, UploadFile) else None
            name = (file_part.filename or "document") if isinstance(file_part, UploadFile) else "document"
            signature = (await signature_part.read() if isinstance(signature_part, UploadFile)
                         else signature_part.encode() if isinstance(signature_part, str) else None)
    except NotAForm as exc:
        raise Problem(400, str(exc)) from None
    if content is None:
        raise Problem(400, "the form has no 'file' part with a file in it",
                      errors=[{"parameter": "file", "detail": "required: the document as a file part"}])
    if len(content) > MAX_FILE_BYTES:
        raise Problem(413, f"a document may be at most {MAX_FILE_BYTES} bytes (scans: 5 MB)")
    if signature is not None and len(signature) > MAX_SIGNATURE_BYTES:
        raise Problem(413, f"a signature may be at most {MAX_SIGNATURE_BYTES} bytes")
    return content, name[:_FILE_NAME_LIMIT], signature


def _view(record: dict[str, Any], now: float) -> dict[str, Any]:
    uploaded = record["uploadedUs"] / 1e6
    done = now >= uploaded + PROCESSING_SECONDS
    return {
        "id": record["id"],
        "declarationId": record["declarationId"],
        "applicationNumber": record["applicationNumber"],
        "fileName": record["fileName"],
        "mediaType": record["mediaType"],
        "size": record["size"],
        "sha256": record["sha256"],
        "signature": record["signature"],
        "status": "accepted" if done else "processing",
        "submittedAt": iso(uploaded),
        "updatedAt": iso(uploaded + PROCESSING_SECONDS if done else uploaded),
    }


class DocumentsApi:
    """A declaration's documents: only the declarant's people (the access policy) see or add them."""

    def __init__(self, verifier: BearerGate, policy: AccessPolicy | None = None) -> None:
        self._verifier = verifier
        self._policy = policy or AccessPolicy()

    async def collection(self, request: Request) -> Response:
        if request.method == "POST":
            return await self.submit(request)
        return await self.list(request)

    async def submit(self, request: Request) -> Response:
        identity = await self._verifier.identify(request, scopes=WRITE_SCOPES)
        key = idempotency_key_of(request)
        declaration_id = declaration_id_of(request)
        ctx = context(request)
        declarations = DeclarationRepository(ctx.store)
        head = await own_head(declarations, self._policy, identity, declaration_id)
        content, name, signature = await _parts(request)
        media_type = sniff(content)
        if media_type is None:
            raise Problem(415, "the file is not a PDF, JPEG, PNG or XML document (judged by its content)")
        if media_type == "application/xml" and (problems := xml_problems(content)):
            raise Problem(422, "the XML document is malformed", errors=problems)
        verified = None
        if signature is not None:
            try:
                verified = verify_detached(signature, content)
            except SignatureRejected as rejected:
                raise Problem(422, f"the signature is rejected: {rejected}",
                              errors=[{"parameter": "signature", "detail": str(rejected)}]) from None
        now = await ctx.clock.now()
        state = await declarations.settle(head, now)
        if state.status in FINAL:
            raise Problem(409, f"the declaration is {state.status.value}: it takes no more documents",
                          currentStatus=state.status.value)
        sha256 = hashlib.sha256(content).hexdigest()
        documents = DocumentRepository(ctx.store, declaration_id)
        await documents.keep_content(sha256, content)
        fingerprint = hashlib.sha256(f"{sha256}:{name}:{signature!r}".encode()).hexdigest()
        record = {
            "id": str(uuid.uuid4()), "declarationId": declaration_id,
            "applicationNumber": await application_number(ctx.store, now),
            "fileName": name, "mediaType": media_type, "size": len(content), "sha256": sha256,
            "signature": None if verified is None else {
                "verified": True, "signer": verified.signer, "certificateSerial": verified.certificate_serial},
            "uploadedUs": round(now * 1_000_000), "fingerprint": fingerprint,
        }
        outcome = await documents.add(record, idempotency_key=key)
        if outcome is None:
            raise Problem(409, "this Idempotency-Key's document was removed meanwhile; retry")
        first, created = outcome
        if first["fingerprint"] != fingerprint:
            raise Problem(409, "this Idempotency-Key was already used for another document of this "
                               "declaration; use a new key for a new document", existingId=first["id"])
        headers = {} if created else {"Idempotent-Replayed": "true"}
        return JSONResponse(_view(first, first["uploadedUs"] / 1e6), status_code=201, headers=headers)

    async def list(self, request: Request) -> Response:
        identity = await self._verifier.identify(request, scopes=READ_SCOPES)
        declaration_id = declaration_id_of(request)
        ctx = context(request)
        await own_head(DeclarationRepository(ctx.store), self._policy, identity, declaration_id)
        now = await ctx.clock.now()
        documents = await DocumentRepository(ctx.store, declaration_id).all()
        return JSONResponse({"items": [_view(record, now) for record in documents]})

    async def _document(self, request: Request) -> tuple[DocumentRepository, dict[str, Any], float]:
        identity = await self._verifier.identify(request, scopes=READ_SCOPES)
        declaration_id = declaration_id_of(request)
        ctx = context(request)
        documents = DocumentRepository(ctx.store, declaration_id)
        record = None
        try:
            document_id = str(uuid.UUID(request.path_params["document_id"]))
        except ValueError:
            document_id = None
        missing = "this declaration has no document with this id"
        if document_id is not None:
            try:
                await own_head(DeclarationRepository(ctx.store), self._policy, identity, declaration_id)
            except Problem:
                raise Problem(404, missing) from None
            record = await documents.get(document_id)
        if record is None:
            raise Problem(404, missing)
        return documents, record, await ctx.clock.now()

    async def one(self, request: Request) -> Response:
        _, record, now = await self._document(request)
        return JSONResponse(_view(record, now))

    async def content(self, request: Request) -> Response:
        documents, record, _ = await self._document(request)
        etag = f'"{record["sha256"]}"'
        if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers={"ETag": etag})
        content = await documents.content(record["sha256"])
        if content is None:  # received before the stand kept bytes: say so rather than pretend
            raise Problem(404, "the bytes of this document were not kept")
        disposition = f"attachment; filename*=UTF-8''{quote(record['fileName'], safe='')}"
        return Response(content, media_type=record["mediaType"],
                        headers={"ETag": etag, "Content-Disposition": disposition})
