"""ESIA's own key material (its RSA and GOST token-signing pairs), client certificates and the
client_secret rules; the GOST and CMS primitives it shares with FTS are in ``mocks/crypto``."""
