"""The cryptography more than one mock uses: GOST R 34.10-2012 and Streebog through the system
OpenSSL's gost engine (:mod:`.gost`), GOST-signed JWS (:mod:`.gost_jws`), and reading and checking
CMS SignedData (:mod:`.cms_der`, :mod:`.cms_signature`) — ESIA's client secrets and tokens, FTS's
document signatures, the tokens UTKO and FTS accept. It imports nothing of the mocks: the services
and the core build on it, never the other way round. ESIA's own keys, certificates and
client-secret rules stay in ``esia/crypto``.
"""
