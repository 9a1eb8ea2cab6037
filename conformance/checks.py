"""What the contracts say in prose, checked on every answer schemathesis draws.

schemathesis' own checks hold an answer to what the OpenAPI document *declares*: statuses,
media types, schemas, required headers. The contracts also say things a schema cannot: a UTKO
object answer carries its version in ``ETag``; 429 and 503 say when to retry; every client
error of UTKO and FTS is an RFC 9457 problem whose field errors point into the request; a create
retried with its ``Idempotency-Key`` is answered as the first one, marked ``Idempotent-Replayed``;
a 201 names what it created in ``Location``. Each rule here is one plain check function in
schemathesis' form — ``(ctx, response, case)``, returning ``None`` when it held, raising
``AssertionError`` with what broke, and returning ``True`` when the rule does not apply to this
answer (so a report counts only the answers a rule judged). When a rule applies is said by the
stacked guards above it.

The rules are registered with schemathesis (:func:`register`) by the contract tests and by
:mod:`.schemathesis_hooks` for the command line's stateful run: every contract run applies them.
Importing this module registers nothing.
"""

from __future__ import annotations

import email.utils
import functools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import schemathesis

__all__ = [
    "PROSE_CHECKS",
    "client_errors_are_problem_documents",
    "created_answers_carry_a_location",
    "field_errors_point_into_the_request",
    "register",
    "replayed_creates_are_marked",
    "throttled_answers_carry_retry_after",
    "utko_object_answers_carry_an_etag",
]

Check = Callable[[schemathesis.CheckContext, schemathesis.Response, schemathesis.Case], bool | None]

PROBLEM_JSON = "application/problem+json"
#: RFC 9110 §8.8.3: ``"…"`` or ``W/"…"``, the opaque part without quotes or controls.
ENTITY_TAG = re.compile(r'^(W/)?"[\x21\x23-\x7e\x80-\xff]*"$')
#: RFC 6901: empty (the whole document) or ``/``-separated tokens with ``~0`` and ``~1`` escapes only.
JSON_POINTER = re.compile(r"^(/([^~/]|~[01])*)*$")
#: Where a field error may say its field is: the body, a parameter, a header, an XML line.
ERROR_LOCATIONS = ("pointer", "parameter", "header", "line")
#: UTKO's objects, by path template: the answers that carry an object's version.
UTKO_OBJECT_PATHS = ("/v1/objects", "/v1/objects/{id}")
REPLAY_TIMEOUT = 10.0


# -- guards: when a rule applies ------------------------------------------------------------------

def on_statuses(*statuses: int) -> Callable[[Check], Check]:
    """The rule judges answers with one of ``statuses`` only."""
    return _guard(lambda response, case: response.status_code in statuses)


def on_client_errors(check: Check) -> Check:
    """The rule judges 4xx answers only."""
    return _guard(lambda response, case: 400 <= response.status_code < 500)(check)


def on_success(check: Check) -> Check:
    """The rule judges 2xx answers only."""
    return _guard(lambda response, case: 200 <= response.status_code < 300)(check)


def on_problem_contracts(check: Check) -> Check:
    """The rule judges services whose contract speaks RFC 9457 (UTKO, FTS), not ESIA, which keeps
    its own error format."""
    return _guard(lambda response, case: _declares_problems(case.operation.schema.raw_schema))(check)


def on_paths(*paths: str, methods: tuple[str, ...] = ()) -> Callable[[Check], Check]:
    """The rule judges the operations at these path templates (and methods, if given)."""
    wanted = {method.upper() for method in methods}
    return _guard(lambda response, case: case.operation.path in paths
                  and (not wanted or case.operation.method.upper() in wanted))


def on_idempotent_creates(check: Check) -> Check:
    """The rule judges a ``POST`` that carried an ``Idempotency-Key`` and was answered 201."""
    return _guard(lambda response, case: case.operation.method.upper() == "POST" and response.status_code == 201
                  and "idempotency-key" in {name.lower() for name in response.request.headers})(check)


def _guard(applies: Callable[[schemathesis.Response, schemathesis.Case], bool]) -> Callable[[Check], Check]:
    def decorate(check: Check) -> Check:
        @functools.wraps(check)
        def guarded(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                    case: schemathesis.Case) -> bool | None:
            if not applies(response, case):
                return True  # not judged: schemathesis counts it neither passed nor failed
            return check(ctx, response, case)

        return guarded

    return decorate


#: Contract document id → (the document, whether it speaks problem+json); the document is held so
#: its id is not reused while the answer is remembered.
_SPEAKS_PROBLEMS: dict[int, tuple[Any, bool]] = {}


def _declares_problems(raw_schema: Any) -> bool:
    """Whether a contract answers any error as ``application/problem+json`` (once per document)."""
    known = _SPEAKS_PROBLEMS.get(id(raw_schema))
    if known is None or known[0] is not raw_schema:
        known = _SPEAKS_PROBLEMS[id(raw_schema)] = (raw_schema, PROBLEM_JSON in json.dumps(raw_schema, default=str))
    return known[1]


# -- the rules -----------------------------------------------------------------------------------

@on_paths(*UTKO_OBJECT_PATHS, methods=("GET", "POST", "PUT"))
@on_success
def utko_object_answers_carry_an_etag(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                                      case: schemathesis.Case) -> bool | None:
    """An answer holding one UTKO object carries the object's version as an ``ETag``: a client
    sends it back in ``If-Match``, and without it no ``PUT`` can succeed but with ``*``."""
    body = _json_or_none(response)
    if not isinstance(body, dict) or "id" not in body:
        return True  # a page of objects, not one object
    tags = _header(response, "etag")
    assert tags, f"{response.status_code} with object {body['id']} carries no ETag"
    assert ENTITY_TAG.fullmatch(tags[0]), f"ETag {tags[0]!r} is not an entity tag (RFC 9110 §8.8.3)"
    return None


@on_statuses(429, 503)
def throttled_answers_carry_retry_after(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                                        case: schemathesis.Case) -> bool | None:
    """A 429 or 503 says when to come back (``Retry-After``: seconds or an HTTP date, RFC 9110
    §10.2.3): clients are told to retry both with back-off, and a bare one leaves them guessing."""
    values = _header(response, "retry-after")
    assert values, f"{response.status_code} without Retry-After"
    value = values[0].strip()
    if not value.isdigit():
        try:
            email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            raise AssertionError(f"Retry-After {value!r} is neither seconds nor an HTTP date") from None
    return None


@on_problem_contracts
@on_client_errors
def client_errors_are_problem_documents(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                                        case: schemathesis.Case) -> bool | None:
    """Every 4xx of UTKO and FTS is an RFC 9457 problem document whose ``status`` is the answer's
    own: integrators parse one error shape, whatever failed."""
    media_type = (_header(response, "content-type") or [""])[0].split(";")[0].strip().lower()
    assert media_type == PROBLEM_JSON, f"{response.status_code} answered as {media_type or 'no media type'}"
    body = _json_or_none(response)
    assert isinstance(body, dict), f"{response.status_code}: the problem document is not a JSON object"
    for member in ("type", "title"):
        assert isinstance(body.get(member), str), f"the problem document has no {member!r} string"
    assert body.get("status") == response.status_code, (
        f"the problem document says status {body.get('status')!r} in a {response.status_code} answer")
    return None


@on_problem_contracts
@on_client_errors
def field_errors_point_into_the_request(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                                        case: schemathesis.Case) -> bool | None:
    """A 422 lists what is wrong (``errors``), and every listed error says where: a JSON pointer
    (RFC 6901) into the body sent, a parameter, a header or an XML line. A pointer into a JSON body
    must reach into it — its parent exists in what was sent — or the integrator cannot find the
    field to fix."""
    body = _json_or_none(response)
    if not isinstance(body, dict):
        return True  # the problem-document rule judges that
    errors = body.get("errors")
    if response.status_code == 422:
        assert isinstance(errors, list) and errors, "a 422 that lists no errors"
    if errors is None:
        return None
    assert isinstance(errors, list), "errors is not a list"
    sent = _sent_json(response)
    for index, error in enumerate(errors):
        assert isinstance(error, dict), f"errors/{index} is not an object"
        located = [name for name in ERROR_LOCATIONS if name in error]
        assert located, f"errors/{index} says no place ({', '.join(ERROR_LOCATIONS)}): {error}"
        pointer = error.get("pointer")
        if pointer is None:
            continue
        assert isinstance(pointer, str) and JSON_POINTER.fullmatch(pointer), (
            f"errors/{index}/pointer {pointer!r} is not a JSON pointer (RFC 6901)")
        if sent is not _NOT_JSON and pointer:
            parent = pointer.rsplit("/", 1)[0]
            assert _resolves(sent, parent), (
                f"errors/{index}/pointer {pointer!r} leads nowhere in the body sent (no {parent or 'document'!r})")
    return None


@on_idempotent_creates
def replayed_creates_are_marked(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                                case: schemathesis.Case) -> bool | None:
    """Sent again with the same ``Idempotency-Key`` and body — a client's retry after a timeout —
    a create is answered as the first time: 201, the same resource, and ``Idempotent-Replayed:
    true`` so the client knows nothing new was filed. The check sends that retry itself."""
    first = _json_or_none(response)
    again = _send_again(response.request)
    assert again.status_code == 201, (
        f"the same create sent again with its Idempotency-Key was answered {again.status_code}: {again.text[:300]}")
    assert again.headers.get("idempotent-replayed") == "true", (
        "the same create sent again with its Idempotency-Key has no Idempotent-Replayed: true")
    replayed = again.json() if again.content else None
    if isinstance(first, dict) and isinstance(replayed, dict) and "id" in first:
        assert replayed.get("id") == first["id"], (
            f"the retry filed another resource ({replayed.get('id')!r}, not {first['id']!r})")
    return None


@on_statuses(201)
def created_answers_carry_a_location(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                                     case: schemathesis.Case) -> bool | None:
    """A 201 whose contract names a ``Location`` carries it, and it names the resource created:
    its path ends with the answer's ``id``. A client follows it to read what it filed."""
    if not _declares_header(case, "201", "location"):
        return True  # the contract promises no Location for this create
    locations = _header(response, "location")
    assert locations, "201 without Location"
    body = _json_or_none(response)
    if isinstance(body, dict) and isinstance(body.get("id"), str):
        path = httpx.URL(locations[0]).path.rstrip("/")
        assert path.endswith("/" + body["id"]), f"Location {locations[0]!r} does not name {body['id']!r}"
    return None


PROSE_CHECKS: tuple[Check, ...] = (
    utko_object_answers_carry_an_etag,
    throttled_answers_carry_retry_after,
    client_errors_are_problem_documents,
    field_errors_point_into_the_request,
    replayed_creates_are_marked,
    created_answers_carry_a_location,
)


def register() -> None:
    """Make every rule part of every schemathesis run in this process (idempotent)."""
    for check in PROSE_CHECKS:
        schemathesis.check(check)


# -- reading an answer ---------------------------------------------------------------------------

_NOT_JSON = object()


def _header(response: schemathesis.Response, name: str) -> list[str]:
    return next((values for key, values in response.headers.items() if key.lower() == name), [])


def _json_or_none(response: schemathesis.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _sent_json(response: schemathesis.Response) -> Any:
    """The JSON body of the request that was answered, or ``_NOT_JSON`` (no body, a form, a file)."""
    request = response.request
    media_type = str(request.headers.get("content-type", "")).split(";")[0].strip().lower()
    body = request.body
    if not (media_type == "application/json" or media_type.endswith("+json")):
        return _NOT_JSON
    if not isinstance(body, (str, bytes, bytearray)):  # none, or a stream (whose type the stubs installed decide)
        return _NOT_JSON
    try:
        return json.loads(body)
    except ValueError:
        return _NOT_JSON  # malformed JSON: a 400, no pointer can reach into it


def _resolves(document: Any, pointer: str) -> bool:
    """Whether an RFC 6901 pointer names something in ``document``."""
    node = document
    for token in _tokens(pointer):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False
    return True


def _tokens(pointer: str) -> Iterator[str]:
    for raw in pointer.split("/")[1:]:
        yield raw.replace("~1", "/").replace("~0", "~")


def _declares_header(case: schemathesis.Case, status: str, name: str) -> bool:
    responses = case.operation.definition.raw.get("responses", {})
    declared = _dereferenced(case, responses.get(status, {}))
    return any(header.lower() == name for header in declared.get("headers", {}))


def _dereferenced(case: schemathesis.Case, item: Any) -> Any:
    """A response object, following one local ``$ref`` (``#/components/responses/…``)."""
    reference = item.get("$ref") if isinstance(item, dict) else None
    if not isinstance(reference, str) or not reference.startswith("#/"):
        return item if isinstance(item, dict) else {}
    node: Any = case.operation.schema.raw_schema
    for token in _tokens(reference[1:]):
        node = node.get(token, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


def _send_again(request: Any) -> httpx.Response:
    """The answered request sent once more, byte for byte (method, URL, headers, body)."""
    body = request.body.encode() if isinstance(request.body, str) else request.body
    headers = {name: value for name, value in request.headers.items() if name.lower() != "content-length"}
    return httpx.request(request.method, request.url, headers=headers, content=body, timeout=REPLAY_TIMEOUT)
