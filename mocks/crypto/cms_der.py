"""The fields of a CMS SignedData a signature check needs, read in one pass over plain DER.

Every login checks ``client_secret`` twice (at ``ac`` and at ``te``), and asn1crypto's typed
parse of a SignedData costs about 200 µs here, eight times the RSA verification it serves.
This reader walks the same structure (RFC 5652 §5) by its DER headers alone (X.690 §8.1),
keeping offsets into the input and copying only the fields it returns; the signed attributes
are returned exactly as they were encoded, since that is what was signed. It declines with
:class:`Unusual` on anything it was not written for (indefinite lengths, a constructed octet
string, an unexpected tag, trailing bytes, garbage), and :func:`.cms_signature.parse_signed_data`
then asks asn1crypto's typed parser, so unusual input still gets the library's judgement.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from asn1crypto import algos, core

_SIGNED_DATA = core.ObjectIdentifier("1.2.840.113549.1.7.2").contents
_MESSAGE_DIGEST = core.ObjectIdentifier("1.2.840.113549.1.9.4").contents
# identifier octets (X.690 §8.1.2): class, constructed bit and tag number in one byte
_INTEGER, _OCTET_STRING, _OID, _SEQUENCE, _SET = 0x02, 0x04, 0x06, 0x30, 0x31
_CONTEXT_0, _CONTEXT_1 = 0xA0, 0xA1


class Unusual(Exception):
    """The input is not the plain DER shape this reader handles (it may still be valid BER)."""


class NotSignedData(Exception):
    """Well-formed DER of some other CMS content type."""


@dataclass(frozen=True, slots=True)
class SignerView:
    """The parts of one SignerInfo a check needs, read without parsing the rest (embedded
    certificates above all: parsing them costs more than the RSA verification)."""

    digest: str
    signature: bytes
    signed_attributes: bytes | None  # DER of the SET OF attributes, as signed
    message_digests: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class CmsView:
    attached: bytes | None
    signers: tuple[SignerView, ...]


#: One encoded value inside the input: (identifier octet, start of its header, start of its
#: content, end of its content) — offsets, so nothing is copied until a field is kept.
_Value = tuple[int, int, int, int]


def _value_at(der: bytes, start: int, limit: int) -> _Value:
    """The value whose header starts at ``start`` (definite lengths only, single-byte tags)."""
    if start + 2 > limit:
        raise Unusual("truncated header")
    identifier, length = der[start], der[start + 1]
    if identifier & 0x1F == 0x1F:
        raise Unusual("multi-byte tag")
    content = start + 2
    if length & 0x80:
        size = length & 0x7F
        if size == 0 or size > 4:
            raise Unusual("indefinite or huge length")
        length = int.from_bytes(der[content : content + size], "big")
        content += size
    end = content + length
    if end > limit:
        raise Unusual("value runs past its container")
    return identifier, start, content, end


def _children(der: bytes, parent: _Value) -> list[_Value]:
    values = []
    position, limit = parent[2], parent[3]
    while position < limit:
        value = _value_at(der, position, limit)
        values.append(value)
        position = value[3]
    return values


def _expect(value: _Value, identifier: int) -> _Value:
    if value[0] != identifier:
        raise Unusual(f"expected identifier {identifier:#04x}, found {value[0]:#04x}")
    return value


def _content(der: bytes, value: _Value) -> bytes:
    return der[value[2] : value[3]]


@lru_cache(maxsize=64)
def _digest_name(oid_der: bytes) -> str:
    """asn1crypto's name for a digest algorithm (``sha256``), or its dotted OID when it has none."""
    return algos.DigestAlgorithmId.map(core.ObjectIdentifier.load(oid_der).dotted)


def _signed_attributes(der: bytes, attributes: _Value) -> tuple[bytes, tuple[bytes, ...]]:
    """The attributes as signed (RFC 5652 §5.4: re-tagged as a SET OF) and the messageDigest values."""
    digests = []
    for attribute in _children(der, attributes):
        attribute_type, values, *_ = _children(der, _expect(attribute, _SEQUENCE))
        if _content(der, _expect(attribute_type, _OID)) == _MESSAGE_DIGEST:
            first = _children(der, _expect(values, _SET))[0]
            digests.append(_content(der, _expect(first, _OCTET_STRING)))
    return bytes([_SET]) + der[attributes[1] + 1 : attributes[3]], tuple(digests)


def _signer(der: bytes, signer_info: _Value) -> SignerView:
    fields = _children(der, _expect(signer_info, _SEQUENCE))
    if len(fields) < 5:
        raise Unusual("short SignerInfo")
    algorithm = _expect(_children(der, _expect(fields[2], _SEQUENCE))[0], _OID)
    rest = fields[3:]
    signed: bytes | None = None
    digests: tuple[bytes, ...] = ()
    if rest[0][0] == _CONTEXT_0:
        if rest[0][2] < rest[0][3]:  # an empty SET counts as none, as asn1crypto reads it
            signed, digests = _signed_attributes(der, rest[0])
        rest = rest[1:]
    if len(rest) < 2:
        raise Unusual("no signature")
    return SignerView(
        digest=_digest_name(der[algorithm[1] : algorithm[3]]),
        signature=_content(der, _expect(rest[1], _OCTET_STRING)),
        signed_attributes=signed,
        message_digests=digests,
    )


def _attached(der: bytes, encapsulated: _Value) -> bytes | None:
    fields = _children(der, _expect(encapsulated, _SEQUENCE))
    if len(fields) == 1:
        return None
    (content,) = _children(der, _expect(fields[1], _CONTEXT_0))
    return _content(der, _expect(content, _OCTET_STRING))


def read_signed_data(der: bytes) -> CmsView:
    """ContentInfo → SignedData → the encapsulated content and each SignerInfo's fields.

    Raises :class:`NotSignedData` for another content type, :class:`Unusual` for whatever
    this reader leaves to the typed parser (including malformed input)."""
    try:
        content_info = _expect(_value_at(der, 0, len(der)), _SEQUENCE)
        if content_info[3] != len(der):
            raise Unusual("trailing bytes")
        content_type, explicit = _children(der, content_info)
        if _content(der, _expect(content_type, _OID)) != _SIGNED_DATA:
            raise NotSignedData
        (signed_data,) = _children(der, _expect(explicit, _CONTEXT_0))
        fields = _children(der, _expect(signed_data, _SEQUENCE))
        _expect(fields[0], _INTEGER)
        _expect(fields[1], _SET)
        signer_infos = _expect(fields[-1], _SET)
        if len(fields) < 4 or any(f[0] not in (_CONTEXT_0, _CONTEXT_1) for f in fields[3:-1]):
            raise Unusual("unexpected fields in SignedData")
        return CmsView(
            attached=_attached(der, fields[2]),
            signers=tuple(_signer(der, s) for s in _children(der, signer_infos)),
        )
    except (Unusual, NotSignedData):
        raise
    except (ValueError, IndexError) as exc:  # a container with the wrong number of fields
        raise Unusual(type(exc).__name__) from None
