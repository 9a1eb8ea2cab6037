"""A personal account that is not the stand's: another relying party of the stand's ESIA, with
paths and pages of its own, for testing that the conformance suite finds its way through a
target's account rather than assuming the stand's paths.

``GET /lk/vhod`` is a page with a «Войти через Госуслуги» form (``POST /lk/auth/start``, which
sends the browser to ESIA v1 ``ac``); ESIA comes back to ``/lk/oauth/return``; the session
(cookie ``lk_sid``) opens ``/lk/kabinet``, which links «Выход» to ``/lk/signout``, which ends
the session and ESIA's and comes back to ``/lk/bye``. ``check_state=False`` makes it the broken
account a conformance run must catch: it takes any ``state``.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from gosstand.scenarios import esia_login
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_client import RelyingParty, make_test_identity
from gosstand.scenarios.http import HttpxClient

SCOPE = "openid fullname"


@contextmanager
def foreign_account(esia_url: str, control: StackControl, client_id: str, *,
                    check_state: bool = True) -> Iterator[str]:
    """Serve the account on loopback, registered at the ESIA ``control`` manages; yields its
    login URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    certificate, key = make_test_identity(client_id)
    rp = RelyingParty(client_id, f"{base}/lk/oauth/return", certificate, key, clock=lambda: control.now("esia"))
    control.register_client(client_id, redirect_uris=[rp.redirect_uri, f"{base}/lk/bye"],
                            certificate=rp.certificate_pem)
    states: dict[str, str] = {}  # state -> the browser it was given to
    sessions: dict[str, int] = {}  # session id -> OID

    class Handler(BaseHTTPRequestHandler):
        def _cookie(self, name: str) -> str | None:
            jar = SimpleCookie(self.headers.get("Cookie", ""))
            return jar[name].value if name in jar else None

        def _answer(self, status: int, body: str = "", *, location: str | None = None,
                    cookies: tuple[str, ...] = ()) -> None:
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            for cookie in cookies:
                self.send_header("Set-Cookie", cookie)
            page = f"<!doctype html><html lang='ru'><body>{body}</body></html>".encode()
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if urlsplit(self.path).path != "/lk/auth/start":
                return self._answer(404)
            browser = self._cookie("lk_browser") or secrets.token_urlsafe(16)
            params = rp.authorization_params(SCOPE)
            states[params["state"]] = browser
            self._answer(302, location=f"{esia_url}{rp.authorize_path}?{urlencode(params)}",
                         cookies=(f"lk_browser={browser}; Path=/; HttpOnly",))

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            query = {name: values[0] for name, values in parse_qs(parts.query).items()}
            sid = self._cookie("lk_sid")
            if parts.path == "/lk/vhod":
                return self._answer(200, "<form method='post' action='/lk/auth/start'>"
                                         "<button type='submit'>Войти через Госуслуги</button></form>")
            if parts.path == "/lk/oauth/return":
                return self._callback(query)
            if parts.path == "/lk/kabinet":
                if sid not in sessions:
                    return self._answer(302, location="/lk/vhod")
                return self._answer(200, f"<p>OID {sessions[sid]}</p><a href='/lk/signout'>Выход</a>")
            if parts.path == "/lk/signout":
                sessions.pop(sid or "", None)
                back = urlencode({"client_id": client_id, "redirect_url": f"{base}/lk/bye"})
                target = f"{esia_url}/idp/ext/Logout?{back}"
                return self._answer(302, location=target, cookies=("lk_sid=; Path=/; Max-Age=0",))
            if parts.path == "/lk/bye":
                return self._answer(200, "<p>До свидания</p>")
            return self._answer(404)

        def _callback(self, query: dict[str, str]) -> None:
            given_to = states.pop(query.get("state", ""), None)
            if check_state and (given_to is None or given_to != self._cookie("lk_browser")):
                return self._answer(400, "<p>Неверный state</p>")
            if "error" in query or "code" not in query:
                return self._answer(403, "<p>ЕСИА отказала</p>")
            try:
                with HttpxClient() as http:
                    tokens = esia_login.exchange(http, esia_url=esia_url, rp=rp, code=query["code"], scope=SCOPE)
            except esia_login.EsiaJourneyError:
                return self._answer(403, "<p>Код не принят</p>")
            sid = secrets.token_urlsafe(16)
            sessions[sid] = tokens.oid
            self._answer(302, location="/lk/kabinet", cookies=(f"lk_sid={sid}; Path=/; HttpOnly",))

        def log_message(self, *args: object) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{base}/lk/vhod"
    finally:
        server.shutdown()
        server.server_close()
