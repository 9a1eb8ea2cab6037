"""ESIA's OAuth flow: authorization requests, the login pages, codes, tokens, grants, consent, sessions."""
