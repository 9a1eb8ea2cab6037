"""ESIA's cryptography: GOST R 34.10-2012 and Streebog, CMS, client signatures, certificates, keys."""
