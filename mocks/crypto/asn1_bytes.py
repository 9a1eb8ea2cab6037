"""The bytes a parsed ASN.1 value arrived as.

asn1crypto's ``dump()`` of a value it parsed is meant to return the received bytes, but it takes
any header whose last byte is ``0x80`` for an indefinite length and re-encodes the value from its
children. A definite length such as 128, 384 or 640 bytes ends in that byte too (``30 81 80``,
``30 82 01 80``), so roughly one certificate, name or attribute set in 256 is re-encoded:

- where the subtree holds a GOST public key, asn1crypto cannot parse it and raises ``KeyError``
  (seen: one signature login in about twelve refused as "not DER CMS" in the conformance suite);
- elsewhere the re-encoding may differ from what was signed, and a valid signature would fail.

Every parsed value whose bytes are checked, hashed or handed on goes through :func:`as_received`
instead: the header, contents and trailer exactly as read.
"""

from __future__ import annotations

from asn1crypto.core import Asn1Value, Choice

__all__ = ["as_received"]


def as_received(value: Asn1Value) -> bytes:
    """``value``'s encoding as it was read; a value built in this process (never read) has none
    yet, so it is encoded."""
    if isinstance(value, Choice) and not value._header:
        return as_received(value.chosen)  # an untagged choice (a Name) keeps only its alternative's contents
    header: bytes | None = value._header  # the library keeps the read header only here
    if header is None:
        return value.dump()
    return header + value.contents + value._trailer
