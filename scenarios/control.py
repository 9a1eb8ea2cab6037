"""Driving a running stack through its control API (``/_gosstand/control``, token-protected):
register ESIA client systems, seed users, read the SMS outbox, reset state, move the clock, set
fault rules and read the request journal.

Works against any deployment that exposes the control API — the embedded stack, containers,
or a staging system running the mocks — since it needs only URLs and the control token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .http import HttpClient, HttpResponse, HttpxClient


class RequestVerificationError(AssertionError):
    """:meth:`StackControl.verify` did not find what it was asked to; the message says what the
    service received instead."""


class ControlError(Exception):
    """The control API refused a request; ``status`` and ``body`` say why."""

    def __init__(self, what: str, response: HttpResponse) -> None:
        super().__init__(f"{what}: HTTP {response.status}: {response.text[:500]}")
        self.status = response.status
        self.body = response.text


class StackControl:
    def __init__(self, urls: Mapping[str, str], token: str, http: HttpClient | None = None) -> None:
        self.urls = {service: url.rstrip("/") for service, url in urls.items()}
        self._headers = {"Authorization": f"Bearer {token}"}
        self._http: HttpClient = http or HttpxClient()

    def _call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        expect: tuple[int, ...] = (200, 201, 204),
    ) -> HttpResponse:
        url = f"{self.urls[service]}/_gosstand/control{path}"
        name = f"control: {service} {method} {path}"
        # The harness's own calls are not the target's traffic: a load recorder leaves them out.
        response = self._http.send(method, url, name=name, json=json, params=params, headers=self._headers,
                                   context={"record": False})
        if response.status not in expect:
            raise ControlError(name, response)
        return response

    # --- ESIA -------------------------------------------------------------------------------

    def register_client(
        self,
        client_id: str,
        *,
        redirect_uris: list[str],
        certificate: str | None,
        scopes: list[str] | None = None,
        signature_mode: str | None = None,
        timestamp_tolerance: int | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Register (or replace) an ESIA client system; ``certificate`` is PEM text.

        ``options`` go into the registration as they are: ``strict_state`` (the ``te`` state
        must differ from the ``ac`` state), ``required_level`` (``simplified`` | ``standard`` |
        ``confirmed``), ``organisations`` (OIDs the client may read with client_credentials),
        ``consent`` (``remember`` | ``always`` | ``never``)."""
        body: dict[str, Any] = {
            "client_id": client_id,
            "redirect_uris": redirect_uris,
            "certificate": certificate,
        }
        if scopes is not None:
            body["scopes"] = scopes
        if signature_mode is not None:
            body["signature_mode"] = signature_mode
        if timestamp_tolerance is not None:
            body["timestamp_tolerance"] = timestamp_tolerance
        body.update(options)
        return self._call("esia", "POST", "/clients", json=body).json()

    def set_client_faults(self, client_id: str, **faults: Any) -> dict[str, Any]:
        """Switch failures on (``True``) or off for one client system: ``expired_tokens``,
        ``premature_tokens`` (valid only in an hour), ``wrong_issuer``, ``tampered_signature``,
        ``overload`` (ESIA-007008), ``deny_consent`` (ESIA-007004); ``for_seconds`` limits them on
        the mock's clock."""
        return self._call("esia", "PATCH", f"/clients/{client_id}", json={"faults": faults}).json()

    def set_user_faults(self, oid: int, **faults: Any) -> dict[str, Any]:
        """The same switches for one person, whichever client they log in to."""
        return self._call("esia", "PATCH", f"/users/{oid}", json={"faults": faults}).json()

    def update_user(self, oid: int, **changes: Any) -> dict[str, Any]:
        """Change a seeded account: ``level``, ``second_factor``, ``totp_secret``."""
        return self._call("esia", "PATCH", f"/users/{oid}", json=changes).json()

    def create_organisation(self, **organisation: Any) -> dict[str, Any]:
        """Seed an organisation (``fullName``, ``shortName``, ``ogrn``, ``inn``, ``kpp``,
        ``type``, ``leg``, ``oktmo``, ``contacts``, ``addresses``, ``branches``,
        ``employees=[{"oid", "role", "chief"}]``) — ``russian_faker().organisation_record()``
        writes one — and return it with its ``oid`` and element ids."""
        return self._call("esia", "POST", "/organisations", json=organisation).json()

    def add_employee(self, org_oid: int, oid: int, *, role: str = "employee", chief: bool = False) -> dict[str, Any]:
        body = {"oid": oid, "role": role, "chief": chief}
        return self._call("esia", "POST", f"/organisations/{org_oid}/employees", json=body).json()

    def withdraw_consent(self, oid: int, client_id: str) -> None:
        """The person withdraws a client system's access at ESIA: the system's refresh tokens
        from their earlier logins stop working (``ESIA-007011``)."""
        self._call("esia", "DELETE", f"/users/{oid}/consents/{client_id}")

    def remove_employee(self, org_oid: int, oid: int) -> None:
        """The person leaves the organisation (their certificate for it no longer signs them in)."""
        self._call("esia", "DELETE", f"/organisations/{org_oid}/employees/{oid}")

    def organisation(self, org_oid: int) -> dict[str, Any]:
        return self._call("esia", "GET", f"/organisations/{org_oid}").json()

    def issue_certificate(self, oid: int | None, *, org_oid: int | None = None, **options: Any) -> dict[str, Any]:
        """The stand's test CA issues a certificate of an electronic signature to a seeded
        person (standard or confirmed), for signing in to ESIA with it. ``org_oid`` makes it the
        certificate of an employee acting for that organisation (OGRN and INNLE in the subject).
        ``options``: ``bits`` (256 | 512), ``qualified`` (False: without the qualified marks),
        ``expired`` (True: ended a day ago on the stand's clock), ``days`` (validity), and,
        with ``oid=None``, ``holder={"lastName", "firstName", "snils", "inn"}`` for someone
        ESIA has no account for. Returns ``serial`` (hex), ``certificate``, ``private_key``
        and ``ca_certificate`` (PEM), ``not_before``/``not_after`` (epoch seconds)."""
        body: dict[str, Any] = {**options} if oid is None else {"oid": oid, **options}
        if org_oid is not None:
            body["org_oid"] = org_oid
        return self._call("esia", "POST", "/certificates", json=body).json()

    def revoke_certificate(self, serial: str) -> dict[str, Any]:
        """Put a certificate the stand's CA issued on its revocation list (ESIA then refuses it)."""
        return self._call("esia", "POST", f"/certificates/{serial}/revoke").json()

    def mails(self, email: str) -> list[dict[str, Any]]:
        """The e-mails ESIA sent to ``email`` (activation links), oldest first."""
        return self._call("esia", "GET", "/mailbox", params={"email": email}).json()["messages"]

    def seed_user(self, **account: Any) -> int:
        """Create an ESIA account (``phone``, ``password``, ``person={...}``, ``email``, ``snils``,
        ``documents``, ``addresses``, ``vehicles``, ``kids``, ``oid``, ``level``
        — simplified | standard | confirmed —, ``second_factor`` — sms | totp —, ``totp_secret``)
        and return its OID. A TOTP secret is generated when none is given: read it back with
        :meth:`user` (``["second_factor"]["totp_secret"]``)."""
        return int(self._call("esia", "POST", "/users", json=account).json()["oid"])

    def user(self, oid: int) -> dict[str, Any]:
        return self._call("esia", "GET", f"/users/{oid}").json()

    def sms_messages(self, phone: str, *, last: int | None = None) -> list[dict[str, Any]]:
        """The SMS sent to ``phone``, oldest first (only the ``last`` few when given)."""
        params = {"phone": phone, **({"last": str(last)} if last else {})}
        return self._call("esia", "GET", "/outbox", params=params).json()["messages"]

    def read_sms(self, phone: str) -> str:
        """The code of the latest SMS sent to ``phone``."""
        messages = self.sms_messages(phone, last=1)
        if not messages:
            raise LookupError(f"no SMS was sent to {phone}")
        return str(messages[-1]["code"])

    # --- every service ----------------------------------------------------------------------

    def reset(self, service: str) -> None:
        """Forget all state of ``service`` (every replica)."""
        self._call(service, "POST", "/reset")

    def advance_clock(self, service: str, seconds: float) -> float:
        """Move ``service``'s clock forward; returns its new time (epoch seconds)."""
        return float(self._call(service, "POST", "/clock", json={"advance": seconds}).json()["now"])

    def now(self, service: str) -> float:
        return float(self._call(service, "GET", "/clock").json()["now"])

    def add_fault(self, service: str, **rule: Any) -> dict[str, Any]:
        """Set a fault rule on ``service`` (``kind="error", status=503, ttl=30``…); returns it
        with its ``id``. Every replica applies it once this returns."""
        return self._call(service, "POST", "/faults", json=rule).json()

    def faults(self, service: str) -> list[dict[str, Any]]:
        """``service``'s rules, each with the requests it ``matched`` and ``hit``."""
        return self._call(service, "GET", "/faults").json()["faults"]

    def remove_fault(self, service: str, rule_id: str) -> None:
        self._call(service, "DELETE", f"/faults/{rule_id}")

    def clear_faults(self, service: str) -> None:
        self._call(service, "DELETE", "/faults")

    def record_requests(self, service: str, on: bool = True) -> None:
        """Switch ``service``'s request journal on (or off)."""
        self._call(service, "POST", "/requests", json={"record": on})

    def recorded_requests(self, service: str, **filters: str | int) -> list[dict[str, Any]]:
        """Journal entries, oldest first; ``filters``: ``method``, ``path`` (a glob), ``status``,
        ``after`` (a sequence number), ``limit``."""
        params = {name: str(value) for name, value in filters.items()}
        return self._call(service, "GET", "/requests", params=params).json()["items"]

    def unmatched_requests(self, service: str, **filters: str | int) -> list[dict[str, Any]]:
        """Requests no API route of ``service`` took (a 404 or a 405 before any handler), each
        with ``nearMisses``: the routes most like the path that was sent."""
        return self.recorded_requests(service, unmatched="true", **filters)

    def verify(self, service: str, method: str, path: str, *, times: int | None = None,
               status: int | None = None) -> list[dict[str, Any]]:
        """Check that ``service`` received ``method path`` (``path`` a glob, e.g.
        ``/api/v1/declarations/*/withdrawal``) — exactly ``times`` times, or at least once —
        and return those journal entries. Otherwise raise :class:`RequestVerificationError`
        saying what came instead: the same path with other methods, and every unmatched request
        with the routes it nearly matched. The journal must be on (:meth:`record_requests`)."""
        filters: dict[str, str | int] = {"method": method, "path": path, "limit": 1000}
        if status is not None:
            filters["status"] = status
        entries = self.recorded_requests(service, **filters)
        if (len(entries) == times) if times is not None else bool(entries):
            return entries
        wanted = f"{times} time(s)" if times is not None else "at least once"
        lines = [f"{service} received {method.upper()} {path}"
                 + (f" answered {status}" if status is not None else "")
                 + f" {len(entries)} time(s), expected {wanted}"]
        others = [e for e in self.recorded_requests(service, path=path, limit=20) if e["method"] != method.upper()]
        lines += [f"  the same path with another method: {e['method']} {e['path']} → {e['status']}" for e in others]
        for entry in self.unmatched_requests(service, limit=20):
            near = ", ".join(f"{m['route']} ({' '.join(m['methods'])})" for m in entry["nearMisses"]) or "none"
            lines.append(f"  unmatched: {entry['method']} {entry['path']} → {entry['status']}; near misses: {near}")
        raise RequestVerificationError("\n".join(lines))
