"""``grant_type=client_credentials``: a client system reads an organisation's data on its own
behalf, no person involved (docs/esia.md §6).

Scopes name the organisation: ``http://esia.gosuslugi.ru/org_fullname?org_oid=1000000123``
(space separated, one organisation per request). The client must be registered for those
scope names (else :data:`~..errors.SCOPE_UNKNOWN`) and, when its registration lists ``organisations``, for that
organisation; an organisation ESIA does not know grants nothing (:data:`~..errors.NO_GRANTS`).
The answer is an access token whose subject is the organisation (``urn:esia:sbj_id`` = its
OID); there is no person, so no ``id_token`` and no refresh token.
"""

from __future__ import annotations

from ...core.context import ServiceContext
from ..accounts.one_time_codes import new_handle
from ..accounts.organisation_repository import OrganisationRepository
from ..errors import NO_GRANTS, SCOPE_UNKNOWN, EsiaError
from ..scopes import ORG_SCOPES
from .clients import ClientSystem
from .codes import Redeemed
from .grant_repository import Authorization
from .params import Params
from .tokens import ORG_SCOPE_PREFIX


def requested_org_scopes(params: Params, client: ClientSystem) -> tuple[int, list[str]]:
    """(organisation OID, scopes as written) of a client_credentials request, or :data:`~..errors.SCOPE_UNKNOWN`."""
    written = (params.get("scope") or "").split()
    org_oids: set[int] = set()
    wrong: list[str] = []
    for item in written:
        name, _, org = item.removeprefix(ORG_SCOPE_PREFIX).partition("?org_oid=")
        valid = (
            item.startswith(ORG_SCOPE_PREFIX)
            and name in ORG_SCOPES
            and name in client.scopes
            and org.isascii() and org.isdigit()
            and 0 < len(org) <= 16
        )
        if valid:
            org_oids.add(int(org))
        else:
            wrong.append(item[:120])
    if not written or wrong:
        raise EsiaError(
            SCOPE_UNKNOWN,
            f"Scope is unknown or not allowed for the client: {' '.join(wrong) or '(none)'}",
            state=params.state,
        )
    if len(org_oids) != 1:
        raise EsiaError(SCOPE_UNKNOWN, "Scopes must name one organisation (org_oid)", state=params.state)
    return org_oids.pop(), list(dict.fromkeys(written))


async def client_credentials_grant(
    ctx: ServiceContext, params: Params, client: ClientSystem, now: float
) -> Redeemed:
    org_oid, scopes = requested_org_scopes(params, client)
    permitted = client.organisations is None or org_oid in client.organisations
    if not permitted or not await OrganisationRepository(ctx.store).exists(org_oid):
        raise EsiaError(NO_GRANTS, "OAuthErrorEnum.noGrants", state=params.state)
    return Redeemed(Authorization(
        oid=org_oid,
        client_id=client.client_id,
        scopes=tuple(scopes),
        session_id=new_handle(),
        auth_time=now,
        method="CRT",
        subject_type="O",
    ))
