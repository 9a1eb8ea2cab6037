"""Tokens that must not open anything, minted for the authentication rules.

The suite makes them itself where it can: a malformed one and a tampered signature from any real
token (``--access-token`` is enough); the rest from the target's ESIA through its control API —
a person logged in with ESIA's failure switches on (tokens already expired, valid only in an
hour, of another issuer), the same login's ID and refresh tokens, logins that withhold one
scope at a time, and — for ``openid``, which every person's token has — an organisation's
``client_credentials`` token. A kind the target cannot give is kept with the reason, and the rules that need
it skip saying so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .suite_esia import CONFORMANCE_SCOPES, SuiteEsia
from .targets import EsiaSession, TargetUnavailable

__all__ = ["BadTokens", "mint_bad_tokens", "tampered", "withheld"]

#: A bearer value that is no JWT at all (three parts, none of them base64 JSON).
MALFORMED = "gosstand.not-a-jwt.!"
#: ESIA's failure switch behind each kind of spoiled token.
SWITCHES = {"expired": "expired_tokens", "premature": "premature_tokens", "foreign_issuer": "wrong_issuer"}


def withheld(scope: str) -> str:
    """The kind of token that lacks ``scope`` (all else as the suite's login asks)."""
    return f"without:{scope}"


def tampered(token: str) -> str:
    """``token`` with one character in the middle of its signature changed (not the last
    character, whose padding bits may not count)."""
    head, _, signature = token.rpartition(".")
    middle = len(signature) // 2
    swapped = "A" if signature[middle] != "A" else "B"
    return f"{head}.{signature[:middle]}{swapped}{signature[middle + 1:]}"


@dataclass(frozen=True)
class BadTokens:
    """Minted tokens by kind, and why a kind could not be minted."""

    tokens: Mapping[str, str]
    unavailable: Mapping[str, str]

    def token(self, kind: str) -> str:
        if kind in self.tokens:
            return self.tokens[kind]
        raise TargetUnavailable(self.unavailable.get(kind, f"no {kind} token was minted"))


def mint_bad_tokens(session: EsiaSession, esia: SuiteEsia | None, *, withhold: Iterable[str] = ()) -> BadTokens:
    """Every kind of token the rules ask with. ``session`` is the suite's good login; ``esia``
    its client at a target with a control API (``None``: only what a token alone gives);
    ``withhold``: scopes to mint a token without, one at a time."""
    tokens = {"malformed": MALFORMED, "tampered": tampered(session.access_token)}
    unavailable: dict[str, str] = {}
    no_control = ("needs ESIA's control API to mint (pass --control-token, or GOSSTAND_CONTROL_TOKEN, for a "
                  "target that trusts the stand's ESIA)")
    kinds = [*SWITCHES, "id_token", "refresh_token", *(withheld(scope) for scope in withhold)]
    if esia is None:
        return BadTokens(tokens, dict.fromkeys(kinds, no_control))
    person = esia.seed_person()
    login = esia.log_in(person)
    tokens["id_token"], tokens["refresh_token"] = login.id_token, login.refresh_token
    for kind, switch in SWITCHES.items():
        tokens[kind] = esia.log_in(person, faults=[switch]).access_token
    for scope in withhold:
        if scope == "openid":
            # ESIA issues no person's token without openid (ESIA-007013): an organisation's
            # client_credentials token is the valid one that lacks it.
            tokens[withheld(scope)] = esia.organisation_token(esia.seed_organisation(person)["oid"])
            continue
        kept = [name for name in CONFORMANCE_SCOPES if name != scope]
        tokens[withheld(scope)] = esia.log_in(person, scopes=kept).access_token
    return BadTokens(tokens, unavailable)
