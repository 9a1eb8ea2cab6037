"""Reading a posted HTML form's text fields — the one form reader of every mock — and the
body's media type every body reader checks first.

Browsers and relying parties post ``application/x-www-form-urlencoded`` (every login step and
every ``te`` request); that is read as the standard library's ``parse_qsl`` reads it
(:mod:`.urlencoded`, which decodes a long percent-encoded ``client_secret`` in C), splitting and
decoding exactly as Starlette's form parser does (``&`` only, ``+`` as space, ``%xx`` as UTF-8)
at a fraction of its cost. ``multipart/form-data`` goes to Starlette's parser (python-multipart),
through :func:`multipart_form`, which every multipart endpoint uses.

Either way the body is read against its route's limit as it streams (:mod:`.limits`): the
:class:`~.limits.BodyTooLarge` raised past it, and Starlette's ``ClientDisconnect`` for a body
cut short, go through to the app's handlers rather than being taken for a malformed form.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.datastructures import FormData
from starlette.requests import ClientDisconnect, Request

from .problems import Problem
from .urlencoded import TooManyFields, urlencoded_pairs

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
#: As Starlette's default: a body with more fields than this is not read as a form.
MAX_FIELDS = 1000

# python-multipart logs a warning for every malformed body it is sent. The client is told (a
# 400 saying why); a replica's log is for the replica's own faults.
logging.getLogger("python_multipart").setLevel(logging.ERROR)


class NotAForm(Exception):
    """The body is a form that cannot be read (malformed multipart, too many fields)."""


def media_type(request: Request) -> str:
    """The body's media type without parameters, lower case (``""`` without a Content-Type)."""
    return media_type_of(request.headers.get("content-type", ""))


def media_type_of(content_type: str) -> str:
    """A ``Content-Type`` value's media type without parameters, lower case."""
    return content_type.split(";")[0].strip().lower()


def urlencoded_fields(body: bytes) -> list[tuple[str, str]]:
    """The fields of an ``application/x-www-form-urlencoded`` body in order, repeats kept;
    :class:`NotAForm` for one with more than :data:`MAX_FIELDS` fields."""
    try:
        return urlencoded_pairs(body.decode("latin-1"), max_fields=MAX_FIELDS)
    except TooManyFields:
        raise NotAForm("too many fields") from None


async def form_fields(request: Request) -> list[tuple[str, str]] | None:
    """The text fields in order, repeats kept; ``None`` when the body is not a form at all.

    Raises :class:`NotAForm` for a form body that cannot be read."""
    kind = media_type(request)
    if kind == URLENCODED:
        return urlencoded_fields(await request.body())
    if kind == MULTIPART:
        async with multipart_form(request, max_parts=MAX_FIELDS) as form:
            return [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    return None


@asynccontextmanager
async def multipart_form(request: Request, *, max_parts: int,
                         max_field_bytes: int = 1024 * 1024) -> AsyncIterator[FormData]:
    """The parsed ``multipart/form-data`` body (file parts spooled to disk past 1 MiB), closed on
    exit. A body that is not such a form, has more than ``max_parts`` files or fields, or a
    field (a part without a file name) over ``max_field_bytes``, raises :class:`NotAForm`
    saying why; a body over its route's limit or cut short passes through."""
    try:
        form = await request.form(max_files=max_parts, max_fields=max_parts, max_part_size=max_field_bytes)
    except (Problem, ClientDisconnect):
        raise
    except Exception as exc:  # python-multipart and Starlette raise several types on malformed bodies
        reason = getattr(exc, "detail", None) or str(exc) or type(exc).__name__
        raise NotAForm(f"the form could not be read: {reason}") from None
    try:
        yield form
    finally:
        await form.close()
