"""The bad-input corpus: what an outsider can send each service, against a running embedded
stack with two replicas of each (issue 12).

Every refusal is a 4xx with a problem+json body — ESIA's own OAuth error form on ESIA's
endpoints — never a 5xx. After every test every replica process still runs and none has logged
a fault of its own; every replica answers its health check after each of the largest bodies and
at the end. A body far past its route's limit is refused before it has all been sent, while the
replica's peak memory grows by less than three times the limit plus 32 MiB (a 64 MiB body read
whole takes at least twice its size). Each reproduction of issue 12 (points 1–5 and 7) is here.
"""

from __future__ import annotations

import base64
import json
import re
import stat
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fts_requests import declaration, token
from gosstand.mocks.core.json_body import MAX_DEPTH
from gosstand.mocks.core.keys import ensure_signing_keys
from gosstand.mocks.core.limits import DEFAULT_BODY_LIMIT, MAX_HEADER_BYTES, MAX_TARGET_BYTES
from gosstand.mocks.fts.documents import MAX_FORM_BYTES
from gosstand.mocks.fts.handlers import MAX_BODY_BYTES as FTS_BODY_BYTES
from gosstand.mocks.utko.handlers import MAX_BODY_BYTES as UTKO_OBJECT_BYTES
from gosstand.mocks.utko.weight_controls import MAX_FILE_BYTES as UTKO_IMPORT_BYTES
from gosstand.stand.manifest import MANIFEST_NAME
from gosstand.stand.stack import EmbeddedStack
from raw_http import Answer, chunked, exchange, zeros
from replica_processes import answering_replicas, peak_kib, reset_peak, workers

pytestmark = pytest.mark.stack

MIB = 1 << 20
HUGE = 64 * MIB
BOUNDARY = "gosstand-corpus"
SERVICES = ("esia", "fts", "utko")


@dataclass(frozen=True)
class BodyRoute:
    """An endpoint that reads a body, and how to get a request as far as reading it."""

    service: str
    method: str
    path: str  # ``{declaration}`` becomes the corpus' declaration
    kind: str  # json | form | multipart
    limit: int
    auth: str  # token | control | none
    esia_form: bool = False  # answers in ESIA's OAuth error form


BODY_ROUTES = {
    "esia-te": BodyRoute("esia", "POST", "/aas/oauth2/te", "form", DEFAULT_BODY_LIMIT, "none", esia_form=True),
    "esia-login": BodyRoute("esia", "POST", "/aas/oauth2/login", "form", DEFAULT_BODY_LIMIT, "none", esia_form=True),
    "esia-control": BodyRoute("esia", "POST", "/_gosstand/control/users", "json", DEFAULT_BODY_LIMIT, "control"),
    "fts-declarations": BodyRoute("fts", "POST", "/api/v1/declarations", "json", FTS_BODY_BYTES, "token"),
    "fts-appeals": BodyRoute("fts", "POST", "/api/v1/appeals", "json", FTS_BODY_BYTES, "token"),
    "fts-documents": BodyRoute("fts", "POST", "/api/v1/declarations/{declaration}/documents", "multipart",
                               MAX_FORM_BYTES, "token"),
    "fts-control": BodyRoute("fts", "POST", "/_gosstand/control/clock", "json", DEFAULT_BODY_LIMIT, "control"),
    "utko-objects": BodyRoute("utko", "POST", "/v1/objects", "json", UTKO_OBJECT_BYTES, "token"),
    "utko-weight-import": BodyRoute("utko", "POST", "/reo-weight-control-api/api/v1/weight-controls/import",
                                    "multipart", UTKO_IMPORT_BYTES, "none"),
    "utko-control": BodyRoute("utko", "PUT", "/_gosstand/control/allowlist/CORPUS", "json", DEFAULT_BODY_LIMIT,
                              "control"),
}
JSON_ROUTES = [name for name, route in BODY_ROUTES.items() if route.kind == "json"]


@dataclass(frozen=True)
class Corpus:
    stack: EmbeddedStack
    token: str
    declaration_id: str

    def url(self, service: str) -> str:
        return self.stack.urls[service]

    def headers(self, route: BodyRoute, content_type: str | None = None) -> list[tuple[str, str]]:
        kind = {"json": "application/json", "form": "application/x-www-form-urlencoded",
                "multipart": f"multipart/form-data; boundary={BOUNDARY}"}[route.kind]
        found = [("Content-Type", content_type or kind)]
        if route.auth == "token":
            found += [("Authorization", f"Bearer {self.token}"), ("Idempotency-Key", f"corpus-{uuid.uuid4()}")]
        elif route.auth == "control":
            found.append(("Authorization", f"Bearer {self.stack.control_token}"))
        return found

    def target(self, route: BodyRoute) -> str:
        return route.path.format(declaration=self.declaration_id)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    state_dir = tmp_path_factory.mktemp("bad-input-state")
    state_dir.chmod(0o755)  # a --state-dir as a user makes it: readable by all
    with EmbeddedStack(replicas=2, state_dir=state_dir).start() as stack:
        control = {"Authorization": f"Bearer {stack.control_token}"}
        # The declaration takes documents until its life cycle ends: the clock stands still meanwhile.
        httpx.post(f"{stack.urls['fts']}/_gosstand/control/clock", json={"freeze": True},
                   headers=control).raise_for_status()
        bearer = token(ensure_signing_keys(state_dir / "esia-keys"), now=time.time())
        created = httpx.post(f"{stack.urls['fts']}/api/v1/declarations", json=declaration(),
                             headers={"Authorization": f"Bearer {bearer}", "Idempotency-Key": "corpus-declaration"})
        assert created.status_code == 201, created.text
        yield Corpus(stack, bearer, created.json()["id"])


@pytest.fixture(autouse=True)
def no_replica_harmed(corpus: Corpus) -> Iterator[None]:
    """After each test: every replica process still runs, and none logged a traceback meanwhile
    (granian logs one for each exception the app lets out: a fault of the server's own). That
    every replica still answers its health check is asked after the largest bodies and at the end."""
    replicas = [replica for service in SERVICES for replica in corpus.stack.members[service]]
    logged = {replica.name: _log_size(replica.log) for replica in replicas}
    yield
    assert [replica.name for replica in replicas if not replica.alive] == []
    for replica in replicas:
        assert replica.log is not None
        with replica.log.open("rb") as log:
            log.seek(logged[replica.name])
            written = log.read().decode(errors="replace")
        assert "Traceback" not in written, f"{replica.name} logged a fault:\n{written[-3000:]}"


def assert_every_replica_answers(corpus: Corpus, service: str) -> None:
    expected = {replica.name for replica in corpus.stack.members[service]}
    assert answering_replicas(corpus.stack, service) == expected, f"a replica of {service} does not answer"


def _log_size(log: Path | None) -> int:
    return log.stat().st_size if log is not None and log.exists() else 0


# --- what a refusal looks like ------------------------------------------------------------------

def assert_refused(answer: Answer, status: int, *, esia_form: bool) -> dict:
    """``answer`` is a refusal with ``status`` in the route's error form; its body comes back."""
    assert answer.status == status, (answer.status, answer.body[:500])
    body = answer.json()
    if esia_form:
        assert answer.headers["content-type"].startswith("application/json")
        assert body["error"] == "invalid_request" and body["error_description"].startswith("ESIA-007003: "), body
    else:
        assert answer.headers["content-type"] == "application/problem+json", answer.headers
        assert body["status"] == status and body["title"], body
    return body


def is_error_form(answer: httpx.Response | Answer) -> bool:
    """A problem+json body, or one of ESIA's own error bodies (OAuth's or ``/rs``'s)."""
    content_type = answer.headers.get("content-type", "")
    body = json.loads(answer.content if isinstance(answer, httpx.Response) else answer.body)
    if content_type == "application/problem+json":
        return body.get("status") == (answer.status_code if isinstance(answer, httpx.Response) else answer.status)
    return content_type.startswith("application/json") and ({"error", "error_description"} <= body.keys()
                                                            or {"code", "message"} <= body.keys())


# --- bodies -------------------------------------------------------------------------------------

def enveloped(route: BodyRoute, content: Iterable[bytes], *, file_name: str = "corpus.bin") -> Iterator[bytes]:
    """``content`` as the route's body: the value of a form field, or the file part of a form."""
    if route.kind == "form":
        yield b"client_id="
    elif route.kind == "multipart":
        yield (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
               "Content-Type: application/octet-stream\r\n\r\n").encode()
    yield from content
    if route.kind == "multipart":
        yield f"\r\n--{BOUNDARY}--\r\n".encode()


def envelope_bytes(route: BodyRoute) -> int:
    return sum(len(piece) for piece in enveloped(route, ()))


def post(corpus: Corpus, route: BodyRoute, body: bytes, content_type: str | None = None) -> Answer:
    headers = [*corpus.headers(route, content_type), ("Content-Length", str(len(body)))]
    return exchange(corpus.url(route.service), route.method, corpus.target(route), headers=headers, body=[body])


# --- 1. bodies past their limit -----------------------------------------------------------------

@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize("name", list(BODY_ROUTES))
def test_a_body_far_past_its_limit_is_a_413_before_it_is_all_sent_in_bounded_memory(corpus, name, framing):
    route = BODY_ROUTES[name]
    peaks = workers(corpus.stack, route.service)
    try:
        before = {replica: reset_peak(pid) for replica, pid in peaks.items()}
    except OSError as exc:
        pytest.skip(f"the peak memory of a replica cannot be reset here: {exc}")
    body = enveloped(route, zeros(HUGE))
    headers = corpus.headers(route)
    if framing == "chunked":
        headers.append(("Transfer-Encoding", "chunked"))
        body = chunked(body)
    else:
        headers.append(("Content-Length", str(HUGE + envelope_bytes(route))))
    answer = exchange(corpus.url(route.service), route.method, corpus.target(route), headers=headers, body=body)
    refusal = assert_refused(answer, 413, esia_form=route.esia_form)
    assert str(route.limit) in (refusal.get("detail") or refusal.get("error_description")), refusal
    assert answer.sent < HUGE, "the whole body was taken before the answer"
    growth_kib = max(peak_kib(pid) - before[replica] for replica, pid in peaks.items())
    bound_kib = (3 * route.limit + 32 * MIB) // 1024
    assert growth_kib < bound_kib, f"a replica's peak memory grew {growth_kib} KiB (bound {bound_kib} KiB)"
    assert_every_replica_answers(corpus, route.service)


def test_with_the_request_journal_on_a_huge_body_is_refused_in_bounded_memory_too(corpus):
    route = BODY_ROUTES["esia-te"]
    journal = f"{corpus.url('esia')}/_gosstand/control/requests"
    control = {"Authorization": f"Bearer {corpus.stack.control_token}"}
    httpx.post(journal, json={"record": True}, headers=control).raise_for_status()
    try:
        peaks = workers(corpus.stack, "esia")
        before = {replica: reset_peak(pid) for replica, pid in peaks.items()}
        headers = [*corpus.headers(route), ("Transfer-Encoding", "chunked")]
        answer = exchange(corpus.url("esia"), "POST", route.path, headers=headers,
                          body=chunked(enveloped(route, zeros(HUGE))))
        assert_refused(answer, 413, esia_form=True)
        growth_kib = max(peak_kib(pid) - before[replica] for replica, pid in peaks.items())
        assert growth_kib < (3 * route.limit + 32 * MIB) // 1024, growth_kib
        (entry,) = httpx.get(journal, params={"path": route.path, "limit": 1}, headers=control).json()["items"]
        assert entry["status"] == 413 and entry["body"].startswith("client_id=000")
    finally:
        httpx.post(journal, json={"record": False}, headers=control).raise_for_status()


def test_a_body_within_its_limit_still_reaches_its_endpoint(corpus):
    route = BODY_ROUTES["utko-weight-import"]
    payload = json.dumps({"objectId": str(uuid.uuid4()), "accessKey": "x" * 16, "weightControls": []}).encode()
    body = b"".join(enveloped(route, [payload + b" " * (route.limit - 4096)], file_name="wc.json"))
    assert len(body) < route.limit
    answer = post(corpus, route, body)
    assert answer.status == 403, answer.body[:300]  # read whole and parsed: the key opens no object


# --- 2. JSON the mocks cannot use ----------------------------------------------------------------

def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 30_000])
@pytest.mark.parametrize("name", [*JSON_ROUTES, "utko-weight-import"])
def test_json_nested_too_deep_is_a_400_that_says_so(corpus, name, depth):
    route = BODY_ROUTES[name]
    body = b"".join(enveloped(route, [nested(depth)], file_name="wc.json")) if route.kind == "multipart" \
        else nested(depth)
    answer = post(corpus, route, body)
    problem = assert_refused(answer, 400, esia_form=False)
    assert f"more than {MAX_DEPTH} levels deep" in problem["detail"], problem


def test_json_nested_to_the_limit_is_read(corpus):
    route = BODY_ROUTES["fts-control"]
    answer = post(corpus, route, b'{"x": ' + nested(MAX_DEPTH - 1) + b"}")
    problem = assert_refused(answer, 422, esia_form=False)  # read, and then found to say nothing
    assert "advance, freeze, resume or reset" in problem["detail"]


UNUSABLE_JSON = {
    "invalid-utf8": b'{"text": "\xff\xfe"}',
    "lone-surrogate": b'{"inn": "7707083893", "subject": "s", "text": "\\ud800"}',
    "nan": b'{"advance": NaN}',
    "infinity": b'{"advance": -Infinity}',
    "5000-digit-number": b'{"advance": ' + b"9" * 5000 + b"}",
    "truncated": b'{"advance": ',
    "not-json": b"advance=1",
}


@pytest.mark.parametrize("case", list(UNUSABLE_JSON))
@pytest.mark.parametrize("name", JSON_ROUTES)
def test_json_the_mocks_cannot_use_is_a_400(corpus, name, case):
    answer = post(corpus, BODY_ROUTES[name], UNUSABLE_JSON[case])
    problem = assert_refused(answer, 400, esia_form=False)
    assert problem["detail"].startswith("the body "), problem


def test_a_weight_control_file_that_is_not_utf8_json_is_a_400_naming_the_file(corpus):
    route = BODY_ROUTES["utko-weight-import"]
    for content in (b'{"objectId": "\xff"}', b'{"weightControls": [NaN]}'):
        answer = post(corpus, route, b"".join(enveloped(route, [content], file_name="wc.json")))
        problem = assert_refused(answer, 400, esia_form=False)
        assert problem["errors"][0]["parameter"] == "file", problem


# --- 3. bodies cut short or framed wrong ---------------------------------------------------------

@pytest.mark.parametrize("name", list(BODY_ROUTES))
def test_a_body_shorter_than_its_content_length_is_a_400(corpus, name):
    route = BODY_ROUTES[name]
    headers = [*corpus.headers(route), ("Content-Length", "1000")]  # within every limit
    answer = exchange(corpus.url(route.service), route.method, corpus.target(route), headers=headers,
                      body=enveloped(route, [b"0" * 10]), shut_write=True)
    assert_refused(answer, 400, esia_form=route.esia_form)


BROKEN_CHUNKS = {"size-not-hex": b"zz\r\n", "longer-than-its-size": b"5\r\nabcdefgh\r\n", "negative-size": b"-1\r\n",
                 "70k-extension": b"5;" + b"x" * 70_000 + b"\r\n"}


@pytest.mark.parametrize("framing", list(BROKEN_CHUNKS))
@pytest.mark.parametrize("name", list(BODY_ROUTES))
def test_a_broken_chunked_body_is_a_400(corpus, name, framing):
    route = BODY_ROUTES[name]
    start = b"".join(enveloped(route, [b"0" * 10]))
    headers = [*corpus.headers(route), ("Transfer-Encoding", "chunked")]
    answer = exchange(corpus.url(route.service), route.method, corpus.target(route), headers=headers,
                      body=[b"%x\r\n" % len(start) + start + b"\r\n", BROKEN_CHUNKS[framing]], shut_write=True)
    assert_refused(answer, 400, esia_form=route.esia_form)


@pytest.mark.parametrize("name", JSON_ROUTES)
def test_a_content_length_shorter_than_the_body_takes_only_what_it_says(corpus, name):
    route = BODY_ROUTES[name]
    headers = [*corpus.headers(route), ("Content-Length", "2")]
    answer = exchange(corpus.url(route.service), route.method, corpus.target(route), headers=headers,
                      body=[b'[]{"advance": 1000000}'])
    assert 400 <= answer.status < 500 and is_error_form(answer), answer.body[:300]


# --- 4. XML documents in encodings expat cannot read ---------------------------------------------

ODD_ENCODINGS = ["UTF-7", "shift_jis", "gb2312", "euc-jp", "big5", "cp932", "utf-32", "x-no-such-encoding"]


@pytest.mark.parametrize("encoding", ODD_ENCODINGS)
def test_an_fts_document_in_an_encoding_expat_cannot_read_is_a_422_naming_it(corpus, encoding):
    route = BODY_ROUTES["fts-documents"]
    document = f'<?xml version="1.0" encoding="{encoding}"?><d/>'.encode()
    answer = post(corpus, route, b"".join(enveloped(route, [document], file_name="d.xml")))
    problem = assert_refused(answer, 422, esia_form=False)
    assert problem["errors"][0]["line"] == 1 and encoding in problem["errors"][0]["reason"], problem


def test_an_appeal_attachment_in_an_encoding_expat_cannot_read_is_a_422(corpus):
    document = base64.b64encode(b'<?xml version="1.0" encoding="shift_jis"?><d/>').decode()
    body = {"inn": "7707083893", "subject": "Документ", "text": "Прилагаю",
            "attachments": [{"fileName": "d.xml", "content": document}]}
    answer = post(corpus, BODY_ROUTES["fts-appeals"], json.dumps(body).encode())
    problem = assert_refused(answer, 422, esia_form=False)
    assert problem["errors"] == [{"pointer": "/attachments/0/content", "detail": problem["errors"][0]["detail"]}]
    assert "shift_jis" in problem["errors"][0]["detail"]


def test_a_windows_1251_document_is_still_accepted(corpus):
    route = BODY_ROUTES["fts-documents"]
    document = '<?xml version="1.0" encoding="windows-1251"?><d>Декларация</d>'.encode("cp1251")
    answer = post(corpus, route, b"".join(enveloped(route, [document], file_name="d.xml")))
    assert answer.status == 201, answer.body[:300]


# --- 5. appeals: the contract's types, and errors that speak of the appeal --------------------------

@pytest.mark.parametrize(("field", "pointer"), [("attachments", "/attachments"), ("kpp", "/kpp")])
def test_an_appeal_with_null_where_the_contract_says_a_value_is_a_422_about_the_appeal(corpus, field, pointer):
    body = {"inn": "7707083893", "subject": "Вопрос", "text": "Текст", field: None}
    problem = assert_refused(post(corpus, BODY_ROUTES["fts-appeals"], json.dumps(body).encode()), 422,
                             esia_form=False)
    assert problem["detail"] == "the appeal has 1 invalid field", problem
    assert [error["pointer"] for error in problem["errors"]] == [pointer]


def test_a_comment_error_speaks_of_the_comment(corpus):
    filed = post(corpus, BODY_ROUTES["fts-appeals"],
                 json.dumps({"inn": "7707083893", "subject": "Вопрос", "text": "Текст"}).encode())
    assert filed.status == 201, filed.body[:300]
    route = BodyRoute("fts", "POST", f"/api/v1/appeals/{filed.json()['id']}/comments", "json", FTS_BODY_BYTES, "token")
    problem = assert_refused(post(corpus, route, b'{"text": 5}'), 422, esia_form=False)
    assert problem["detail"] == "the comment has 1 invalid field", problem


# --- 6. paths and heads ------------------------------------------------------------------------

PATH_TRICKS = ["/..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd", "/%00", "/api/v1/declarations/%00",
               "/api/v1/declarations/..%2f_gosstand%2fcontrol%2freset", "/v1/objects/%00%0d%0aX-Injected:%201",
               "/rs/prns/%00", "/rs/prns/1/..%2f..%2f..", "/_gosstand/control/..%2freset", "/%ff%fe",
               "//etc/passwd", "/v1/objects/" + "%c0%af" * 20]


@pytest.mark.parametrize("path", PATH_TRICKS)
@pytest.mark.parametrize("service", SERVICES)
def test_path_tricks_are_refused_in_the_error_form(corpus, service, path):
    for method in ("GET", "POST"):
        answer = exchange(corpus.url(service), method, path, headers=[("Content-Length", "0")])
        assert 400 <= answer.status < 500 and is_error_form(answer), (method, answer.status, answer.body[:300])
        assert "x-injected" not in answer.headers


@pytest.mark.parametrize("service", SERVICES)
def test_a_request_target_past_the_limit_is_a_414_problem(corpus, service):
    for target in ("/" + "a" * (MAX_TARGET_BYTES + 1), "/api/v1/declarations?inn=" + "7" * MAX_TARGET_BYTES):
        answer = exchange(corpus.url(service), "GET", target)
        assert_refused(answer, 414, esia_form=False)


@pytest.mark.parametrize("service", SERVICES)
def test_headers_past_the_limit_are_a_431_problem(corpus, service):
    answer = exchange(corpus.url(service), "GET", "/_gosstand/health",
                      headers=[("X-Padding", "a" * (MAX_HEADER_BYTES + 1))])
    assert_refused(answer, 431, esia_form=False)


@pytest.mark.parametrize("service", SERVICES)
def test_what_granian_refuses_itself_it_refuses_bare_but_survives(corpus, service):
    # granian's own limits sit above the stand's; its answers carry no body at all.
    assert exchange(corpus.url(service), "GET", "/" + "a" * 70_000).status == 414
    assert exchange(corpus.url(service), "GET", "/", headers=[(f"X-{i}", "1") for i in range(101)]).status == 431


# --- 7. tokens, the control token, the manifest ---------------------------------------------------

#: What RFC 6750 allows inside ``error_description="…"``.
_RFC6750_TEXT = re.compile(r'[\x20\x21\x23-\x5b\x5d-\x7e]*')


@pytest.mark.parametrize("service", ["fts", "utko"])
def test_an_invalid_token_gets_a_fixed_rfc6750_description_and_the_reason_in_the_body(corpus, service):
    header = base64.urlsafe_b64encode(b"\xff\xfe\xfa").rstrip(b"=").decode()
    path = "/api/v1/declarations?inn=7707083893" if service == "fts" else "/v1/objects"
    answer = httpx.get(corpus.url(service) + path, headers={"Authorization": f"Bearer {header}.e30.c2ln"})
    assert answer.status_code == 401
    challenge = answer.headers["www-authenticate"]
    found = re.fullmatch(r'Bearer error="invalid_token", error_description="(.*)"', challenge)
    assert found and _RFC6750_TEXT.fullmatch(found.group(1)), challenge
    assert found.group(1) == "The access token is invalid", challenge
    assert "decode" in answer.json()["detail"]  # PyJWT's reason, in the body where it is escaped


def test_stack_json_is_readable_by_its_owner_only_in_a_state_dir_the_user_made(corpus):
    state_dir = corpus.stack.state_dir
    assert state_dir is not None and stat.S_IMODE(state_dir.stat().st_mode) == 0o755
    manifest = Path(state_dir) / MANIFEST_NAME
    assert corpus.stack.control_token in manifest.read_text()
    assert stat.S_IMODE(manifest.stat().st_mode) == 0o600


# --- last: after all of it ---------------------------------------------------------------------

@pytest.mark.parametrize("service", SERVICES)
def test_after_the_corpus_every_replica_answers_its_health_check(corpus, service):
    assert_every_replica_answers(corpus, service)
